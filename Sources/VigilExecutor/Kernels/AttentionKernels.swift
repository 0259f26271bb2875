import Foundation
import VigilIR
import VigilOps

/// Attention (opset 23) on float32, as `onnx.reference` defines it: per batch and query head, scores
/// Q·Kᵀ·scale (softcapped), plus the mask and the causal bias, softmax over the keys, times V.
/// Sums run in Double; heads are split across threads.
enum AttentionKernels {
    static var builders: [String: KernelBuilder] { ["Attention": { k in try buildAttention(k) }] }

    /// Element strides of the 4-D view (batch, head, position, feature) of a 3-D or 4-D tensor.
    struct View {
        var batch: Int, head: Int, position: Int
        init(flat: Bool, heads: Int, length: Int, size: Int) {
            if flat { (batch, head, position) = (length * heads * size, size, heads * size) }
            else { (batch, head, position) = (heads * length * size, length * size, size) }
        }
        func offset(_ b: Int, _ h: Int, _ p: Int) -> Int { b * batch + h * head + p * position }
    }

    /// Sizes and settings resolved at plan time.
    struct Plan {
        var batch = 0, qHeads = 0, kvHeads = 0, qLength = 0, kvLength = 0, past = 0, dk = 0, dv = 0
        var flat = false, causal = false, nonpad = false, scale = 1.0, softcap = 0.0, mode = 0
        var mask: (shape: [Int], isBool: Bool)?
        var total: Int { past + kvLength }
    }

    static func buildAttention(_ k: KernelContext) throws(OpError) -> Kernel {
        try k.requireDTypes([.float32], inputs: [0, 1, 2, 4, 5].filter { $0 < k.node.inputs.count })
        let layout = try AttentionOps.Layout(k.op)
        var p = Plan()
        guard let b = layout.batch.value, let qh = layout.qHeads.value, let kvh = layout.kvHeads.value,
              let ql = layout.qLength.value, let kl = layout.kvLength.value, let past = layout.pastLength.value,
              let dk = layout.headSize.value, let dv = layout.valueHeadSize.value
        else { throw k.error("Attention needs known sizes") }
        (p.batch, p.qHeads, p.kvHeads, p.qLength, p.kvLength, p.past, p.dk, p.dv) = (b, qh, kvh, ql, kl, past, dk, dv)
        p.flat = layout.flat
        p.causal = try k.op.int("is_causal") != 0
        p.scale = Double(try k.op.optionalFloat("scale") ?? Float(1 / Double(dk).squareRoot()))
        p.softcap = Double(try k.op.float("softcap"))
        p.mode = try k.op.int("qk_matmul_output_mode")
        if k.op.hasInput(3) {
            p.mask = (k.inputShape(3), k.inputDType(3) == .bool)
            guard let last = p.mask?.shape.last, last <= p.total else { throw k.error("attn_mask is longer than the keys", subject: "attn_mask") }
        }
        p.nonpad = k.op.hasInput(6)
        let plan = p, outputs = k.node.outputs.map { !$0.isEmpty }
        var kernel = Kernel { io, par in
            writeCache(io, plan, outputs: outputs)
            par.forEach(plan.batch * plan.qHeads, grain: 1) { range in
                var scores = [Double](repeating: 0, count: plan.total)
                for bh in range { attendHead(io, plan, b: bh / plan.qHeads, h: bh % plan.qHeads, scores: &scores, outputs: outputs) }
            }
        }
        kernel.flops = 2 * b * qh * ql * (past + kl) * (dk + dv)
        return kernel
    }

    /// The key (or value) row `j` of the cache for a kv head: past rows, then the new ones.
    static func cacheRow(_ io: KernelIO, _ p: Plan, value: Bool, b: Int, h: Int, j: Int) -> UnsafePointer<Float> {
        let size = value ? p.dv : p.dk
        if j < p.past {
            return io.input(value ? 5 : 4, as: Float.self) + ((b * p.kvHeads + h) * p.past + j) * size
        }
        let view = View(flat: p.flat, heads: p.kvHeads, length: p.kvLength, size: size)
        return io.input(value ? 2 : 1, as: Float.self) + view.offset(b, h, j - p.past)
    }

    /// present_key and present_value: the cache after this call, 4-D.
    static func writeCache(_ io: KernelIO, _ p: Plan, outputs: [Bool]) {
        for (slot, value) in [(1, false), (2, true)] where outputs.count > slot && outputs[slot] {
            let size = value ? p.dv : p.dk, out = io.output(slot, as: Float.self)
            for b in 0..<p.batch { for h in 0..<p.kvHeads { for j in 0..<p.total {
                let row = cacheRow(io, p, value: value, b: b, h: h, j: j)
                (out + ((b * p.kvHeads + h) * p.total + j) * size).update(from: row, count: size)
            } } }
        }
    }

    /// The additive bias of the mask for query row `i` (−∞ where a boolean mask is false, the mask is
    /// shorter than the keys, or the key lies past the batch's `nonpad_kv_seqlen`), or 0.
    static func maskBias(_ io: KernelIO, _ p: Plan, b: Int, h: Int, i: Int, j: Int) -> Double {
        if p.nonpad, Int64(j) >= io.input(6, as: Int64.self)[b] { return -.infinity }
        guard let mask = p.mask else { return 0 }
        let shape = [Int](repeating: 1, count: 4 - mask.shape.count) + mask.shape
        guard j < shape[3] else { return -.infinity }
        let index = (((shape[0] == 1 ? 0 : b) * shape[1] + (shape[1] == 1 ? 0 : h)) * shape[2] + (shape[2] == 1 ? 0 : i)) * shape[3] + j
        if mask.isBool { return io.input(3, as: UInt8.self)[index] != 0 ? 0 : -.infinity }
        return Double(io.input(3, as: Float.self)[index])
    }

    /// One query head: every query row's scores, softmax and weighted sum of values.
    static func attendHead(_ io: KernelIO, _ p: Plan, b: Int, h: Int, scores: inout [Double], outputs: [Bool]) {
        let group = p.qHeads / p.kvHeads, kvh = h / group
        let qView = View(flat: p.flat, heads: p.qHeads, length: p.qLength, size: p.dk)
        let yView = View(flat: p.flat, heads: p.qHeads, length: p.qLength, size: p.dv)
        let q = io.input(0, as: Float.self), y = io.output(0, as: Float.self)
        let qk: UnsafeMutablePointer<Float>? = outputs.count > 3 && outputs[3] ? io.output(3, as: Float.self) : nil
        for i in 0..<p.qLength {
            let qRow = q + qView.offset(b, h, i)
            let qkRow = qk.map { $0 + ((b * p.qHeads + h) * p.qLength + i) * p.total }
            for j in 0..<p.total {
                let kRow = cacheRow(io, p, value: false, b: b, h: kvh, j: j)
                var dot = 0.0
                for d in 0..<p.dk { dot += Double(qRow[d]) * Double(kRow[d]) }
                var s = dot * p.scale
                if p.softcap > 0 { s = p.softcap * tanh(s / p.softcap) }
                if p.mode <= 1 { qkRow?[j] = Float(s) }
                s += maskBias(io, p, b: b, h: h, i: i, j: j)
                if p.causal && j - p.past > i { s = -.infinity }
                if p.mode == 2 { qkRow?[j] = Float(s) }
                scores[j] = s
            }
            softmax(&scores)
            if p.mode == 3, let qkRow { for j in 0..<p.total { qkRow[j] = Float(scores[j]) } }
            let yRow = y + yView.offset(b, h, i)
            for d in 0..<p.dv { yRow[d] = 0 }
            var sums = [Double](repeating: 0, count: p.dv)
            for j in 0..<p.total where scores[j] != 0 {
                let vRow = cacheRow(io, p, value: true, b: b, h: kvh, j: j)
                for d in 0..<p.dv { sums[d] += scores[j] * Double(vRow[d]) }
            }
            for d in 0..<p.dv { yRow[d] = Float(sums[d]) }
        }
    }

    /// Softmax in place (a row of −∞ gives NaN, as the reference's does).
    static func softmax(_ x: inout [Double]) {
        let top = x.max() ?? 0
        var sum = 0.0
        for j in x.indices { x[j] = exp(x[j] - top); sum += x[j] }
        for j in x.indices { x[j] /= sum }
    }
}
