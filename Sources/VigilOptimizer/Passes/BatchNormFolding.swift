import VigilIR

/// Folds an inference BatchNormalization into the Conv, ConvTranspose, Gemm or MatMul before it:
/// y = s·(x − mean) + B with s = scale / √(var + ε) becomes new weights W·s and bias (b − mean)·s + B.
public struct BatchNormFolding: GraphRewritePass {
    public let name = "fold-batchnorm"
    public init() {}

    public func rewrite(_ r: inout Rewrite) throws {
        for bnID in r.graph.nodeIDs {
            guard let bn = r.graph.node(bnID), bn.opType == "BatchNormalization", bn.domain.isEmpty, bn.inputs.count == 5,
                  bn.outputs.dropFirst().allSatisfy({ $0.isEmpty || r.graph.readerCount($0, captured: r.captured) == 0 }),
                  let x = bn.inputs.first, let producerID = r.graph.producer(of: x),
                  r.graph.readerCount(x, captured: r.captured) == 1,
                  let gamma = r.graph.floatInitializer(bn.inputs[1]), let beta = r.graph.floatInitializer(bn.inputs[2]),
                  let mean = r.graph.floatInitializer(bn.inputs[3]), let variance = r.graph.floatInitializer(bn.inputs[4])
            else { continue }
            if case .int(let spatial)? = bn.attribute("spatial"), spatial == 0 { continue }
            var epsilon: Float = 1e-5
            if case .float(let e)? = bn.attribute("epsilon") { epsilon = e }
            let channels = gamma.count
            guard beta.count == channels, mean.count == channels, variance.count == channels else { continue }
            let s = zip(gamma, variance).map { $0 / ($1 + epsilon).squareRoot() }
            let shift = (0..<channels).map { beta[$0] - mean[$0] * s[$0] }  // bias' = b·s + shift
            let producer = r.graph[producerID]
            guard let folded = try fold(producer, scale: s, shift: shift, into: &r.graph, analysis: r.analysis) else { continue }
            var replacement = folded
            replacement.outputs = [bn.outputs[0]]
            r.graph.removeNode(bnID)
            try r.graph.replaceNode(producerID, with: replacement)
            r.stats.nodesFused += 1
        }
    }

    /// The producer with scaled weights and a shifted bias, or `nil` when it cannot absorb the BN.
    func fold(_ node: Node, scale s: [Float], shift: [Float], into graph: inout Graph, analysis: GraphAnalysis) throws -> Node? {
        let channels = s.count
        switch node.opType {
        case "Conv", "ConvTranspose":
            guard node.inputs.count >= 2, let weightTensor = graph.initializer(node.inputs[1]), let weights = graph.floatInitializer(node.inputs[1]) else { return nil }
            let axis = node.opType == "Conv" ? 0 : 1
            if node.opType == "ConvTranspose", case .int(let group)? = node.attribute("group"), group != 1 { return nil }
            guard weightTensor.shape.count > axis, weightTensor.shape[axis] == channels else { return nil }
            let bias = node.inputs.count > 2 && !node.inputs[2].isEmpty ? graph.floatInitializer(node.inputs[2]) : [Float](repeating: 0, count: channels)
            guard let bias, bias.count == channels else { return nil }
            var result = node
            result.inputs = Array(node.inputs.prefix(2))
            result.inputs[1] = try graph.addInitializer(node.inputs[1] + "_bnfolded", scale(weights, shape: weightTensor.shape, axis: axis, by: s), shape: weightTensor.shape)
            result.inputs.append(try graph.addInitializer(node.inputs[1] + "_bnbias", (0..<channels).map { bias[$0] * s[$0] + shift[$0] }, shape: [channels]))
            return result
        case "Gemm":
            guard node.inputs.count >= 2, let bTensor = graph.initializer(node.inputs[1]), let b = graph.floatInitializer(node.inputs[1]), bTensor.shape.count == 2 else { return nil }
            var transB: Int64 = 0
            if case .int(let t)? = node.attribute("transB") { transB = t }
            var beta: Float = 1
            if case .float(let value)? = node.attribute("beta") { beta = value }
            let axis = transB == 1 ? 0 : 1
            guard bTensor.shape[axis] == channels else { return nil }
            var c = [Float](repeating: 0, count: channels)
            if node.inputs.count > 2, !node.inputs[2].isEmpty {
                guard let cTensor = graph.initializer(node.inputs[2]), let values = perChannel(cTensor, channels: channels, rank: 2, axis: 1) else { return nil }
                c = values.map { $0 * beta }
            }
            var result = node
            result.inputs = Array(node.inputs.prefix(2))
            result.inputs[1] = try graph.addInitializer(node.inputs[1] + "_bnfolded", scale(b, shape: bTensor.shape, axis: axis, by: s), shape: bTensor.shape)
            result.inputs.append(try graph.addInitializer(node.inputs[1] + "_bnbias", (0..<channels).map { c[$0] * s[$0] + shift[$0] }, shape: [channels]))
            result.setAttribute("beta", .float(1))
            return result
        case "MatMul":
            guard node.inputs.count == 2, analysis.types[node.inputs[0]]?.rank == 2, let bTensor = graph.initializer(node.inputs[1]),
                  let b = graph.floatInitializer(node.inputs[1]), bTensor.shape.count == 2, bTensor.shape[1] == channels
            else { return nil }
            let weights = try graph.addInitializer(node.inputs[1] + "_bnfolded", scale(b, shape: bTensor.shape, axis: 1, by: s), shape: bTensor.shape)
            let bias = try graph.addInitializer(node.inputs[1] + "_bnbias", shift, shape: [channels])
            return Node(name: node.name, opType: "Gemm", inputs: [node.inputs[0], weights, bias], outputs: node.outputs)
        default:
            return nil
        }
    }
}
