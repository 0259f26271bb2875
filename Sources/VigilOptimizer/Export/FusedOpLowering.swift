import VigilIR
import VigilOps

extension ExportTransforms {
    /// Writes Vigil's fused ops (domain `ai.vigil`) back as standard ONNX ops, valid at the model's
    /// default-domain opset, so that any ONNX runtime loads the file: `FusedConv(X, W, B, Z)` becomes
    /// Conv → Add(Z) → activation, `FusedGemm` Gemm → activation and `FusedBatchNormalization`
    /// BatchNormalization → activation. Clip takes its bounds as
    /// attributes below opset 11 and as constant inputs from 11 (an infinite bound is omitted);
    /// HardSwish below opset 14 becomes x · HardSigmoid(x; α = 1/6, β = 0.5). `QConv` and `QMatMul`
    /// become their QDQ patterns again (`quantizedLowering(_:opset:graph:)`). The `ai.vigil` opset
    /// import is dropped when no node of that domain remains. Returns the number of nodes lowered.
    @discardableResult
    public static func lowerFusedOps(_ model: inout Model) throws -> Int {
        let opset = Int(model.opsetVersion(for: "") ?? 1)
        var count = 0
        model.graph = try lowered(model.graph, opset: opset, count: &count)
        let vigilNodes = model.functions.flatMap(\.nodes) + allNodes(model.graph)
        if !vigilNodes.contains(where: { $0.domain == FusedOps.domain }) {
            model.opsetImports.removeAll { $0.domain == FusedOps.domain }
        }
        return count
    }

    /// Every node of a graph and of its subgraphs.
    static func allNodes(_ graph: Graph) -> [Node] {
        graph.nodes.flatMap { [$0] + $0.subgraphs.flatMap(allNodes) }
    }

    static func lowered(_ source: Graph, opset: Int, count: inout Int) throws -> Graph {
        var graph = source
        let order = graph.nodeIDs
        for (position, id) in order.enumerated() {
            var node = graph[id]
            for index in node.attributes.indices {
                switch node.attributes[index].value {
                case .graph(let subgraph): node.attributes[index].value = .graph(try lowered(subgraph, opset: opset, count: &count))
                case .graphs(let subgraphs): node.attributes[index].value = .graphs(try subgraphs.map { try lowered($0, opset: opset, count: &count) })
                default: break
                }
            }
            if node.domain == FusedOps.domain, ["FusedConv", "FusedGemm", "FusedBatchNormalization", "QConv", "QMatMul", "QAdd", "QActivation", "QMaxPool"].contains(node.opType) {
                let replacements = switch node.opType {
                case "QConv", "QMatMul": try quantizedLowering(node, opset: opset, graph: &graph)
                case "QAdd", "QActivation", "QMaxPool": try quantizedElementwiseLowering(node, opset: opset, graph: &graph)
                default: try lowering(node, opset: opset, graph: &graph)
                }
                graph.removeNode(id)
                for replacement in replacements {
                    if position + 1 < order.count { try graph.insertNode(replacement, before: order[position + 1]) } else { try graph.addNode(replacement) }
                }
                count += 1
            } else if node != graph[id] {
                try graph.replaceNode(id, with: node)
            }
        }
        return graph
    }

    /// The standard nodes computing a fused node, in order; constants they need are added to `graph`.
    static func lowering(_ fused: Node, opset: Int, graph: inout Graph) throws -> [Node] {
        let activation: FusedActivation?
        do {
            activation = try FusedActivation(fusedNode: OpContext(node: fused, opset: FusedOps.version, inputTypes: [], inputValues: []))
        } catch {
            throw OptimizerError(pass: "lower-fused-ops", message: "\(fused.label): \(error)")
        }
        guard fused.outputs.count == 1, let output = fused.outputs.first, !output.isEmpty else {
            throw OptimizerError(pass: "lower-fused-ops", message: "\(fused.label) must have one output")
        }
        let stem = fused.name.isEmpty ? output : fused.name
        let base = String(fused.opType.dropFirst("Fused".count))
        // BatchNormalization's five operands; Conv's and Gemm's three, then Conv's residual.
        let operands = base == "BatchNormalization" ? 5 : 3
        var inputs = Array(fused.inputs.prefix(operands))
        while inputs.last == "" { inputs.removeLast() }
        let residual = fused.inputs.count > operands && !fused.inputs[operands].isEmpty ? fused.inputs[operands] : nil
        var nodes = [Node(name: fused.name, opType: base, inputs: inputs, outputs: [output],
                          attributes: fused.attributes.filter { !["activation", "activation_params"].contains($0.name) },
                          docString: fused.docString, metadata: fused.metadata)]
        /// Makes the last node write a fresh intermediate and returns that name.
        func intermediate(_ suffix: String) -> String {
            let name = graph.freshName("\(output)_\(suffix)")
            nodes[nodes.count - 1].outputs = [name]
            return name
        }
        if let residual {
            nodes.append(Node(name: "\(stem)_add", opType: "Add", inputs: [intermediate(base.lowercased()), residual], outputs: [output]))
        }
        guard let activation else { return nodes }
        let x = intermediate(residual == nil ? base.lowercased() : "sum")
        var constants: [(String, Tensor)] = []
        let fresh = FreshNames(graph)
        let lowering = ActivationLowering(
            opType: activation.opType, parameters: activation.parameters, opset: opset, input: x, output: output, stem: stem,
            freshName: { fresh($0) },
            addConstant: { base, tensor in
                let name = fresh(base)
                constants.append((name, tensor))
                return name
            })
        nodes += try activation.lowered(lowering)
        for (name, tensor) in constants { graph.setInitializer(name, tensor) }
        return nodes
    }
}
