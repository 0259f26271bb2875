import VigilIR
import VigilOps

/// Fuses a Conv or Gemm with the activation that reads it (Relu, LeakyRelu, Clip with constant
/// bounds, Sigmoid, Tanh, HardSwish) into Vigil's `FusedConv` / `FusedGemm` (domain `ai.vigil`, see
/// ``FusedOps``), which the executor applies as it writes the GEMM output. A Conv (or a FusedConv with
/// neither activation nor residual) followed by the Add of a residual Z of exactly its static shape
/// becomes a FusedConv reading Z as input 3, and an activation after that Add fuses too:
/// act(Conv(X, W, B) + Z). The fused op's output must be read only by the absorbed node, and the
/// fused node takes over that node's output name (and is named after it). Clip's missing bounds are
/// ±∞ from opset 11 (inputs) and ±`Float.greatestFiniteMagnitude` below it (the attribute defaults).
///
/// The pass runs last in the default pipeline so that the folding passes see plain Conv and Gemm
/// nodes first. A later round can still enable a rewrite after a fusion happened:
/// `fold-batchnorm-forward` therefore also folds into FusedConv/FusedGemm consumers, and a Conv or
/// Gemm with an identical twin (same inputs and attributes, which `cse` merges next round) is left
/// alone so that different activations cannot keep the twins apart. The other folding passes read
/// the Conv/Gemm output itself, which a fusion only ever takes from an activation or residual Add.
/// `ExportTransforms.lowerFusedOps` turns the fused ops back into standard ONNX.
public struct ActivationFusion: OptimizationPass {
    public let name = "fuse-activations"
    public init() {}

    public func run(on model: inout Model) throws -> PassStats {
        var stats = PassStats()
        let analysis = GraphAnalysis(model)
        let opset = Int(model.opsetVersion(for: "") ?? 1)
        var graph = model.graph
        let captured = graph.capturedBySubgraphs
        let twins = Self.twins(in: graph)
        for id in graph.nodeIDs where !twins.contains(id) {
            while let node = graph.node(id), let (fused, absorbed) = Self.fusion(of: node, in: graph, analysis: analysis, captured: captured, opset: opset) {
                graph.removeNode(absorbed)
                try graph.replaceNode(id, with: fused)
                stats.nodesFused += 1
            }
        }
        if stats.changed {
            try graph.sortTopologically()
            graph.pruneValueInfo()
            if model.opsetVersion(for: FusedOps.domain) == nil {
                model.opsetImports.append(OpsetImport(domain: FusedOps.domain, version: Int64(FusedOps.version)))
            }
        }
        model.graph = graph
        return stats
    }

    /// The base op ("Conv" or "Gemm") of a plain or fused Conv/Gemm node, or `nil`.
    static func base(_ node: Node) -> String? {
        switch (node.domain, node.opType) {
        case ("", "Conv"), ("ai.onnx", "Conv"), (FusedOps.domain, "FusedConv"): "Conv"
        case ("", "Gemm"), ("ai.onnx", "Gemm"), (FusedOps.domain, "FusedGemm"): "Gemm"
        default: nil
        }
    }

    /// The next fusion of `node`: the fused node and the node it absorbs, or `nil`.
    static func fusion(of node: Node, in graph: Graph, analysis: GraphAnalysis, captured: Set<String>, opset: Int) -> (Node, NodeID)? {
        guard let base = base(node), node.outputs.count == 1, let y = node.outputs.first, !y.isEmpty,
              analysis.types[y]?.dtype == .float32, graph.readerCount(y, captured: captured) == 1,
              let use = graph.users(of: y).first, let consumer = graph.node(use.node),
              consumer.domain.isEmpty || consumer.domain == "ai.onnx", consumer.outputs.count == 1, let output = consumer.outputs.first,
              !output.isEmpty, node.attribute("activation") == nil
        else { return nil }
        var fused = node
        fused.domain = FusedOps.domain
        fused.opType = "Fused" + base
        fused.name = output
        fused.outputs = [output]
        if use.slot == 0, let activation = activation(consumer, analysis: analysis, opset: opset) {
            fused.setAttribute("activation", .string(Array(activation.opType.utf8)))
            if !activation.parameters.isEmpty { fused.setAttribute("activation_params", .floats(activation.parameters)) }
            return (fused, use.node)
        }
        // A residual: Add(y, Z) with Z of y's static shape (no broadcasting), not a constant (those are
        // for fold-affine-into-conv), on a Conv that has no residual yet.
        guard base == "Conv", consumer.opType == "Add", consumer.inputs.count == 2, node.inputs.count < 4 || node.inputs[3].isEmpty else { return nil }
        let z = consumer.inputs[1 - use.slot]
        guard !z.isEmpty, z != y, analysis.constants[z] == nil, analysis.types[z]?.dtype == .float32,
              let shape = analysis.staticShape(y), analysis.staticShape(z) == shape, analysis.staticShape(output) == shape
        else { return nil }
        fused.inputs = Array(node.inputs.prefix(3)) + [String](repeating: "", count: max(0, 3 - node.inputs.count)) + [z]
        return (fused, use.node)
    }

    /// The activation a node applies to its first input, when a fused op can apply it instead.
    static func activation(_ node: Node, analysis: GraphAnalysis, opset: Int) -> FusedActivation? {
        switch node.opType {
        case "Relu" where node.inputs.count == 1: return .relu
        case "Sigmoid" where node.inputs.count == 1: return .sigmoid
        case "Tanh" where node.inputs.count == 1: return .tanh
        case "HardSwish" where node.inputs.count == 1: return .hardSwish
        case "LeakyRelu" where node.inputs.count == 1:
            guard let alpha = floatAttribute(node, "alpha", default: 0.01) else { return nil }
            return .leakyRelu(alpha: alpha)
        case "Clip" where opset < 11 && node.inputs.count == 1:
            guard let low = floatAttribute(node, "min", default: -.greatestFiniteMagnitude),
                  let high = floatAttribute(node, "max", default: .greatestFiniteMagnitude)
            else { return nil }
            return .clip(min: low, max: high)
        case "Clip" where opset >= 11 && (1...3).contains(node.inputs.count):
            guard let low = bound(node, 1, analysis: analysis, missing: -.infinity),
                  let high = bound(node, 2, analysis: analysis, missing: .infinity)
            else { return nil }
            return .clip(min: low, max: high)
        default: return nil
        }
    }

    /// A FLOAT attribute, `fallback` when absent, `nil` when of another kind.
    static func floatAttribute(_ node: Node, _ name: String, default fallback: Float) -> Float? {
        guard let value = node.attribute(name) else { return fallback }
        guard case .float(let float) = value else { return nil }
        return float
    }

    /// A Clip bound input: a constant float32 scalar, `missing` when omitted, `nil` otherwise.
    static func bound(_ node: Node, _ index: Int, analysis: GraphAnalysis, missing: Float) -> Float? {
        guard node.inputs.count > index, !node.inputs[index].isEmpty else { return missing }
        guard let values = analysis.constants[node.inputs[index]]?.floats, values.count == 1 else { return nil }
        return values[0]
    }

    /// Conv/Gemm nodes with an identical twin (same op, inputs and attributes), which `cse` merges.
    static func twins(in graph: Graph) -> Set<NodeID> {
        var groups: [[String]: [NodeID]] = [:]
        for id in graph.nodeIDs where base(graph[id]) != nil {
            groups[[graph[id].domain, graph[id].opType] + graph[id].inputs, default: []].append(id)
        }
        var twins = Set<NodeID>()
        for group in groups.values where group.count > 1 {
            for (index, a) in group.enumerated() {
                for b in group[(index + 1)...] where graph[a].attributes == graph[b].attributes { twins.formUnion([a, b]) }
            }
        }
        return twins
    }
}
