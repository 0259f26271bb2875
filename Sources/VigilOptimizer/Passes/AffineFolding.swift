import VigilIR

/// Folds a multiplication or addition by a per-channel constant that follows a Conv or Gemm into
/// its weights and bias: Conv(x, W, b)·c = Conv(x, W·c, b·c) and Conv(x, W, b) + c = Conv(x, W, b + c).
public struct AffineFolding: OptimizationPass {
    public let name = "fold-affine-into-conv"
    public init() {}

    public func run(on model: inout Model) throws -> PassStats {
        var stats = PassStats()
        let analysis = GraphAnalysis(model)
        var graph = model.graph
        let captured = graph.capturedBySubgraphs
        for opID in graph.nodeIDs {
            guard let op = graph.node(opID), op.domain.isEmpty, op.opType == "Mul" || op.opType == "Add", op.inputs.count == 2 else { continue }
            // One operand is produced by a Conv/Gemm read only here, the other is a constant.
            guard let (slot, producerID) = [0, 1].lazy.compactMap({ i -> (Int, NodeID)? in
                guard let p = graph.producer(of: op.inputs[i]), ["Conv", "Gemm"].contains(graph[p].opType), graph[p].domain.isEmpty,
                      graph.readerCount(op.inputs[i], captured: captured) == 1, graph.initializer(op.inputs[1 - i]) != nil else { return nil }
                return (i, p)
            }).first else { continue }
            let producer = graph[producerID]
            guard let constant = graph.initializer(op.inputs[1 - slot]), let outputType = analysis.types[op.inputs[slot]],
                  analysis.types[op.outputs[0]]?.shape == outputType.shape,  // the constant must not broadcast the result larger
                  producer.inputs.count >= 2, let weightTensor = graph.initializer(producer.inputs[1]),
                  let weights = graph.floatInitializer(producer.inputs[1])
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
                guard let biasTensor = graph.initializer(producer.inputs[2]),
                      let values = perChannel(biasTensor, channels: channels, rank: isGemm ? 2 : 1, axis: isGemm ? 1 : 0)
                else { continue }
                bias = values.map { $0 * (isGemm ? beta : 1) }
            }
            var replacement = producer
            replacement.inputs = Array(producer.inputs.prefix(2))
            if op.opType == "Mul" {
                replacement.inputs[1] = try graph.addInitializer(producer.inputs[1] + "_scaled", scale(weights, shape: weightTensor.shape, axis: weightAxis, by: c), shape: weightTensor.shape)
                bias = zip(bias, c).map { $0 * $1 }
            } else {
                bias = zip(bias, c).map { $0 + $1 }
            }
            replacement.inputs.append(try graph.addInitializer(producer.inputs[1] + "_bias", bias, shape: [channels]))
            if isGemm { replacement.setAttribute("beta", .float(1)) }
            replacement.outputs = [op.outputs[0]]
            graph.removeNode(opID)
            try graph.replaceNode(producerID, with: replacement)
            stats.nodesFused += 1
        }
        model.graph = graph
        return stats
    }
}
