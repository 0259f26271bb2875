import VigilIR

/// MatMul of a 2-D input by a constant 2-D matrix followed by the addition of a constant row vector
/// becomes one Gemm.
public struct MatMulAddToGemm: OptimizationPass {
    public let name = "matmul-add-to-gemm"
    public init() {}

    public func run(on model: inout Model) throws -> PassStats {
        var stats = PassStats()
        let analysis = GraphAnalysis(model)
        var graph = model.graph
        let captured = graph.capturedBySubgraphs
        for addID in graph.nodeIDs {
            guard let add = graph.node(addID), add.opType == "Add", add.domain.isEmpty, add.inputs.count == 2 else { continue }
            guard let (slot, matmulID) = [0, 1].lazy.compactMap({ i -> (Int, NodeID)? in
                guard let p = graph.producer(of: add.inputs[i]), graph[p].opType == "MatMul", graph[p].domain.isEmpty,
                      graph.readerCount(add.inputs[i], captured: captured) == 1 else { return nil }
                return (i, p)
            }).first else { continue }
            let matmul = graph[matmulID]
            let biasName = add.inputs[1 - slot]
            guard matmul.inputs.count == 2, analysis.types[matmul.inputs[0]]?.rank == 2,
                  let b = graph.initializer(matmul.inputs[1]), b.dtype == .float32, b.shape.count == 2,
                  let bias = graph.initializer(biasName), bias.dtype == .float32,
                  perChannel(bias, channels: b.shape[1], rank: 2, axis: 1) != nil || bias.shape == analysis.staticShape(add.outputs[0])
            else { continue }
            let gemm = Node(name: matmul.name.isEmpty ? add.name : matmul.name, opType: "Gemm",
                            inputs: [matmul.inputs[0], matmul.inputs[1], biasName], outputs: [add.outputs[0]])
            graph.removeNode(addID)
            try graph.replaceNode(matmulID, with: gemm)
            stats.nodesFused += 1
        }
        model.graph = graph
        return stats
    }
}
