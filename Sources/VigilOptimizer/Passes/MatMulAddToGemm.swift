import VigilIR

/// MatMul of an input by a constant 2-D matrix followed by the addition of a constant row vector
/// becomes one Gemm. A 2-D input is the Gemm's A; an input of higher rank (a transformer's tokens,
/// [batch, tokens, features], or a channels-last image) is read
/// as a matrix through a Reshape to [-1, k], and the Gemm's output is reshaped back — both views, no
/// copies. At most one of the sizes before the last may be symbolic (the batch, wherever it is). When the Add's only reader is an activation (Gelu after a transformer's first MLP layer), it
/// moves between the Gemm and the Reshape back, so that `fuse-activations` can apply it in the GEMM's
/// epilogue as well.
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
            guard matmul.inputs.count == 2, let rank = r.analysis.types[matmul.inputs[0]]?.rank, rank >= 2,
                  let b = r.graph.initializer(matmul.inputs[1]), b.dtype == .float32, b.shape.count == 2,
                  let bias = r.graph.initializer(biasName), bias.dtype == .float32,
                  perChannel(bias, channels: b.shape[1], rank: 2, axis: 1) != nil || rank == 2 && bias.shape == r.analysis.staticShape(add.outputs[0])
            else { continue }
            if rank == 2 {
                let gemm = Node(name: matmul.name.isEmpty ? add.name : matmul.name, opType: "Gemm",
                                inputs: [matmul.inputs[0], matmul.inputs[1], biasName], outputs: [add.outputs[0]])
                r.graph.removeNode(addID)
                try r.graph.replaceNode(matmulID, with: gemm)
                r.stats.nodesFused += 1
            } else if try rewriteBatched(matmulID, addID, bias: biasName, k: b.shape[0], n: b.shape[1], in: &r) {
                r.stats.nodesFused += 1
            }
        }
    }

    /// MatMul(X, W) + bias with X of rank > 2: Reshape(X, [-1, k]) → Gemm → (the Add's activation, if it
    /// is its only reader) → Reshape to [sizes…, n] (-1 for the symbolic one). Returns false, changing
    /// nothing, when more than one of X's sizes is not static.
    func rewriteBatched(_ matmulID: NodeID, _ addID: NodeID, bias: String, k: Int, n: Int, in r: inout Rewrite) throws -> Bool {
        let matmul = r.graph[matmulID], add = r.graph[addID]
        guard let dims = r.analysis.types[matmul.inputs[0]]?.shape.dims, dims.last?.value == k else { return false }
        // The sizes before the last, at most one of them not static (-1 in the shape back).
        let leading = dims.dropLast().map { $0.value.map(Int64.init) ?? -1 }
        guard leading.filter({ $0 == -1 }).count <= 1 else { return false }
        // The activation that reads only the Add's output moves inside the reshape.
        var activationID: NodeID?
        if r.graph.readerCount(add.outputs[0], captured: r.captured) == 1, let use = r.graph.users(of: add.outputs[0]).first, use.slot == 0,
           let reader = r.graph.node(use.node), reader.isDefaultDomain, reader.inputs.count == 1, reader.outputs.count == 1,
           ActivationFusion.activation(reader, in: r) != nil {
            activationID = use.node
        }
        let output = activationID.map { r.graph[$0].outputs[0] } ?? add.outputs[0]
        let base = matmul.name.isEmpty ? add.name : matmul.name
        let flatShape = r.graph.freshName(base + "_rows_shape")
        r.graph.setInitializer(flatShape, try Tensor(int64: [-1, Int64(k)], shape: [2]))
        let outShape = r.graph.freshName(base + "_out_shape")
        r.graph.setInitializer(outShape, try Tensor(int64: leading + [Int64(n)], shape: [leading.count + 1]))
        let rows = r.graph.freshName(base + "_rows"), product = r.graph.freshName(base + "_gemm")
        try r.graph.replaceNode(matmulID, with: Node(name: base + "_rows", opType: "Reshape", inputs: [matmul.inputs[0], flatShape], outputs: [rows]))
        var last = product
        if let activationID {
            var activation = r.graph[activationID]
            let activated = r.graph.freshName(base + "_activated")
            activation.inputs = [product]
            activation.outputs = [activated]
            try r.graph.replaceNode(activationID, with: activation)
            last = activated
        }
        try r.graph.replaceNode(addID, with: Node(name: base, opType: "Gemm", inputs: [rows, matmul.inputs[1], bias], outputs: [product]))
        _ = try r.graph.addNode(Node(name: base + "_out", opType: "Reshape", inputs: [last, outShape], outputs: [output]))
        return true
    }
}
