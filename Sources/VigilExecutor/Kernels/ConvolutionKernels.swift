import VigilBLAS
import VigilIR
import VigilOps

/// Conv and ConvTranspose on float32. 2-D convolutions (but depthwise ones) run on Vigil's own AVX2
/// kernels when the CPU has them (`PackedConvolutionKernels.swift`: Winograd or direct packed-weight).
/// The portable path, through GEMM:
/// - 1×1 stride-1 unpadded convolutions multiply the weights by the input directly;
/// - depthwise 2-D convolutions (one filter per channel) use a direct kernel;
/// - everything else lowers each image and group with im2col (1-, 2- and 3-D, dilations, pads); when the
///   output plane is small, several images share one im2col buffer and one GEMM, so GEMMs stay wide.
/// `FusedConv` shares these kernels: its residual and activation are applied as the output is written
/// (in the packed kernel's epilogue, or in one pass over the output on the other paths).
enum ConvolutionKernels {
    static var builders: [String: KernelBuilder] {
        ["Conv": { k in try buildConv(k, activation: nil, residualInput: nil) }, "ConvTranspose": { k in try buildConvTranspose(k) }]
    }

    /// Spatial geometry padded to three dims (D, H, W) so one code path serves 1-, 2- and 3-D.
    struct Geometry3 {
        var input: [Int]
        var output: [Int]
        var kernel: [Int]
        var strides: [Int]
        var dilations: [Int]
        var pads: [Int]

        init(input: [Int], output: [Int], kernel: [Int], strides: [Int], dilations: [Int], pads: [Int]) {
            let fill = 3 - input.count
            self.input = Array(repeating: 1, count: fill) + input
            self.output = Array(repeating: 1, count: fill) + output
            self.kernel = Array(repeating: 1, count: fill) + kernel
            self.strides = Array(repeating: 1, count: fill) + strides
            self.dilations = Array(repeating: 1, count: fill) + dilations
            self.pads = Array(repeating: 0, count: fill) + pads
        }

        var inputSize: Int { input.reduce(1, *) }
        var outputSize: Int { output.reduce(1, *) }
        var kernelSize: Int { kernel.reduce(1, *) }
    }

    /// Fills `col` from `x` ([channels] × inputSize per image): row r = (channel, kernel tap) holds, for
    /// each of `images` images (`imageStride` floats apart in `x`), the outputSize input values that tap
    /// reads, image after image; rows are `rowStride` apart.
    static func im2col(
        _ x: UnsafePointer<Float>, _ col: UnsafeMutablePointer<Float>, channels: Int, _ g: Geometry3, _ par: Parallel,
        rowStride: Int? = nil, images: Int = 1, imageStride: Int = 0
    ) {
        let rows = channels * g.kernelSize
        let stride = rowStride ?? g.outputSize * images
        let lowering = Im2Col(x: x, col: col, g: g, rowStride: stride, images: images, imageStride: imageStride)
        par.forEach(rows, grain: max(1, 64 / images)) { range in
            if g.strides[1] == 1 && g.strides[2] == 1 && g.output[2] == g.input[2] && g.input[0] == 1 && g.output[0] == 1 {
                for r in range { lowering.shiftedRow(r) }
            } else {
                for r in range { lowering.row(r) }
            }
        }
    }

    /// One im2col lowering: the rows it writes.
    struct Im2Col {
        let x: UnsafePointer<Float>, col: UnsafeMutablePointer<Float>, g: Geometry3
        let rowStride: Int, images: Int, imageStride: Int

        /// Copies `n` floats; short runs (small images) avoid the memcpy call.
        @inline(__always) func copy(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, _ n: Int) {
            if n <= 16 { for i in 0..<n { dst[i] = src[i] } } else { dst.update(from: src, count: n) }
        }

        @inline(__always) func zero(_ dst: UnsafeMutablePointer<Float>, _ n: Int) {
            if n <= 16 { for i in 0..<n { dst[i] = 0 } } else { dst.update(repeating: 0, count: n) }
        }

        /// Row `r` when output rows are as wide as input rows (2-D, stride 1): each kernel tap is the
        /// whole plane shifted by (kh·dh − ph, kw·dw − pw), so one contiguous copy per tap, then the
        /// border is zeroed.
        func shiftedRow(_ r: Int) {
            let (IH, IW, OH, OW) = (g.input[1], g.input[2], g.output[1], g.output[2])
            let (KH, KW) = (g.kernel[1], g.kernel[2])
            let os = g.outputSize, planeSize = g.inputSize
            let kw = r % KW, kh = (r / KW) % KH, c = r / (KW * KH)
            let offH = kh * g.dilations[1] - g.pads[1], offW = kw * g.dilations[2] - g.pads[2]
            let ohLo = max(0, -offH), ohHi = min(OH, IH - offH)
            let valid = ohLo < ohHi && abs(offW) < OW
            // Skip the elements that would read outside the plane; they are border zeros.
            let skipFront = max(0, -offW), skipBack = max(0, offW)
            let first = ohLo * OW, count = (ohHi - ohLo) * OW
            for image in 0..<images {
                let dst = col + r * rowStride + image * os
                guard valid else { zero(dst, os); continue }
                zero(dst, first)
                let src = x + image * imageStride + c * planeSize + (ohLo + offH) * IW + offW
                copy(dst + first + skipFront, src + skipFront, count - skipFront - skipBack)
                if skipFront + skipBack > 0 {
                    for oh in ohLo..<ohHi {
                        let line = dst + oh * OW
                        for ow in 0..<skipFront { line[ow] = 0 }
                        for ow in (OW - skipBack)..<OW { line[ow] = 0 }
                    }
                }
                zero(dst + ohHi * OW, (OH - ohHi) * OW)
            }
        }

        /// Row `r` in general (1-, 2- and 3-D, strides, dilations, pads).
        func row(_ r: Int) {
            let (ID, IH, IW) = (g.input[0], g.input[1], g.input[2])
            let (OD, OH, OW) = (g.output[0], g.output[1], g.output[2])
            let (KD, KH, KW) = (g.kernel[0], g.kernel[1], g.kernel[2])
            let sw = g.strides[2]
            var t = r
            let kw = t % KW; t /= KW
            let kh = t % KH; t /= KH
            let kd = t % KD; t /= KD
            let c = t
            // Output columns whose input column is in range: ow ∈ [owLo, owHi).
            let offW = kw * g.dilations[2] - g.pads[2]
            let owLo = offW >= 0 ? 0 : min(OW, (-offW + sw - 1) / sw)
            let owHi = max(owLo, min(OW, IW - offW <= 0 ? 0 : (IW - offW + sw - 1) / sw))
            for image in 0..<images {
                let plane = x + image * imageStride + c * g.inputSize
                var dst = col + r * rowStride + image * g.outputSize
                for od in 0..<OD {
                    let id = od * g.strides[0] - g.pads[0] + kd * g.dilations[0]
                    for oh in 0..<OH {
                        let ih = oh * g.strides[1] - g.pads[1] + kh * g.dilations[1]
                        if id < 0 || id >= ID || ih < 0 || ih >= IH {
                            zero(dst, OW)
                        } else {
                            let src = plane + (id * IH + ih) * IW + offW
                            zero(dst, owLo)
                            if sw == 1 {
                                copy(dst + owLo, src + owLo, owHi - owLo)
                            } else {
                                for ow in owLo..<owHi { dst[ow] = src[ow * sw] }
                            }
                            zero(dst + owHi, OW - owHi)
                        }
                        dst += OW
                    }
                }
            }
        }
    }

    /// Whether 2-D convolutions use the packed AVX2 kernel: when the CPU has it (tests turn it off to
    /// check the portable im2col + OpenBLAS path on machines that have it).
    nonisolated(unsafe) static var usePackedKernel = PackedConvolution.isAvailable

    /// A convolution's sizes on the portable path.
    struct ConvShape {
        let n: Int, c: Int, m: Int, group: Int, cg: Int, mg: Int
        let g: Geometry3
        let inSize: Int, outSize: Int, kDim: Int
        let hasBias: Bool
        /// 1×1, stride 1, no padding: the weights multiply the input directly.
        let pointwise: Bool
    }

    /// Conv, or FusedConv with `activation` and the residual at input `residualInput`.
    static func buildConv(_ k: KernelContext, activation: FusedActivation?, residualInput: Int?) throws(OpError) -> Kernel {
        try k.requireDTypes([.float32])
        let attrs = try Convolution.ConvAttributes(k.op)
        let xs = k.inputShape(0), ws = k.inputShape(1), ys = k.outputShape(0)
        let geo = attrs.geometry
        let g = Geometry3(input: Array(xs.dropFirst(2)), output: Array(ys.dropFirst(2)), kernel: geo.kernel,
                          strides: geo.strides, dilations: geo.dilations, pads: geo.padsBegin)
        let pointwise = g.kernelSize == 1 && geo.strides.allSatisfy { $0 == 1 } && geo.padsBegin.allSatisfy { $0 == 0 }
            && geo.padsEnd.allSatisfy { $0 == 0 }
        let shape = ConvShape(n: xs[0], c: xs[1], m: ws[0], group: attrs.group, cg: xs[1] / attrs.group, mg: ws[0] / attrs.group, g: g,
                              inSize: g.inputSize, outSize: g.outputSize, kDim: xs[1] / attrs.group * g.kernelSize,
                              hasBias: k.op.hasInput(2), pointwise: pointwise)
        let depthwise = shape.group == shape.c && shape.m == shape.c && xs.count == 4
        if xs.count == 4, !depthwise, usePackedKernel {
            return packedConv2D(k, attrs: attrs, activation: activation, residualInput: residualInput)
        }
        // The other paths write the plain convolution, then add the residual and apply the activation.
        let epilogue = FusedKernels.Epilogue(activation: activation, residualInput: residualInput, count: shape.n * shape.m * shape.outSize)
        if depthwise {
            return Kernel { io, par in
                let x = io.input(0, as: Float.self), w = io.input(1, as: Float.self), y = io.output(0, as: Float.self)
                let bias = shape.hasBias ? io.input(2, as: Float.self) : nil
                depthwiseConv2D(x, w, bias, y, planes: shape.n * shape.c, channels: shape.c, g, par)
                epilogue.apply(io, par)
            }
        }
        // Small outputs make thin GEMMs; lower several images into one GEMM of about 512 columns.
        let imagesPerGEMM = pointwise || shape.outSize >= 512 ? 1 : min(shape.n, max(1, 512 / max(shape.outSize, 1)))
        if imagesPerGEMM > 1 { return batchedConv(shape, imagesPerGEMM: imagesPerGEMM, epilogue: epilogue) }
        return imageByImageConv(shape, epilogue: epilogue)
    }

    /// Several images lowered into one im2col buffer and one GEMM per group, scattered back to NCHW.
    static func batchedConv(_ s: ConvShape, imagesPerGEMM: Int, epilogue: FusedKernels.Epilogue) -> Kernel {
        let columns = imagesPerGEMM * s.outSize
        return Kernel(scratchBytes: (s.kDim + s.mg) * columns * 4) { io, par in
            let x = io.input(0, as: Float.self), w = io.input(1, as: Float.self), y = io.output(0, as: Float.self)
            let bias = s.hasBias ? io.input(2, as: Float.self) : nil
            let col = io.scratch!.assumingMemoryBound(to: Float.self), product = col + s.kDim * columns
            var first = 0
            while first < s.n {
                let count = min(imagesPerGEMM, s.n - first)
                for gi in 0..<s.group {
                    im2col(x + (first * s.c + gi * s.cg) * s.inSize, col, channels: s.cg, s.g, par, images: count, imageStride: s.c * s.inSize)
                    BLAS.sgemm(m: s.mg, n: count * s.outSize, k: s.kDim, a: w + gi * s.mg * s.kDim, lda: s.kDim, b: col,
                               ldb: count * s.outSize, c: product, ldc: count * s.outSize)
                    // Scatter [mg, count · outSize] back to NCHW, adding the bias.
                    par.forEach(s.mg) { r in
                        for j in r {
                            let b = bias?[gi * s.mg + j] ?? 0
                            for i in 0..<count {
                                let src = product + j * count * s.outSize + i * s.outSize
                                let dst = y + ((first + i) * s.m + gi * s.mg + j) * s.outSize
                                for e in 0..<s.outSize { dst[e] = src[e] + b }
                            }
                        }
                    }
                }
                first += count
            }
            epilogue.apply(io, par)
        }
    }

    /// One GEMM per image and group (straight on the input for pointwise convolutions).
    static func imageByImageConv(_ s: ConvShape, epilogue: FusedKernels.Epilogue) -> Kernel {
        Kernel(scratchBytes: s.pointwise ? 0 : s.kDim * s.outSize * 4) { io, par in
            let x = io.input(0, as: Float.self), w = io.input(1, as: Float.self), y = io.output(0, as: Float.self)
            let bias = s.hasBias ? io.input(2, as: Float.self) : nil
            let col = io.scratch?.assumingMemoryBound(to: Float.self)
            for image in 0..<s.n {
                for gi in 0..<s.group {
                    let xg = x + (image * s.c + gi * s.cg) * s.inSize
                    let yg = y + (image * s.m + gi * s.mg) * s.outSize
                    let b: UnsafePointer<Float>
                    if s.pointwise {
                        b = xg
                    } else {
                        im2col(xg, col!, channels: s.cg, s.g, par)
                        b = UnsafePointer(col!)
                    }
                    if let bias {
                        par.forEach(s.mg, grain: max(1, 16384 / max(s.outSize, 1))) { r in
                            for j in r { (yg + j * s.outSize).update(repeating: bias[gi * s.mg + j], count: s.outSize) }
                        }
                    }
                    BLAS.sgemm(m: s.mg, n: s.outSize, k: s.kDim, a: w + gi * s.mg * s.kDim, lda: s.kDim, b: b, ldb: s.outSize,
                               beta: bias == nil ? 0 : 1, c: yg, ldc: s.outSize)
                }
            }
            epilogue.apply(io, par)
        }
    }

    /// One filter per channel, 2-D, parallel over (image, channel) planes.
    static func depthwiseConv2D(
        _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ bias: UnsafePointer<Float>?, _ y: UnsafeMutablePointer<Float>,
        planes: Int, channels: Int, _ g: Geometry3, _ par: Parallel
    ) {
        let (IH, IW, OH, OW) = (g.input[1], g.input[2], g.output[1], g.output[2])
        let (KH, KW, sh, sw) = (g.kernel[1], g.kernel[2], g.strides[1], g.strides[2])
        let (dh, dw, ph, pw) = (g.dilations[1], g.dilations[2], g.pads[1], g.pads[2])
        par.forEach(planes) { range in
            for p in range {
                let ch = p % channels
                let src = x + p * IH * IW, dst = y + p * OH * OW, filter = w + ch * KH * KW
                let b = bias?[ch] ?? 0
                for oh in 0..<OH {
                    let row = dst + oh * OW
                    row.update(repeating: b, count: OW)
                    for kh in 0..<KH {
                        let ih = oh * sh - ph + kh * dh
                        guard ih >= 0 && ih < IH else { continue }
                        let line = src + ih * IW
                        for kw in 0..<KW {
                            let wv = filter[kh * KW + kw]
                            let off = kw * dw - pw
                            let lo = off >= 0 ? 0 : min(OW, (-off + sw - 1) / sw)
                            let hi = max(lo, min(OW, IW - off <= 0 ? 0 : (IW - off + sw - 1) / sw))
                            for ow in lo..<hi { row[ow] += wv * line[ow * sw + off] }
                        }
                    }
                }
            }
        }
    }

    static func buildConvTranspose(_ k: KernelContext) throws(OpError) -> Kernel {
        try k.requireDTypes([.float32])
        let attrs = try Convolution.ConvTransposeAttributes(k.op)
        let xs = k.inputShape(0), ws = k.inputShape(1), ys = k.outputShape(0)
        let n = xs[0], c = xs[1], group = attrs.group
        let cg = c / group, mg = ws[1], m = mg * group
        // The transposed conv scatters each input position through the kernel: col2im of Wᵀ·X.
        let g = Geometry3(input: Array(ys.dropFirst(2)), output: Array(xs.dropFirst(2)), kernel: attrs.kernel,
                          strides: attrs.strides, dilations: attrs.dilations, pads: attrs.padsBegin)
        let inSize = g.outputSize, outSize = g.inputSize, kSize = g.kernelSize
        let rows = mg * kSize
        let hasBias = k.op.hasInput(2)
        return Kernel(scratchBytes: rows * inSize * 4) { io, _ in
            let x = io.input(0, as: Float.self), w = io.input(1, as: Float.self), y = io.output(0, as: Float.self)
            let col = io.scratch!.assumingMemoryBound(to: Float.self)
            let bias = hasBias ? io.input(2, as: Float.self) : nil
            for image in 0..<n {
                for gi in 0..<group {
                    let xg = x + (image * c + gi * cg) * inSize
                    let yg = y + (image * m + gi * mg) * outSize
                    BLAS.sgemm(transA: true, m: rows, n: inSize, k: cg, a: w + gi * cg * rows, lda: rows, b: xg, ldb: inSize,
                               c: col, ldc: inSize)
                    for j in 0..<mg { (yg + j * outSize).update(repeating: bias?[gi * mg + j] ?? 0, count: outSize) }
                    col2im(col, yg, channels: mg, g)
                }
            }
        }
    }

    /// Accumulates `col` ([channels · kernel] × g.output) into `y` ([channels] × g.input): the adjoint of im2col.
    static func col2im(_ col: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, channels: Int, _ g: Geometry3) {
        let (ID, IH, IW) = (g.input[0], g.input[1], g.input[2])
        let (OD, OH, OW) = (g.output[0], g.output[1], g.output[2])
        let (KD, KH, KW) = (g.kernel[0], g.kernel[1], g.kernel[2])
        var src = col
        for r in 0..<(channels * KD * KH * KW) {
            var t = r
            let kw = t % KW; t /= KW
            let kh = t % KH; t /= KH
            let kd = t % KD; t /= KD
            let plane = y + t * ID * IH * IW
            for od in 0..<OD {
                let id = od * g.strides[0] - g.pads[0] + kd * g.dilations[0]
                for oh in 0..<OH {
                    let ih = oh * g.strides[1] - g.pads[1] + kh * g.dilations[1]
                    if id >= 0 && id < ID && ih >= 0 && ih < IH {
                        let line = plane + (id * IH + ih) * IW
                        for ow in 0..<OW {
                            let iw = ow * g.strides[2] - g.pads[2] + kw * g.dilations[2]
                            if iw >= 0 && iw < IW { line[iw] += src[ow] }
                        }
                    }
                    src += OW
                }
            }
        }
    }
}
