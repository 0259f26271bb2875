import VigilBLAS
import VigilIR
import VigilOps

/// Vigil's fused QAdd, QActivation and QMaxPool: an Add (with an activation), an elementwise
/// activation and a MaxPool between per-tensor DequantizeLinear and QuantizeLinear nodes, computed on
/// the 8-bit values with the same float operations as the separate nodes (so the results are the same):
/// QAdd elementwise in C; QActivation as a table of the 256 possible results; QMaxPool as the maximum of
/// the quantized values (the dequantization is increasing) and a table requantizing it.
extension QuantizationKernels {
    static var elementwiseBuilders: [String: KernelBuilder] {
        [
            "\(FusedOps.domain)::QAdd": { k in try buildAdd(k) },
            "\(FusedOps.domain)::QActivation": { k in try buildActivation(k) },
            "\(FusedOps.domain)::QMaxPool": { k in try buildMaxPool(k) },
        ]
    }

    /// The constant per-tensor scale and zero point at two slots (the zero point 0 when omitted).
    static func constantParameters(_ k: KernelContext, scale: Int, zero: Int) throws(OpError) -> (Float, Int32) {
        guard let s = k.op.value(scale)?.numericDoubles?.first else {
            throw k.error("\(k.op.inputLabel(scale)) must be a constant", subject: k.op.inputLabel(scale))
        }
        guard k.op.hasInput(zero) else { return (Float(s), 0) }
        guard let z = k.op.value(zero)?.numericDoubles?.first else {
            throw k.error("\(k.op.inputLabel(zero)) must be a constant", subject: k.op.inputLabel(zero))
        }
        return (Float(s), Int32(z))
    }

    /// QuantizeLinear of one float value, as its kernel computes it.
    static func quantize(_ v: Float, scale: Float, zero: Int32, signed: Bool) -> UInt8 {
        let (qmin, qmax): (Float, Float) = signed ? (-128, 127) : (0, 255)
        var t = v / scale
        t = t.isNaN ? 0 : min(max(t, qmin - Float(zero) - 1), qmax - Float(zero) + 1)
        let q = min(max(t.rounded(.toNearestOrEven) + Float(zero), qmin), qmax)
        return signed ? UInt8(bitPattern: Int8(q)) : UInt8(q)
    }

    /// The 256 results of DQ → f → Q, indexed by the input's bit pattern.
    static func table(inputSigned: Bool, scale: Float, zero: Int32, outputSigned: Bool, outScale: Float, outZero: Int32,
                      _ f: (Float) -> Float) -> [UInt8] {
        (0..<256).map { bits in
            let value = inputSigned ? Int32(Int8(bitPattern: UInt8(bits))) : Int32(bits)
            return quantize(f(Float(value - zero) * scale), scale: outScale, zero: outZero, signed: outputSigned)
        }
    }

    static func buildAdd(_ k: KernelContext) throws(OpError) -> Kernel {
        let (sa, za) = try constantParameters(k, scale: 1, zero: 2), (sb, zb) = try constantParameters(k, scale: 4, zero: 5)
        let (sy, zy) = try constantParameters(k, scale: 6, zero: 7)
        let activation = try FusedActivation(fusedNode: k.op)
        guard activation == nil || activation?.piecewiseLinear != nil else {
            throw k.error("QAdd applies piecewise-linear activations only", subject: "activation")
        }
        let act = activation?.piecewiseLinear.map { EpilogueActivation(slope: $0.slope, low: $0.low, high: $0.high) } ?? .none
        let (aSigned, bSigned, ySigned) = (k.inputDType(0) == .int8, k.inputDType(3) == .int8, k.outputTypes[0].dtype == .int8)
        let count = k.outputShape(0).reduce(1, *)
        return Kernel { io, par in
            let a = io.input(0, as: UInt8.self), b = io.input(3, as: UInt8.self), y = io.output(0, as: UInt8.self)
            par.forEach(count, grain: 32768) { r in
                Int8Quantization.add(.init(values: a + r.lowerBound, isSigned: aSigned, scale: sa, zeroPoint: za),
                                     .init(values: b + r.lowerBound, isSigned: bSigned, scale: sb, zeroPoint: zb), count: r.count,
                                     activation: act, scale: sy, zeroPoint: zy, isSigned: ySigned, into: y + r.lowerBound)
            }
        }
    }

    static func buildActivation(_ k: KernelContext) throws(OpError) -> Kernel {
        let (sx, zx) = try constantParameters(k, scale: 1, zero: 2), (sy, zy) = try constantParameters(k, scale: 3, zero: 4)
        guard let activation = try FusedActivation(fusedNode: k.op) else { throw k.error("the attribute activation is missing", subject: "activation") }
        let lookup = table(inputSigned: k.inputDType(0) == .int8, scale: sx, zero: zx, outputSigned: k.outputTypes[0].dtype == .int8,
                           outScale: sy, outZero: zy, activation.function)
        let count = k.outputShape(0).reduce(1, *)
        return Kernel { io, par in
            let x = io.input(0, as: UInt8.self), y = io.output(0, as: UInt8.self)
            lookup.withUnsafeBufferPointer { t in
                par.forEach(count, grain: 65536) { r in Int8Quantization.lookup(x + r.lowerBound, count: r.count, table: t.baseAddress!, into: y + r.lowerBound) }
            }
        }
    }

    /// The maximum of the 8-bit values (2-D: in C; otherwise the float MaxPool kernel on their exact float
    /// values), then a table requantizing it (skipped when the parameters are the same).
    static func buildMaxPool(_ k: KernelContext) throws(OpError) -> Kernel {
        let (sx, zx) = try constantParameters(k, scale: 1, zero: 2), (sy, zy) = try constantParameters(k, scale: 3, zero: 4)
        let inputSigned = k.inputDType(0) == .int8, outputSigned = k.outputTypes[0].dtype == .int8
        let identity = sx == sy && zx == zy && inputSigned == outputSigned
        let lookup = table(inputSigned: inputSigned, scale: sx, zero: zx, outputSigned: outputSigned, outScale: sy, outZero: zy) { $0 }
        let pool = try Quantization.maxPool(k.op)
        let attrs = try Pooling.PoolAttributes(pool)
        let xs = k.inputShape(0), ys = k.outputShape(0), geo = attrs.geometry
        let outCount = ys.reduce(1, *)
        let requantize: @Sendable (UnsafeMutablePointer<UInt8>, Parallel) -> Void = { y, par in
            guard !identity else { return }
            lookup.withUnsafeBufferPointer { t in
                par.forEach(outCount, grain: 65536) { r in Int8Quantization.lookup(y + r.lowerBound, count: r.count, table: t.baseAddress!, into: y + r.lowerBound) }
            }
        }
        if xs.count == 4 {
            return Kernel { io, par in
                let x = io.input(0, as: UInt8.self), y = io.output(0, as: UInt8.self)
                let (planeIn, planeOut) = (xs[2] * xs[3], ys[2] * ys[3])
                par.forEach(xs[0] * xs[1], grain: max(1, 65536 / max(planeIn, 1))) { r in
                    Int8Quantization.maxPool(x + r.lowerBound * planeIn, isSigned: inputSigned, planes: r.count, input: (xs[2], xs[3]), output: (ys[2], ys[3]),
                                             kernel: (geo.kernel[0], geo.kernel[1]), strides: (geo.strides[0], geo.strides[1]),
                                             dilations: (geo.dilations[0], geo.dilations[1]), padTop: geo.padsBegin[0], padLeft: geo.padsBegin[1],
                                             into: y + r.lowerBound * planeOut)
                }
                requantize(y, par)
            }
        }
        let inner = try PoolingKernels.buildPool(KernelContext(op: pool, outputTypes: [TensorType(.float32, k.outputTypes[0].shape)],
                                                               parallelism: k.parallelism, winograd: false))
        let inCount = xs.reduce(1, *), floats = (inCount + outCount) * 4
        return Kernel(scratchBytes: floats + inner.scratchBytes) { io, par throws(OpError) in
            let x = io.input(0, as: UInt8.self), y = io.output(0, as: UInt8.self)
            let values = io.scratch!.assumingMemoryBound(to: Float.self), maxima = values + inCount
            par.forEach(inCount, grain: 65536) { r in
                for i in r { values[i] = inputSigned ? Float(Int8(bitPattern: x[i])) : Float(x[i]) }
            }
            try inner.run!(KernelIO(inputs: [UnsafeRawPointer(values)], outputs: [UnsafeMutableRawPointer(maxima)], scratch: io.scratch! + floats), par)
            // A window always holds an input value: every maximum is one of them.
            for i in 0..<outCount { y[i] = inputSigned ? UInt8(bitPattern: Int8(maxima[i])) : UInt8(maxima[i]) }
            requantize(y, par)
        }
    }
}
