import VigilIR
import VigilOps

/// Fuses a Conv, Gemm or inference BatchNormalization with the activation that reads it — any op whose
/// descriptor has a fusable `OpTraits.activation` with constant parameters (Relu, LeakyRelu, Clip,
/// Sigmoid, Tanh, HardSwish, Gelu, Mish, …) — into Vigil's `FusedConv` / `FusedGemm` /
/// `FusedBatchNormalization` (domain `ai.vigil`, see `FusedOps`), which the executor applies as it
/// writes the output (a BatchNormalization that no Conv absorbs: DenseNet's BatchNormalization → Relu
/// pairs, one pass over the tensor instead of two). A Conv (or a FusedConv
/// with neither activation nor residual) followed by the Add (or two-input Sum) of a residual Z of
/// exactly its shape (static sizes, or the same symbols) becomes a FusedConv reading Z as input 3, and
/// an activation after that Add fuses too:
/// act(Conv(X, W, B) + Z). The fused op's output must be read only by the absorbed node, and the
/// fused node takes over that node's output name (and is named after it).
///
/// The pass runs last in the default pipeline so that the folding passes see plain Conv and Gemm
/// nodes first. A later round can still enable a rewrite after a fusion happened:
/// `fold-batchnorm-forward` therefore also folds into FusedConv/FusedGemm consumers, and a Conv or
/// Gemm with an identical twin (same inputs and attributes, which `cse` merges next round) is left
/// alone so that different activations cannot keep the twins apart. The other folding passes read
/// the Conv/Gemm output itself, which a fusion only ever takes from an activation or residual Add.
/// `ExportTransforms.lowerFusedOps` turns the fused ops back into standard ONNX.
public struct ActivationFusion: GraphRewritePass {
    public let name = "fuse-activations"
    public init() {}

    public func rewrite(_ r: inout Rewrite) throws {
        let twins = Self.twins(in: r.graph)
        for id in r.graph.nodeIDs where !twins.contains(id) {
            while let node = r.graph.node(id), let (fused, absorbed) = Self.fusion(of: node, in: r) {
                r.graph.removeNode(absorbed)
                try r.graph.replaceNode(id, with: fused)
                r.stats.nodesFused += 1
            }
        }
        if r.stats.changed { r.imports.append(OpsetImport(domain: FusedOps.domain, version: Int64(FusedOps.version))) }
    }

    /// The base op ("Conv", "Gemm" or "BatchNormalization") of a plain or fused Conv/Gemm/BatchNormalization
    /// node, or `nil`. A BatchNormalization counts only in inference mode (`training_mode` 0).
    static func base(_ node: Node) -> String? {
        for base in ["Conv", "Gemm", "BatchNormalization"] where node.isOp(base) || (node.domain == FusedOps.domain && node.opType == "Fused" + base) {
            if base == "BatchNormalization", case .int(let mode)? = node.attribute("training_mode"), mode != 0 { return nil }
            return base
        }
        return nil
    }

    /// The next fusion of `node`: the fused node and the node it absorbs, or `nil`.
    static func fusion(of node: Node, in r: Rewrite) -> (Node, NodeID)? {
        let graph = r.graph, analysis = r.analysis
        guard let base = base(node), node.outputs.count == 1, let y = node.outputs.first, !y.isEmpty,
              analysis.types[y]?.dtype == .float32, r.readers(of: y) == 1,
              let use = graph.users(of: y).first, let consumer = graph.node(use.node),
              consumer.isDefaultDomain, consumer.outputs.count == 1, let output = consumer.outputs.first,
              !output.isEmpty, node.attribute("activation") == nil
        else { return nil }
        var fused = node
        fused.domain = FusedOps.domain
        fused.opType = "Fused" + base
        fused.name = output
        fused.outputs = [output]
        if use.slot == 0, let activation = activation(consumer, in: r) {
            fused.setAttribute("activation", .string(Array(activation.opType.utf8)))
            if !activation.parameters.isEmpty { fused.setAttribute("activation_params", .floats(activation.parameters)) }
            return (fused, use.node)
        }
        // A residual: Add(y, Z) (or a Sum of the two) with Z of y's shape (no broadcasting; sizes or the same
        // symbols), not a constant (those are for fold-affine-into-conv), on a Conv that has no residual yet.
        guard base == "Conv", consumer.opType == "Add" || consumer.opType == "Sum", consumer.inputs.count == 2,
              node.inputs.count < 4 || node.inputs[3].isEmpty else { return nil }
        let z = consumer.inputs[1 - use.slot]
        guard !z.isEmpty, z != y, analysis.constants[z] == nil, analysis.types[z]?.dtype == .float32,
              let shape = analysis.knownShape(y), analysis.knownShape(z) == shape, analysis.knownShape(output) == shape
        else { return nil }
        fused.inputs = Array(node.inputs.prefix(3)) + [String](repeating: "", count: max(0, 3 - node.inputs.count)) + [z]
        return (fused, use.node)
    }

    /// The activation a node applies to its first input, when a fused op can apply it instead: a
    /// fusable activation whose parameters are constants.
    static func activation(_ node: Node, in r: Rewrite) -> FusedActivation? {
        guard let opset = r.opsets.version(for: node.domain) else { return nil }
        let types = node.inputs.map { $0.isEmpty ? nil : r.analysis.types[$0] }
        let values = node.inputs.map { $0.isEmpty ? nil : r.analysis.constants[$0] }
        let context = OpContext(node: node, opset: opset, inputTypes: types, inputValues: values,
                                descriptor: r.context.registry.descriptor(for: node, opset: opset))
        return (try? FusedActivation(activationNode: context)) ?? nil
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
