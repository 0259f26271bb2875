import VigilIR

/// Folds a multiplication or addition by a per-channel constant that follows a Conv or Gemm into
/// its weights and bias: Conv(x, W, b)·c = Conv(x, W·c, b·c) and Conv(x, W, b) + c = Conv(x, W, b + c).
public struct AffineFolding: GraphRewritePass {
    public let name = "fold-affine-into-conv"
    public init() {}

    public func rewrite(_ r: inout Rewrite) throws {
        for opID in r.graph.nodeIDs {
            guard let op = r.graph.node(opID), op.domain.isEmpty, op.opType == "Mul" || op.opType == "Add", op.inputs.count == 2 else { continue }
            // One operand is produced by a Conv/Gemm read only here, the other is a constant.
            guard let (slot, producerID) = [0, 1].compactMap({ i -> (Int, NodeID)? in
                guard let p = r.graph.producer(of: op.inputs[i]), ["Conv", "Gemm"].contains(r.graph[p].opType), r.graph[p].domain.isEmpty,
                      r.graph.readerCount(op.inputs[i], captured: r.captured) == 1, r.graph.initializer(op.inputs[1 - i]) != nil else { return nil }
                return (i, p)
            }).first else { continue }
            let producer = r.graph[producerID]
            guard let constant = r.graph.initializer(op.inputs[1 - slot]), let outputType = r.analysis.types[op.inputs[slot]],
                  r.analysis.types[op.outputs[0]]?.shape == outputType.shape,  // the constant must not broadcast the result larger
                  producer.inputs.count >= 2, let weightTensor = r.graph.initializer(producer.inputs[1]),
                  let weights = r.graph.floatInitializer(producer.inputs[1])
            else { continue }
            let isGemm = producer.opType == "Gemm"
            var transB: Int64 = 0
            if case .int(let t)? = producer.attribute("transB") { transB = t }
            let weightAxis = isGemm ? (transB == 1 ? 0 : 1) : 0
            guard weightTensor.shape.count == (isGemm ? 2 : weightTensor.shape.count) else { continue }
            let channels = weightTensor.shape[weightAxis]
            guard let c = perChannel(constant, channels: channels, rank: outputType.rank, axis: 1) else { continue }
            if isGemm, case .float(let alpha)? = producer.attribute("alpha"), alpha != 1 { continue }
            var beta: Float = 1
            if isGemm, case .float(let value)? = producer.attribute("beta") { beta = value }
            var bias = [Float](repeating: 0, count: channels)
            if producer.inputs.count > 2, !producer.inputs[2].isEmpty {
                guard let biasTensor = r.graph.initializer(producer.inputs[2]),
                      let values = perChannel(biasTensor, channels: channels, rank: isGemm ? 2 : 1, axis: isGemm ? 1 : 0)
                else { continue }
                bias = values.map { $0 * (isGemm ? beta : 1) }
            }
            var replacement = producer
            replacement.inputs = Array(producer.inputs.prefix(2))
            if op.opType == "Mul" {
                replacement.inputs[1] = try r.graph.addInitializer(producer.inputs[1] + "_scaled", scale(weights, shape: weightTensor.shape, axis: weightAxis, by: c), shape: weightTensor.shape)
                bias = zip(bias, c).map { $0 * $1 }
            } else {
                bias = zip(bias, c).map { $0 + $1 }
            }
            replacement.inputs.append(try r.graph.addInitializer(producer.inputs[1] + "_bias", bias, shape: [channels]))
            if isGemm { replacement.setAttribute("beta", .float(1)) }
            replacement.outputs = [op.outputs[0]]
            r.graph.removeNode(opID)
            try r.graph.replaceNode(producerID, with: replacement)
            r.stats.nodesFused += 1
        }
    }
}
