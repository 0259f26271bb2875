import VigilBLAS
import VigilIR
import VigilOps

/// QLinearConv, ConvInteger and QConv: the integer convolution.
extension IntegerKernels {
    /// A 2-D integer convolution's sizes (1-D ones have height 1).
    struct ConvSetup: Sendable {
        let n: Int, c: Int, ih: Int, iw: Int, m: Int, oh: Int, ow: Int
        let group: Int, cg: Int, mg: Int, kh: Int, kw: Int
        let sh: Int, sw: Int, dh: Int, dw: Int
        let top: Int, left: Int, bottom: Int, right: Int
        let xSigned: Bool, wSigned: Bool, output: OutputKind
        var ph: Int { ih + top + bottom }
        var pw: Int { iw + left + right }
        var padded: Bool { top + left + bottom + right > 0 }
        var depthwise: Bool { group == c && m == c }
        var k: Int { cg * kh * kw }
    }

    /// What a convolution computes with, for one set of parameters: packed weights and epilogues per
    /// group (or the depthwise kernel), the gather offsets of the taps, and the activations' zero point.
    final class ConvEngine: @unchecked Sendable {
        let packed: [Int8PackedWeights]
        let epilogues: [Int8Epilogue]
        let depthwise: Int8Depthwise?
        let rowOffsets: UnsafeMutablePointer<Int64>
        let xZero: Int32

        init(packed: [Int8PackedWeights], epilogues: [Int8Epilogue], depthwise: Int8Depthwise?, rowOffsets: [Int64], xZero: Int32) {
            self.packed = packed
            self.epilogues = epilogues
            self.depthwise = depthwise
            self.rowOffsets = .allocate(capacity: max(rowOffsets.count, 1))
            self.rowOffsets.initialize(from: rowOffsets, count: rowOffsets.count)
            self.xZero = xZero
        }

        deinit { rowOffsets.deallocate() }
    }

    static func convSetup(_ k: KernelContext, _ o: QuantizedOperands) throws(OpError) -> ConvSetup {
        let attrs = try Convolution.ConvAttributes(k.op, x: o.a, w: o.b, bias: o.bias)
        var xs = k.inputShape(o.a), ws = k.inputShape(o.b), ys = k.outputShape(0)
        var geo = attrs.geometry
        if xs.count == 3 {
            // 1-D: a 2-D convolution of height 1.
            xs.insert(1, at: 2); ws.insert(1, at: 2); ys.insert(1, at: 2)
            (geo.kernel, geo.strides, geo.dilations) = ([1] + geo.kernel, [1] + geo.strides, [1] + geo.dilations)
            (geo.padsBegin, geo.padsEnd) = ([0] + geo.padsBegin, [0] + geo.padsEnd)
        }
        guard xs.count == 4 else {
            throw k.error("the integer convolution runs 1-D and 2-D convolutions, not \(xs.count - 2)-D ones", subject: k.op.inputLabel(o.a))
        }
        return ConvSetup(
            n: xs[0], c: xs[1], ih: xs[2], iw: xs[3], m: ws[0], oh: ys[2], ow: ys[3], group: attrs.group, cg: xs[1] / attrs.group,
            mg: ws[0] / attrs.group, kh: ws[2], kw: ws[3], sh: geo.strides[0], sw: geo.strides[1], dh: geo.dilations[0], dw: geo.dilations[1],
            top: geo.padsBegin[0], left: geo.padsBegin[1], bottom: geo.padsEnd[0], right: geo.padsEnd[1],
            xSigned: k.inputDType(o.a) == .int8, wSigned: k.inputDType(o.b) == .int8, output: OutputKind(k.outputTypes[0].dtype))
    }

    /// Packs the weights and builds the epilogues for one set of parameters.
    static func convEngine(_ s: ConvSetup, _ p: Parameters, weights: UnsafeRawPointer, activation: PiecewiseLinear?) -> ConvEngine {
        let taps = s.kh * s.kw
        let rowOffsets = (0..<s.k).map { r in Int64((r / taps) * s.ph * s.pw + (r % taps / s.kw) * s.dh * s.pw + (r % s.kw) * s.dw) }
        if s.depthwise {
            var values = [Int16](repeating: 0, count: s.c * taps)
            for i in values.indices {
                let raw = s.wSigned ? Int16(weights.load(fromByteOffset: i, as: Int8.self)) : Int16(weights.load(fromByteOffset: i, as: UInt8.self))
                values[i] = raw - Int16(p.bZeros[i / taps])
            }
            let conv = Int8Depthwise(channels: s.c, paddedHeight: s.ph, paddedWidth: s.pw, outputHeight: s.oh, outputWidth: s.ow,
                                     kernel: (s.kh, s.kw), strides: (s.sh, s.sw), dilations: (s.dh, s.dw), weights: values,
                                     imageStride: s.m * s.oh * s.ow, channelStride: s.oh * s.ow)
            // The depthwise kernel multiplies the stored values: the correction is −x_zero_point · Σw.
            let e = epilogue(p, range: 0..<s.c, rowSums: conv.channelSums, shift: -p.aZero, output: s.output, activation: activation)
            return ConvEngine(packed: [], epilogues: [e], depthwise: conv, rowOffsets: rowOffsets, xZero: p.aZero)
        }
        var packed: [Int8PackedWeights] = [], epilogues: [Int8Epilogue] = []
        for gi in 0..<s.group {
            let range = (gi * s.mg)..<((gi + 1) * s.mg)
            let w = pack(weights + gi * s.mg * s.k, signed: s.wSigned, rows: 0..<s.mg, k: s.k, zeros: Array(p.bZeros[range]))
            packed.append(w)
            epilogues.append(epilogue(p, range: range, rowSums: w.rowSums, shift: w.activationShift(isSigned: s.xSigned, zeroPoint: p.aZero),
                                      output: s.output, activation: activation))
        }
        return ConvEngine(packed: packed, epilogues: epilogues, depthwise: nil, rowOffsets: rowOffsets, xZero: p.aZero)
    }

    static func buildConv(_ k: KernelContext, _ o: QuantizedOperands) throws(OpError) -> Kernel {
        let s = try convSetup(k, o)
        let activation = try activation(k, o)
        let op = k.op
        var prepared: ConvEngine?
        if let p = parameters(o, op, channels: s.m, read: constantReader(op)), let w = op.value(o.b)?.buffer {
            prepared = withExtendedLifetime(w) { convEngine(s, p, weights: w.baseAddress, activation: activation) }
        }
        let blockBytes = s.depthwise ? 0 : blockBytesForAnyVariant(reduction: s.k)
        let pixels = s.n * s.oh * s.ow
        let split = ConvolutionKernels.TaskGrid(pixels: pixels, panels: (s.mg + Int8PackedWeights.panelRows - 1) / Int8PackedWeights.panelRows,
                                                threads: k.parallelism)
        let slots = min(k.parallelism, max(split.count, 1)), slotBytes = (blockBytes + Int8PackedWeights.pixelBlock * 8 + 63) / 64 * 64
        let paddedBytes = s.padded ? s.n * s.c * s.ph * s.pw : 0
        return Kernel(scratchBytes: (paddedBytes + 63) / 64 * 64 + slots * slotBytes) { io, par throws(OpError) in
            let engine: ConvEngine
            if let prepared {
                engine = prepared
            } else {
                guard let p = parameters(o, op, channels: s.m, read: runReader(io, op)) else {
                    throw op.error("the zero points of \(op.inputLabel(o.a)) must be scalars")
                }
                engine = convEngine(s, p, weights: io.inputs[o.b]!, activation: activation)
            }
            var x = io.input(o.a, as: UInt8.self)
            let scratch = io.scratch?.assumingMemoryBound(to: UInt8.self)
            if s.padded, let scratch {
                let plane = s.ih * s.iw
                par.forEach(s.n * s.c, grain: max(1, 65536 / max(plane, 1))) { r in
                    Int8Quantization.padPlanes(x + r.lowerBound * plane, into: scratch + r.lowerBound * s.ph * s.pw, planes: r.count, height: s.ih,
                                               width: s.iw, top: s.top, bottom: s.bottom, left: s.left, right: s.right,
                                               fill: UInt8(truncatingIfNeeded: engine.xZero))
                }
                x = UnsafePointer(scratch)
            }
            let workspace = scratch.map { UnsafeMutableRawPointer($0 + (paddedBytes + 63) / 64 * 64) }
            runConv(s, engine, x: x, y: io.outputs[0], split: split, workspace: workspace, slotBytes: slotBytes, par: par)
        }
    }

    /// Computes the convolution from the (padded) input `x`.
    static func runConv(_ s: ConvSetup, _ engine: ConvEngine, x: UnsafePointer<UInt8>, y: UnsafeMutableRawPointer,
                        split: ConvolutionKernels.TaskGrid, workspace: UnsafeMutableRawPointer?, slotBytes: Int, par: Parallel) {
        if let depthwise = engine.depthwise {
            par.forEach(s.n * s.c) { r in
                depthwise.compute(x: x, isSigned: s.xSigned, planes: r, epilogue: engine.epilogues[0], output: y)
            }
            return
        }
        let elementSize = s.output == .int32 || s.output == .float ? 4 : 1
        let layout = Int8OutputLayout(pixelsPerImage: s.oh * s.ow, imageStride: s.m * s.oh * s.ow, pixelStride: 1, channelStride: s.oh * s.ow)
        let plane = s.oh * s.ow
        for gi in 0..<s.group {
            let weights = engine.packed[gi], epilogue = engine.epilogues[gi]
            let output = y + gi * s.mg * plane * elementSize
            let source = Int8Source(data: x + gi * s.cg * s.ph * s.pw, isSigned: s.xSigned, zeroPoint: engine.xZero,
                                    rowOffsets: UnsafePointer(engine.rowOffsets))
            par.forEachTask(split.count) { t, slot in
                let (pixels, panels) = split[t]
                guard !pixels.isEmpty, !panels.isEmpty, let workspace else { return }
                let block = workspace + slot * slotBytes
                let offsets = (block + slotBytes - Int8PackedWeights.pixelBlock * 8).assumingMemoryBound(to: Int64.self)
                var first = pixels.lowerBound
                while first < pixels.upperBound {
                    let count = min(Int8PackedWeights.pixelBlock, pixels.upperBound - first)
                    var image = first / plane, r = first % plane
                    for j in 0..<count {
                        offsets[j] = Int64(image * s.c * s.ph * s.pw + (r / s.ow) * s.sh * s.pw + (r % s.ow) * s.sw)
                        r += 1
                        if r == plane { r = 0; image += 1 }
                    }
                    weights.pack(source, pixelOffsets: offsets, count: count, into: block)
                    weights.compute(block: block, firstPixel: first, count: count, panels: panels, epilogue: epilogue, output: output, layout: layout)
                    first += count
                }
            }
        }
    }

    /// Workspace bytes of one packed block, for the current variant or the portable fallback.
    static func blockBytesForAnyVariant(reduction: Int) -> Int {
        max(Int8PackedWeights.blockBytes(variant: variant, reduction: reduction), Int8PackedWeights.blockBytes(variant: .portable, reduction: reduction))
    }
}
