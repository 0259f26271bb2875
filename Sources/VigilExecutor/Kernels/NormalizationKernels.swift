import VigilBLAS
import Foundation
import VigilIR
import VigilOps

/// Normalization kernels and softmax on float32.
enum NormalizationKernels {
    static var builders: [String: KernelBuilder] {
        [
            "BatchNormalization": { k in try buildBatchNorm(k) }, "InstanceNormalization": { k in try buildInstanceNorm(k) },
            "LayerNormalization": { k in try buildLayerNorm(k) }, "RMSNormalization": { k in try buildRMSNorm(k) }, "LRN": { k in try buildLRN(k) }, "LpNormalization": { k in try buildLpNorm(k) },
            "Softmax": { k in try buildSoftmax(k) }, "LogSoftmax": { k in try buildSoftmax(k) },
        ]
    }

    /// BatchNormalization in inference mode; with `activation` (FusedBatchNormalization) each chunk of
    /// planes is activated right after it is normalized, while it is still in the cache.
    static func buildBatchNorm(_ k: KernelContext, activation: FusedActivation? = nil) throws(OpError) -> Kernel {
        try k.requireDTypes([.float32])
        let xs = k.inputShape(0)
        let n = xs[0], c = xs[1], size = xs.dropFirst(2).reduce(1, *)
        let eps = try k.op.float("epsilon")
        let extraOutputs = k.node.outputs.count
        let vector = VectorActivation(activation?.vectorForm), scalar = vector == nil ? activation?.function : nil
        var kernel = Kernel(scratchBytes: 2 * c * 4) { io, par in
            let x = io.input(0, as: Float.self), y = io.output(0, as: Float.self)
            let scale = io.input(1, as: Float.self), bias = io.input(2, as: Float.self)
            let mean = io.input(3, as: Float.self), variance = io.input(4, as: Float.self)
            let s = io.scratch!.assumingMemoryBound(to: Float.self), t = s + c
            for ch in 0..<c {
                s[ch] = scale[ch] / (variance[ch] + eps).squareRoot()
                t[ch] = bias[ch] - mean[ch] * s[ch]
            }
            par.forEach(n * c, grain: max(1, 16384 / max(size, 1))) { range in
                VectorMath.scaleShiftPlanes(x, y, planes: range, size: size, channels: c, scale: s, shift: t)
                let first = y + range.lowerBound * size, count = range.count * size
                if let vector { vector.apply(first, first, count: count) }
                if let scalar { for i in 0..<count { first[i] = scalar(first[i]) } }
            }
            // Inference-mode running statistics pass through.
            for j in 1..<max(extraOutputs, 1) {
                io.outputs[j].copyMemory(from: io.inputs[j % 2 == 1 ? 3 : 4]!, byteCount: c * 4)
            }
        }
        kernel.inPlace = true
        return kernel
    }

    static func buildInstanceNorm(_ k: KernelContext) throws(OpError) -> Kernel {
        try k.requireDTypes([.float32])
        let xs = k.inputShape(0)
        let c = xs[1], planes = xs[0] * xs[1], size = xs.dropFirst(2).reduce(1, *)
        let eps = try k.op.float("epsilon")
        return Kernel(inPlace: true) { io, par in
            let x = io.input(0, as: Float.self), y = io.output(0, as: Float.self)
            let scale = io.input(1, as: Float.self), bias = io.input(2, as: Float.self)
            par.forEach(planes) { range in
                for p in range {
                    let src = x + p * size, dst = y + p * size
                    var sum: Double = 0
                    for i in 0..<size { sum += Double(src[i]) }
                    let mean = sum / Double(size)
                    var sq: Double = 0
                    for i in 0..<size { let d = Double(src[i]) - mean; sq += d * d }
                    let inv = 1 / (sq / Double(size) + Double(eps)).squareRoot()
                    let a = Float(inv) * scale[p % c], b = bias[p % c] - Float(mean * inv) * scale[p % c]
                    for i in 0..<size { dst[i] = src[i] * a + b }
                }
            }
        }
    }

    static func buildLayerNorm(_ k: KernelContext) throws(OpError) -> Kernel {
        try k.requireDTypes([.float32])
        let xs = k.inputShape(0)
        let axis = try k.op.axis(try k.op.int("axis"), rank: xs.count)
        let outer = xs[..<axis].reduce(1, *), inner = xs[axis...].reduce(1, *)
        let normalized = Array(xs[axis...])
        let eps = try k.op.float("epsilon")
        let scaleIx = BroadcastIndexer(output: normalized, inputs: [k.inputShape(1)])
        let hasBias = k.op.hasInput(2)
        let biasIx = hasBias ? BroadcastIndexer(output: normalized, inputs: [k.inputShape(2)]) : nil
        let outputs = k.node.outputs
        let wantMean = outputs.count > 1 && !outputs[1].isEmpty, wantInv = outputs.count > 2 && !outputs[2].isEmpty
        return Kernel(scratchBytes: 2 * inner * 4, inPlace: true) { io, par in
            let x = io.input(0, as: Float.self), y = io.output(0, as: Float.self)
            let scale = io.scratch!.assumingMemoryBound(to: Float.self), bias = scale + inner
            broadcastCopy(scaleIx, io.inputs[1]!, UnsafeMutableRawPointer(scale), elementSize: 4)
            if let biasIx { broadcastCopy(biasIx, io.inputs[2]!, UnsafeMutableRawPointer(bias), elementSize: 4) } else { bias.update(repeating: 0, count: inner) }
            let meanOut = wantMean ? io.output(1, as: Float.self) : nil
            let invOut = wantInv ? io.output(2, as: Float.self) : nil
            if VectorActivation.isAvailable {
                par.forEach(outer, grain: max(1, 8192 / max(inner, 1))) { r in
                    VectorMath.layerNormRows(x + r.lowerBound * inner, y + r.lowerBound * inner, rows: r.count, length: inner, scale: scale,
                                             bias: bias, epsilon: eps, mean: meanOut.map { $0 + r.lowerBound },
                                             inverseStd: invOut.map { $0 + r.lowerBound })
                }
                return
            }
            par.forEach(outer) { range in
                for r in range {
                    let src = x + r * inner, dst = y + r * inner
                    var sum: Float = 0
                    for i in 0..<inner { sum += src[i] }
                    let mean = sum / Float(inner)
                    var sq: Float = 0
                    for i in 0..<inner { let d = src[i] - mean; sq += d * d }
                    let inv = 1 / (sq / Float(inner) + eps).squareRoot()
                    meanOut?[r] = mean
                    invOut?[r] = inv
                    for i in 0..<inner { dst[i] = (src[i] - mean) * inv * scale[i] + bias[i] }
                }
            }
        }
    }

    /// x / √(mean(x²) + ε) · scale over the trailing axes from `axis`, accumulated in Double.
    static func buildRMSNorm(_ k: KernelContext) throws(OpError) -> Kernel {
        try k.requireDTypes([.float32])
        let xs = k.inputShape(0)
        let axis = try k.op.axis(try k.op.int("axis"), rank: xs.count)
        let outer = xs[..<axis].reduce(1, *), inner = xs[axis...].reduce(1, *)
        let eps = Double(try k.op.float("epsilon"))
        let scaleIx = BroadcastIndexer(output: Array(xs[axis...]), inputs: [k.inputShape(1)])
        return Kernel(scratchBytes: inner * 4, inPlace: true) { io, par in
            let x = io.input(0, as: Float.self), y = io.output(0, as: Float.self)
            let scale = io.scratch!.assumingMemoryBound(to: Float.self)
            broadcastCopy(scaleIx, io.inputs[1]!, UnsafeMutableRawPointer(scale), elementSize: 4)
            par.forEach(outer) { range in
                for r in range {
                    let src = x + r * inner, dst = y + r * inner
                    var sq = 0.0
                    for i in 0..<inner { sq += Double(src[i]) * Double(src[i]) }
                    let inv = Float(1 / (sq / Double(inner) + eps).squareRoot())
                    for i in 0..<inner { dst[i] = src[i] * inv * scale[i] }
                }
            }
        }
    }

    static func buildLRN(_ k: KernelContext) throws(OpError) -> Kernel {
        try k.requireDTypes([.float32])
        let xs = k.inputShape(0)
        let n = xs[0], c = xs[1], size = xs.dropFirst(2).reduce(1, *)
        let window = try k.op.int("size")
        let alpha = try k.op.float("alpha"), beta = try k.op.float("beta")
        let bias = try k.op.float("bias")
        let lo = (window - 1) / 2, hi = window - 1 - lo
        return Kernel { io, par in
            let x = io.input(0, as: Float.self), y = io.output(0, as: Float.self)
            par.forEach(n * c) { range in
                for p in range {
                    let image = p / c, ch = p % c
                    let first = max(0, ch - lo), last = min(c - 1, ch + hi)
                    for i in 0..<size {
                        var sum: Float = 0
                        for j in first...last { let v = x[(image * c + j) * size + i]; sum += v * v }
                        y[p * size + i] = x[p * size + i] / powf(bias + alpha / Float(window) * sum, beta)
                    }
                }
            }
        }
    }

    static func buildLpNorm(_ k: KernelContext) throws(OpError) -> Kernel {
        try k.requireDTypes([.float32])
        let xs = k.inputShape(0)
        let axis = try k.op.axis(try k.op.int("axis"), rank: xs.count)
        let p = try k.op.int("p")
        let outer = xs[..<axis].reduce(1, *), len = xs[axis], inner = xs[(axis + 1)...].reduce(1, *)
        return Kernel(inPlace: true) { io, _ in
            let x = io.input(0, as: Float.self), y = io.output(0, as: Float.self)
            for o in 0..<outer {
                for j in 0..<inner {
                    let base = o * len * inner + j
                    var norm: Float = 0
                    for i in 0..<len { let v = x[base + i * inner]; norm += p == 1 ? abs(v) : v * v }
                    if p == 2 { norm = norm.squareRoot() }
                    // A zero vector stays zero (as in the ONNX reference) rather than becoming NaN.
                    for i in 0..<len { y[base + i * inner] = norm == 0 ? 0 : x[base + i * inner] / norm }
                }
            }
        }
    }

    static func buildSoftmax(_ k: KernelContext) throws(OpError) -> Kernel {
        try k.requireDTypes([.float32])
        let attrs = try Normalization.SoftmaxAttributes(k.op)
        let xs = k.inputShape(0)
        let outer = xs[..<attrs.axis].reduce(1, *)
        let len = attrs.coerced ? xs[attrs.axis...].reduce(1, *) : xs[attrs.axis]
        let inner = attrs.coerced ? 1 : xs[(attrs.axis + 1)...].reduce(1, *)
        let log = k.node.opType == "LogSoftmax"
        if inner == 1, VectorActivation.isAvailable {
            return Kernel(inPlace: true) { io, par in
                let x = io.input(0, as: Float.self), y = io.output(0, as: Float.self)
                par.forEach(outer, grain: max(1, 8192 / max(len, 1))) { r in
                    VectorMath.softmaxRows(x + r.lowerBound * len, y + r.lowerBound * len, rows: r.count, length: len, log: log)
                }
            }
        }
        return Kernel(inPlace: true) { io, par in
            let x = io.input(0, as: Float.self), y = io.output(0, as: Float.self)
            par.forEach(outer * inner, grain: max(1, 4096 / max(len, 1))) { range in
                for r in range {
                    let base = (r / inner) * len * inner + r % inner
                    var top = -Float.infinity
                    for i in 0..<len { top = max(top, x[base + i * inner]) }
                    var sum: Float = 0
                    if log {
                        for i in 0..<len { sum += expf(x[base + i * inner] - top) }
                        let shift = top + logf(sum)
                        for i in 0..<len { y[base + i * inner] = x[base + i * inner] - shift }
                    } else {
                        for i in 0..<len { let e = expf(x[base + i * inner] - top); y[base + i * inner] = e; sum += e }
                        let s = 1 / sum
                        for i in 0..<len { y[base + i * inner] *= s }
                    }
                }
            }
        }
    }
}
