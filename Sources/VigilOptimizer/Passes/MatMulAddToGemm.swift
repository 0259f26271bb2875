import VigilIR

/// MatMul of a 2-D input by a constant 2-D matrix followed by the addition of a constant row vector
/// becomes one Gemm.
public struct MatMulAddToGemm: GraphRewritePass {
    public let name = "matmul-add-to-gemm"
    public init() {}

    public func rewrite(_ r: inout Rewrite) throws {
        for addID in r.graph.nodeIDs {
            guard let add = r.graph.node(addID), add.opType == "Add", add.domain.isEmpty, add.inputs.count == 2 else { continue }
            guard let (slot, matmulID) = [0, 1].compactMap({ i -> (Int, NodeID)? in
                guard let p = r.graph.producer(of: add.inputs[i]), r.graph[p].opType == "MatMul", r.graph[p].domain.isEmpty,
                      r.graph.readerCount(add.inputs[i], captured: r.captured) == 1 else { return nil }
                return (i, p)
            }).first else { continue }
            let matmul = r.graph[matmulID]
            let biasName = add.inputs[1 - slot]
            guard matmul.inputs.count == 2, r.analysis.types[matmul.inputs[0]]?.rank == 2,
                  let b = r.graph.initializer(matmul.inputs[1]), b.dtype == .float32, b.shape.count == 2,
                  let bias = r.graph.initializer(biasName), bias.dtype == .float32,
                  perChannel(bias, channels: b.shape[1], rank: 2, axis: 1) != nil || bias.shape == r.analysis.staticShape(add.outputs[0])
            else { continue }
            let gemm = Node(name: matmul.name.isEmpty ? add.name : matmul.name, opType: "Gemm",
                            inputs: [matmul.inputs[0], matmul.inputs[1], biasName], outputs: [add.outputs[0]])
            r.graph.removeNode(addID)
            try r.graph.replaceNode(matmulID, with: gemm)
            r.stats.nodesFused += 1
        }
    }
}
