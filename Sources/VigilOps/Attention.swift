import VigilIR

/// Attention (opset 23): scaled dot-product attention of Q, K and V with an optional mask, causal
/// masking, a key/value cache (`past_key`/`past_value` → `present_key`/`present_value`), grouped
/// heads (`q_num_heads` a multiple of `kv_num_heads`), softcap and the diagnostic `qk_matmul_output`.
/// Inputs are 4-D `(batch, heads, sequence, head size)` or 3-D `(batch, sequence, heads · head size)`
/// with the head counts as attributes; the output has Q's layout, the cache is always 4-D.
public enum AttentionOps {
    static var descriptors: [OpDescriptor] {
        let attributes: [AttributeSpec] = [
            .int("is_causal", 0), .optional("kv_num_heads", .int), .optional("q_num_heads", .int),
            .int("qk_matmul_output_mode", 0), .optional("scale", .float), .float("softcap", 0),
            .optional("softmax_precision", .int),
        ]
        // Opset 24 adds the seventh input, nonpad_kv_seqlen: per batch, the number of valid keys.
        return [
            OpDescriptor("Attention", inputs: 3...6, outputs: 1...4, since: 23, through: 23, attributes: attributes, infer: infer),
            OpDescriptor("Attention", inputs: 3...7, outputs: 1...4, since: 24, attributes: attributes, infer: infer),
        ]
    }

    /// The resolved layout: sizes of the 4-D view of Q, K, V and the cache.
    public struct Layout: Sendable {
        public var batch: Dim, qHeads: Dim, kvHeads: Dim, qLength: Dim, kvLength: Dim, pastLength: Dim
        public var headSize: Dim, valueHeadSize: Dim
        /// Whether Q, K, V and Y are 3-D.
        public var flat: Bool

        public init(_ c: OpContext) throws(OpError) {
            let q = try c.requireType(0, in: TypeSets.float), k = try c.input(1), v = try c.input(2)
            guard [3, 4].contains(q.rank), k.rank == q.rank, v.rank == q.rank else {
                throw c.error("Q, K and V must all be 3-D or all 4-D, got \(q.shape), \(k.shape), \(v.shape)", subject: "Q")
            }
            flat = q.rank == 3
            batch = q.shape.dims[0]
            if flat {
                guard let qh = try c.optionalInt("q_num_heads"), let kvh = try c.optionalInt("kv_num_heads"), qh > 0, kvh > 0 else {
                    throw c.error("3-D inputs need positive q_num_heads and kv_num_heads", subject: "q_num_heads")
                }
                qHeads = .fixed(qh); kvHeads = .fixed(kvh)
                qLength = q.shape.dims[1]; kvLength = k.shape.dims[1]
                headSize = Self.divide(q.shape.dims[2], qh); valueHeadSize = Self.divide(v.shape.dims[2], kvh)
            } else {
                qHeads = q.shape.dims[1]; kvHeads = k.shape.dims[1]
                qLength = q.shape.dims[2]; kvLength = k.shape.dims[2]
                headSize = q.shape.dims[3]; valueHeadSize = v.shape.dims[3]
            }
            if let qh = qHeads.value, let kvh = kvHeads.value, kvh == 0 || qh % kvh != 0 {
                throw c.error("q_num_heads \(qh) must be a multiple of kv_num_heads \(kvh)", subject: "kv_num_heads")
            }
            pastLength = .fixed(0)
            if c.hasInput(4) {
                let past = try c.input(4)
                guard past.rank == 4, c.hasInput(5) else { throw c.error("past_key must be 4-D and come with past_value", subject: "past_key") }
                pastLength = past.shape.dims[2]
            }
        }

        static func divide(_ dim: Dim, _ by: Int) -> Dim { dim.value.map { $0 % by == 0 ? .fixed($0 / by) : .unknown } ?? .unknown }

        /// The cache length after this call: past + new keys.
        public var totalLength: Dim {
            guard let p = pastLength.value, let k = kvLength.value else { return .unknown }
            return .fixed(p + k)
        }
    }

    static func infer(_ c: OpContext) throws(OpError) -> [InferredOutput] {
        let q = try c.input(0)
        let l = try Layout(c)
        if c.hasInput(3) {
            let mask = try c.input(3)
            guard (2...4).contains(mask.rank), mask.dtype == .bool || mask.dtype == q.dtype else {
                throw c.error("attn_mask must be bool or \(q.dtype) of rank 2 to 4, got \(mask.dtype)\(mask.shape)", subject: "attn_mask")
            }
        }
        if c.hasInput(6) {
            let lengths = try c.input(6)
            guard lengths.dtype == .int64, lengths.rank == 1 else {
                throw c.error("nonpad_kv_seqlen must be a 1-D int64 tensor, got \(lengths.dtype)\(lengths.shape)", subject: "nonpad_kv_seqlen")
            }
        }
        let mode = try c.int("qk_matmul_output_mode")
        guard (0...3).contains(mode) else { throw c.error("qk_matmul_output_mode must be 0 to 3, got \(mode)", subject: "qk_matmul_output_mode") }
        let valueHidden = l.valueHeadSize.value.flatMap { v in l.qHeads.value.map { Dim.fixed(v * $0) } } ?? .unknown
        let y = l.flat ? Shape([l.batch, l.qLength, valueHidden]) : Shape([l.batch, l.qHeads, l.qLength, l.valueHeadSize])
        return [
            InferredOutput(TensorType(q.dtype, y)),
            InferredOutput(TensorType(q.dtype, Shape([l.batch, l.kvHeads, l.totalLength, l.headSize]))),
            InferredOutput(TensorType(q.dtype, Shape([l.batch, l.kvHeads, l.totalLength, l.valueHeadSize]))),
            InferredOutput(TensorType(q.dtype, Shape([l.batch, l.qHeads, l.qLength, l.totalLength]))),
        ].prefix(c.node.outputs.count).map { $0 }
    }
}
