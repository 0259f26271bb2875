import VigilIR

/// Normalization ops (inference semantics) and softmax.
public enum Normalization {
    static var descriptors: [OpDescriptor] {
        var list = [
            OpDescriptor("BatchNormalization", inputs: 5...5, outputs: 1...5, since: 7,
                         attributes: [.float("epsilon", 1e-5), .float("momentum", 0.9), .int("spatial", 1), .int("training_mode", 0)],
                         infer: inferBatchNorm),
            OpDescriptor("InstanceNormalization", inputs: 3...3, since: 6, attributes: [.float("epsilon", 1e-5)], infer: inferInstanceNorm),
            OpDescriptor("LayerNormalization", inputs: 2...3, outputs: 1...3, since: 17,
                         attributes: [.int("axis", -1), .float("epsilon", 1e-5), .int("stash_type", 1)], infer: inferLayerNorm),
            OpDescriptor("RMSNormalization", inputs: 2...2, since: 23,
                         attributes: [.int("axis", -1), .float("epsilon", 1e-5), .int("stash_type", 1)], infer: inferRMSNorm),
            OpDescriptor("LRN", inputs: 1...1, since: 1,
                         attributes: [.float("alpha", 0.0001), .float("beta", 0.75), .float("bias", 1), .required("size", .int)], infer: inferLRN),
            OpDescriptor("LpNormalization", inputs: 1...1, since: 1, attributes: [.int("axis", -1), .int("p", 2)], infer: inferLpNorm),
        ]
        // Softmax and LogSoftmax coerce the input to 2-D at `axis` (default 1) before opset 13, and
        // reduce over the single `axis` (default −1) from 13 on: two forms each.
        for op in ["Softmax", "LogSoftmax"] {
            list.append(OpDescriptor(op, inputs: 1...1, since: 1, through: 12, attributes: [.int("axis", 1)], infer: inferSoftmax))
            list.append(OpDescriptor(op, inputs: 1...1, since: 13, attributes: [.int("axis", -1)], infer: inferSoftmax))
        }
        return list
    }

    /// Checks that input `index` is a 1-D tensor of `channels` elements.
    static func requireChannelVector(_ c: OpContext, _ index: Int, channels: Dim) throws(OpError) {
        let t = try c.requireRank(index, 1...1)
        if let want = channels.value, let got = t.shape.dims[0].value, want != got {
            throw c.error("\(c.inputLabel(index)) has \(got) elements but X has \(want) channels", subject: c.inputLabel(index))
        }
    }

    static func inferBatchNorm(_ c: OpContext) throws(OpError) -> [InferredOutput] {
        let x = try c.requireType(0, in: TypeSets.float)
        guard x.rank >= 2 else { throw c.error("X must have rank ≥ 2, got \(x.shape)", subject: c.inputLabel(0)) }
        if try c.int("training_mode") != 0 {
            throw c.error("training_mode=1 is not supported (inference only)", subject: "training_mode", kind: .unsupported)
        }
        if c.opset < 9, try c.int("spatial") == 0 {
            throw c.error("spatial=0 (per-activation statistics) is not supported", subject: "spatial")
        }
        for i in 1...4 { try requireChannelVector(c, i, channels: x.shape.dims[1]) }
        let channel = TensorType(x.dtype, Shape([x.shape.dims[1]]))
        return [InferredOutput(x)] + Array(repeating: InferredOutput(channel), count: 4)
    }

    static func inferInstanceNorm(_ c: OpContext) throws(OpError) -> [InferredOutput] {
        let x = try c.requireType(0, in: TypeSets.float)
        guard x.rank >= 3 else { throw c.error("X must have rank ≥ 3, got \(x.shape)", subject: c.inputLabel(0)) }
        for i in 1...2 { try requireChannelVector(c, i, channels: x.shape.dims[1]) }
        return [InferredOutput(x)]
    }

    static func inferLayerNorm(_ c: OpContext) throws(OpError) -> [InferredOutput] {
        let x = try c.requireType(0, in: TypeSets.float)
        let axis = try c.axis(try c.int("axis"), rank: x.rank)
        let normalized = Shape(Array(x.shape.dims[axis...]))
        for i in 1..<3 where c.hasInput(i) {
            let t = try c.input(i)
            guard case .success(let merged) = broadcastShapes([t.shape, normalized]), merged.rank == normalized.rank else {
                throw c.error("\(c.inputLabel(i)) \(t.shape) must broadcast to the normalized shape \(normalized)", subject: c.inputLabel(i))
            }
        }
        let stats = Shape(Array(x.shape.dims[..<axis]) + Array(repeating: .fixed(1), count: x.rank - axis))
        return [InferredOutput(x), InferredOutput(TensorType(.float32, stats)), InferredOutput(TensorType(.float32, stats))]
    }

    /// RMSNormalization: x / √(mean(x²) + ε) · scale over the axes from `axis` on.
    static func inferRMSNorm(_ c: OpContext) throws(OpError) -> [InferredOutput] {
        let x = try c.requireType(0, in: TypeSets.float)
        let axis = try c.axis(try c.int("axis"), rank: x.rank)
        let normalized = Shape(Array(x.shape.dims[axis...]))
        let scale = try c.input(1)
        guard case .success(let merged) = broadcastShapes([scale.shape, normalized]), merged.rank == normalized.rank else {
            throw c.error("scale \(scale.shape) must broadcast to the normalized shape \(normalized)", subject: c.inputLabel(1))
        }
        return [InferredOutput(x)]
    }

    static func inferLRN(_ c: OpContext) throws(OpError) -> [InferredOutput] {
        let x = try c.requireType(0, in: TypeSets.float)
        guard x.rank >= 3 else { throw c.error("X must have rank ≥ 3, got \(x.shape)", subject: c.inputLabel(0)) }
        let size = try c.int("size")
        guard size > 0 else { throw c.error("the required attribute size must be positive", subject: "size") }
        return [InferredOutput(x)]
    }

    static func inferLpNorm(_ c: OpContext) throws(OpError) -> [InferredOutput] {
        let x = try c.requireType(0, in: TypeSets.float)
        _ = try c.axis(try c.int("axis"), rank: x.rank)
        let p = try c.int("p")
        guard p == 1 || p == 2 else { throw c.error("p must be 1 or 2, got \(p)", subject: "p") }
        return [InferredOutput(x)]
    }

    /// Softmax/LogSoftmax's layout: before opset 13 the input is coerced to 2-D at `axis`
    /// (reduce over everything from `axis` on); from 13 on it reduces over the single `axis`.
    public struct SoftmaxAttributes: Sendable {
        /// Normalized axis.
        public var axis: Int
        /// Whether the reduction covers all dims from `axis` to the end (opset < 13).
        public var coerced: Bool

        public init(_ c: OpContext) throws(OpError) {
            let x = try c.requireType(0, in: TypeSets.float)
            coerced = c.opset < 13
            axis = try c.axis(try c.int("axis"), rank: x.rank)
        }
    }

    static func inferSoftmax(_ c: OpContext) throws(OpError) -> [InferredOutput] {
        _ = try SoftmaxAttributes(c)
        return [InferredOutput(try c.input(0))]
    }
}
