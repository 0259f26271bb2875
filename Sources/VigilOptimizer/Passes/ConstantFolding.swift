import VigilIR
import VigilOps

/// Replaces nodes whose outputs are constants with initializers, under a size cap: values that
/// inference knows (a `Shape` of a static shape, and so the Shape → Gather → Unsqueeze → Concat →
/// Reshape chains exporters emit), and nodes whose inputs are all constant, evaluated by the
/// context's `ConstantEvaluator` (the executor's kernels, wired in by the command line).
///
/// Initializers count as constants; the `initializers-not-inputs` pass runs first so that none of
/// them can be overridden at run time. Nodes whose op enlarges the model when folded
/// (`OpTraits.enlargesWhenFolded` in VigilOps: DequantizeLinear), and nodes computed from them, are kept.
public struct ConstantFolding: GraphRewritePass {
    public let name = "fold-constants"
    /// Largest folded output, in bytes.
    public var maximumBytes: Int

    public init(maximumBytes: Int = 64 << 20) { self.maximumBytes = maximumBytes }

    public var evaluatesConstants: Bool { true }

    public func rewrite(_ r: inout Rewrite) throws {
        // Values computed from an op whose folding enlarges the model (DequantizeLinear of int8 weights)
        // stay computed, so that a written model keeps its compact weights.
        var expanding = Set<String>()
        for id in r.graph.nodeIDs {
            let node = r.graph[id]
            let descriptor = r.context.registry.descriptor(for: node, opset: r.opsets.version(for: node.domain))
            if descriptor?.traits.enlargesWhenFolded == true || node.inputs.contains(where: expanding.contains) {
                expanding.formUnion(node.outputs)
                continue
            }
            let outputs = node.outputs.filter { !$0.isEmpty }
            // A folded graph output becomes an initializer of the same name, as ONNX allows.
            guard node.subgraphs.isEmpty, !outputs.isEmpty, outputs.allSatisfy({ !r.captured.contains($0) }) else { continue }
            let values = outputs.compactMap { r.analysis.constants[$0] }
            guard values.count == outputs.count, values.reduce(0, { $0 + $1.byteCount }) <= maximumBytes else { continue }
            r.graph.removeNode(id)
            for (output, value) in zip(outputs, values) where r.readers(of: output) > 0 {
                r.graph.setInitializer(output, value)
            }
            r.stats.nodesRemoved += 1
        }
    }
}

/// Initializers listed as graph inputs (required below IR 4) become plain constants, so that the
/// other passes may fold them. The model's real inputs are unchanged.
public struct InitializersNotInputs: OptimizationPass {
    public let name = "initializers-not-inputs"
    public init() {}

    public func run(on model: inout Model, context: PassContext) throws -> PassStats {
        let before = model.graph.inputs.count
        let graph = model.graph
        model.graph.inputs.removeAll { graph.initializer($0.name) != nil }
        let removed = before - model.graph.inputs.count
        if removed > 0 && model.irVersion < 4 { model.irVersion = 4 }
        return PassStats(otherChanges: removed)
    }
}
