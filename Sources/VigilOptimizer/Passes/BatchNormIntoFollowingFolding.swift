import VigilIR
import VigilOps

/// Folds an inference BatchNormalization into the Conv, Gemm or MatMul that reads it (the mirror of
/// `fold-batchnorm`, which folds into the op before the BatchNorm).
///
/// The BatchNorm computes z = s·x + t per channel (s = scale / √(var + ε), t = B − mean·s). A Conv
/// is linear in z, so Conv(z, W, b) = Conv(x, W·s, b + Σ W·t), with s applied along W's input-channel
/// axis (channel g·cg + ci of group g is W[:, ci]). That holds only where the Conv reads no padding:
/// padding inserts zeros after the BatchNorm, where the unfolded model adds no t, so a padded Conv
/// (explicit pads, or SAME with a kernel larger than 1) absorbs the BatchNorm only when t is all zero.
/// A BatchNorm on a 2-D [N, K] input feeding Gemm (transA = 0) or MatMul by a constant matrix scales
/// the K rows of B and adds α·t·B to the bias (β·C, where C broadcasts as a row); a MatMul becomes a
/// Gemm. The BatchNorm's output must be read only by that op's first input. s, t and the bias sums
/// are computed in Double and stored as float32.
public struct BatchNormIntoFollowingFolding: GraphRewritePass {
    public let name = "fold-batchnorm-forward"
    public init() {}

    public func rewrite(_ r: inout Rewrite) throws {
        // Gemm broadcasts a row bias without the `broadcast` attribute only from r.opset 7.
        for bnID in r.graph.nodeIDs {
            guard let bn = r.graph.node(bnID), let (s, t) = Self.inferenceAffine(bn, in: r.graph, captured: r.captured),
                  let z = bn.outputs.first, !z.isEmpty, r.graph.readerCount(z, captured: r.captured) == 1,
                  let use = r.graph.users(of: z).first, use.slot == 0, let consumer = r.graph.node(use.node),
                  consumer.domain.isEmpty || consumer.domain == FusedOps.domain
            else { continue }
            let x = bn.inputs[0]
            let folded: Node?
            // FusedConv/FusedGemm (made by fuse-activations in an earlier round) are linear in x before
            // their residual and activation, like the Conv/Gemm they contain.
            switch ActivationFusion.base(consumer) ?? consumer.opType {
            case "Conv":
                folded = try Self.foldIntoConv(consumer, s: s, t: t, graph: &r.graph)
            case "Gemm" where r.opset >= 7:
                folded = try Self.foldIntoGemm(consumer, s: s, t: t, graph: &r.graph)
            case "MatMul" where r.opset >= 7 && r.analysis.types[x]?.rank == 2:
                folded = try Self.foldIntoGemm(consumer, s: s, t: t, graph: &r.graph)
            default:
                folded = nil
            }
            guard var replacement = folded else { continue }
            replacement.inputs[0] = x
            r.graph.removeNode(bnID)
            try r.graph.replaceNode(use.node, with: replacement)
            r.stats.nodesFused += 1
        }
    }

    /// The per-channel map z = s·x + t of an inference BatchNormalization (no training mode, its mean
    /// and variance outputs unread, float32 initializer parameters of one length), or `nil`.
    static func inferenceAffine(_ bn: Node, in graph: Graph, captured: Set<String>) -> (s: [Double], t: [Double])? {
        guard bn.opType == "BatchNormalization", bn.domain.isEmpty, bn.inputs.count == 5, !bn.inputs[0].isEmpty,
              bn.outputs.dropFirst().allSatisfy({ $0.isEmpty || graph.readerCount($0, captured: captured) == 0 })
        else { return nil }
        if case .int(let mode)? = bn.attribute("training_mode"), mode != 0 { return nil }
        if case .int(let spatial)? = bn.attribute("spatial"), spatial == 0 { return nil }
        let params = bn.inputs[1...4].compactMap { graph.floatInitializer($0)?.map(Double.init) }
        guard params.count == 4, let channels = params.first?.count, channels > 0, params.allSatisfy({ $0.count == channels }) else { return nil }
        var epsilon = 1e-5
        if case .float(let value)? = bn.attribute("epsilon") { epsilon = Double(value) }
        let (gamma, beta, mean, variance) = (params[0], params[1], params[2], params[3])
        let s = (0..<channels).map { gamma[$0] / (variance[$0] + epsilon).squareRoot() }
        return (s, (0..<channels).map { beta[$0] - mean[$0] * s[$0] })
    }

    /// Whether a Conv reads padding: nonzero `pads`, or SAME auto-padding with a kernel larger than 1
    /// (a 1-wide kernel needs no padding at any stride).
    static func readsPadding(_ conv: Node, kernel: ArraySlice<Int>) -> Bool {
        if case .ints(let pads)? = conv.attribute("pads"), pads.contains(where: { $0 != 0 }) { return true }
        guard case .string(let bytes)? = conv.attribute("auto_pad") else { return false }
        return String(decoding: bytes, as: UTF8.self).hasPrefix("SAME") && kernel.contains { $0 != 1 }
    }

    /// The Conv reading x instead of s·x + t, or `nil` when that is not the same computation.
    static func foldIntoConv(_ conv: Node, s: [Double], t: [Double], graph: inout Graph) throws -> Node? {
        guard conv.inputs.count >= 2, let weightTensor = graph.initializer(conv.inputs[1]),
              let weights = graph.floatInitializer(conv.inputs[1]), weightTensor.shape.count >= 3
        else { return nil }
        let shape = weightTensor.shape
        let (outputs, perGroup) = (shape[0], shape[1])
        var group = 1
        if case .int(let value)? = conv.attribute("group") { group = Int(value) }
        guard group >= 1, outputs % group == 0, perGroup * group == s.count, !weights.isEmpty else { return nil }
        if readsPadding(conv, kernel: shape.dropFirst(2)), t.contains(where: { $0 != 0 }) { return nil }
        var bias = [Double](repeating: 0, count: outputs)
        if conv.inputs.count > 2, !conv.inputs[2].isEmpty {
            guard let values = graph.floatInitializer(conv.inputs[2]), values.count == outputs else { return nil }
            bias = values.map(Double.init)
        }
        // W as rows [outputs·perGroup, taps]: row r belongs to output r / perGroup and reads input
        // channel g·perGroup + r % perGroup of its output's group g.
        let rows = outputs * perGroup
        let taps = weights.count / rows
        let channel = (0..<rows).map { row in (row / perGroup / (outputs / group)) * perGroup + row % perGroup }
        for row in 0..<rows {
            for tap in 0..<taps { bias[row / perGroup] += Double(weights[row * taps + tap]) * t[channel[row]] }
        }
        var result = conv
        result.inputs = Array(conv.inputs.prefix(2))
        let scaled = scale(weights, shape: [rows, taps], axis: 0, by: channel.map { Float(s[$0]) })
        result.inputs[1] = try graph.addInitializer(conv.inputs[1] + "_bnfwd", scaled, shape: shape)
        result.inputs.append(try graph.addInitializer(conv.inputs[1] + "_bnfwdbias", bias.map(Float.init), shape: [outputs]))
        result.inputs += conv.inputs.dropFirst(3)  // a FusedConv's residual
        return result
    }

    /// The Gemm (transA = 0) or MatMul by a constant 2-D matrix reading x instead of s·x + t, as a
    /// Gemm, or `nil` when that is not the same computation.
    static func foldIntoGemm(_ node: Node, s: [Double], t: [Double], graph: inout Graph) throws -> Node? {
        let isGemm = node.opType != "MatMul"
        guard node.inputs.count >= 2, isGemm || node.inputs.count == 2, let bTensor = graph.initializer(node.inputs[1]),
              let b = graph.floatInitializer(node.inputs[1]), bTensor.shape.count == 2
        else { return nil }
        var (transA, transB, alpha, beta): (Int64, Int64, Double, Double) = (0, 0, 1, 1)
        if isGemm {
            if case .int(let value)? = node.attribute("transA") { transA = value }
            if case .int(let value)? = node.attribute("transB") { transB = value }
            if case .float(let value)? = node.attribute("alpha") { alpha = Double(value) }
            if case .float(let value)? = node.attribute("beta") { beta = Double(value) }
        }
        let kAxis = transB == 1 ? 1 : 0
        let (k, n) = (bTensor.shape[kAxis], bTensor.shape[1 - kAxis])
        guard transA == 0, k == s.count else { return nil }
        var bias = [Double](repeating: 0, count: n)
        if isGemm, node.inputs.count > 2, !node.inputs[2].isEmpty {
            guard let cTensor = graph.initializer(node.inputs[2]), let c = perChannel(cTensor, channels: n, rank: 2, axis: 1) else { return nil }
            bias = c.map { Double($0) * beta }
        }
        for row in 0..<k {
            for column in 0..<n { bias[column] += alpha * t[row] * Double(b[transB == 1 ? column * k + row : row * n + column]) }
        }
        var result = node
        if !isGemm { result.opType = "Gemm" }
        result.inputs = Array(node.inputs.prefix(2))
        let scaled = scale(b, shape: bTensor.shape, axis: kAxis, by: s.map(Float.init))
        result.inputs[1] = try graph.addInitializer(node.inputs[1] + "_bnfwd", scaled, shape: bTensor.shape)
        result.inputs.append(try graph.addInitializer(node.inputs[1] + "_bnfwdbias", bias.map(Float.init), shape: [n]))
        if isGemm { result.setAttribute("beta", .float(1)) }
        return result
    }
}
