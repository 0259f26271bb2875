import VigilIR

/// Moves a Transpose below the elementwise unary op that reads it (Transpose→Relu becomes
/// Relu→Transpose), so that the layout transposes an importer puts around each convolution
/// (NCHW → NHWC → activation → NCHW) meet and cancel in `merge-layout-ops`.
public struct TransposeSinking: OptimizationPass {
    public let name = "sink-transposes"
    public init() {}

    /// Unary ops that act elementwise and so commute with any transpose.
    static let elementwise: Set<String> = [
        "Relu", "LeakyRelu", "Elu", "Selu", "Celu", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh", "Softplus",
        "Softsign", "Gelu", "Erf", "Clip", "Exp", "Log", "Sqrt", "Reciprocal", "Abs", "Neg", "Floor", "Ceil",
        "Round", "Sign", "Identity", "Not",
    ]

    public func run(on model: inout Model) throws -> PassStats {
        var stats = PassStats()
        var graph = model.graph
        let captured = graph.capturedBySubgraphs
        for id in graph.nodeIDs {
            guard let transpose = graph.node(id), transpose.opType == "Transpose", transpose.domain.isEmpty,
                  let output = transpose.outputs.first, graph.readerCount(output, captured: captured) == 1,
                  let use = graph.users(of: output).first, use.slot == 0
            else { continue }
            let unary = graph[use.node]
            // Clip's min/max inputs are scalars, which commute with a transpose as well.
            guard unary.domain.isEmpty, Self.elementwise.contains(unary.opType), unary.outputs.count == 1,
                  let result = unary.outputs.first, !result.isEmpty
            else { continue }
            let moved = graph.freshName(result + "_untransposed")
            var newUnary = unary
            newUnary.inputs[0] = transpose.inputs[0]
            newUnary.outputs = [moved]
            var newTranspose = transpose
            newTranspose.inputs = [moved]
            newTranspose.outputs = [result]
            graph.removeNode(id)
            try graph.replaceNode(use.node, with: newUnary)
            try graph.addNode(newTranspose)
            stats.otherChanges += 1
        }
        if stats.changed {
            try graph.sortTopologically()
            graph.pruneValueInfo()
        }
        model.graph = graph
        return stats
    }
}
