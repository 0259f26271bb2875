import VigilBLAS
import VigilIR
import VigilOps

/// QuantizeLinear, DequantizeLinear and DynamicQuantizeLinear (the integer ops QLinearConv,
/// ConvInteger, QLinearMatMul, MatMulInteger and Vigil's fused QConv/QMatMul are in
/// `IntegerKernels.swift`). float32 ↔ int8/uint8 per tensor or per axis runs on the C loops of
/// `VigilBLAS.Int8Quantization` in parallel; the other forms (int16, uint16, int32, the packed 4- and
/// 2-bit types, float16/bfloat16 real values, blocked scales) element by element.
enum QuantizationKernels {
    static var builders: [String: KernelBuilder] {
        elementwiseBuilders.merging([
            "QuantizeLinear": { k in try buildQuantize(k) },
            "DequantizeLinear": { k in try buildDequantize(k) },
            "DynamicQuantizeLinear": { k in try buildDynamicQuantize(k) },
            "QLinearConv": { k in try IntegerKernels.buildConv(k, .qLinearConv) },
            "ConvInteger": { k in try IntegerKernels.buildConv(k, .convInteger) },
            "\(FusedOps.domain)::QConv": { k in try IntegerKernels.buildConv(k, .fusedConv) },
            "QLinearMatMul": { k in try IntegerKernels.buildMatMul(k, .qLinearMatMul) },
            "MatMulInteger": { k in try IntegerKernels.buildMatMul(k, .matMulInteger) },
            "\(FusedOps.domain)::QMatMul": { k in try IntegerKernels.buildMatMul(k, .fusedMatMul) },
        ]) { _, _ in preconditionFailure("two quantization kernels for one op") }
    }

    /// Where each element finds its scale and zero point: element i of a tensor of `count` elements
    /// uses parameter `index(i)`.
    struct ParameterIndex {
        let granularity: LinearQuantization.Granularity
        /// Elements after the axis, the axis size, and the parameters along the axis.
        let inner: Int, axisSize: Int, along: Int

        init(_ granularity: LinearQuantization.Granularity, shape: [Int]) {
            self.granularity = granularity
            switch granularity {
            case .perTensor:
                // One run over every element.
                (inner, axisSize, along) = (max(1, shape.reduce(1, *)), 1, 1)
            case .perAxis(let axis):
                (inner, axisSize, along) = (shape[(axis + 1)...].reduce(1, *), shape[axis], shape[axis])
            case .blocked(let axis, let size):
                (inner, axisSize, along) = (shape[(axis + 1)...].reduce(1, *), shape[axis], (shape[axis] + size - 1) / size)
            }
        }

        /// Whether runs of `inner` elements share one parameter and are long enough for the C loops.
        var runsShareParameters: Bool {
            switch granularity {
            case .perTensor: true
            case .perAxis: inner >= 16
            case .blocked: false
            }
        }

        func callAsFunction(_ i: Int) -> Int {
            switch granularity {
            case .perTensor: return 0
            case .perAxis: return (i / inner) % axisSize
            case .blocked(_, let size):
                let a = (i / inner) % axisSize, outer = i / (inner * axisSize)
                return (outer * along + a / size) * inner + i % inner
            }
        }
    }

    /// Calls `body(start, length, parameter)` on pieces of `0..<count` in parallel, each piece within one
    /// run of elements sharing a parameter.
    static func forEachRun(_ count: Int, _ index: ParameterIndex, _ par: Parallel, _ body: (Int, Int, Int) -> Void) {
        par.forEach(count, grain: 32768) { r in
            var i = r.lowerBound
            while i < r.upperBound {
                let end = min(r.upperBound, (i / index.inner + 1) * index.inner)
                body(i, end - i, index(i))
                i = end
            }
        }
    }

    /// Reads element i of a quantized tensor as an integer (sub-byte types are packed, low bits first).
    static func integerLoader(_ dtype: DType) -> ((UnsafeRawPointer, Int) -> Int)? {
        switch dtype {
        case .int4, .uint4, .int2, .uint2:
            let bits = dtype.bitWidth!, signed = dtype == .int4 || dtype == .int2
            let perByte = 8 / bits, mask = (1 << bits) - 1
            return { p, i in
                let raw = Int(p.load(fromByteOffset: i / perByte, as: UInt8.self) >> UInt8((i % perByte) * bits)) & mask
                return signed && raw >= 1 << (bits - 1) ? raw - (1 << bits) : raw
            }
        default:
            guard let load = ShapeKernels.loader(dtype) else { return nil }
            return { p, i in
                if case .int(let v) = load(p, i) { return Int(v) }
                return 0
            }
        }
    }

    /// Writes element i of a quantized tensor (sub-byte types: read-modify-write of its byte).
    static func integerStorer(_ dtype: DType) -> ((UnsafeMutableRawPointer, Int, Int) -> Void)? {
        switch dtype {
        case .int4, .uint4, .int2, .uint2:
            let bits = dtype.bitWidth!, perByte = 8 / bits, mask = (1 << bits) - 1
            return { p, i, v in
                let shift = UInt8((i % perByte) * bits)
                let old = p.load(fromByteOffset: i / perByte, as: UInt8.self)
                let cleared = old & ~(UInt8(mask) << shift)
                p.storeBytes(of: cleared | (UInt8(v & mask) << shift), toByteOffset: i / perByte, as: UInt8.self)
            }
        default:
            guard let store = ShapeKernels.storer(dtype) else { return nil }
            return { p, i, v in store(p, i, .int(Int64(v))) }
        }
    }

    /// Reads element i of a float (or int32) tensor as Float.
    static func realLoader(_ dtype: DType) -> ((UnsafeRawPointer, Int) -> Float)? {
        guard let load = ShapeKernels.loader(dtype) else { return nil }
        return { p, i in
            switch load(p, i) {
            case .float(let v): Float(v)
            case .int(let v): Float(v)
            }
        }
    }

    /// The scale values (as Float) and zero points of a node's inputs 1 and 2.
    static func parameters(_ io: KernelIO, scaleType: DType, zeroType: DType?, count: Int) -> (scales: [Float], zeros: [Int]) {
        let loadScale = realLoader(scaleType)!
        let scales = (0..<count).map { loadScale(io.inputs[1]!, $0) }
        guard let zeroType, let pointer = io.inputs[2], let load = integerLoader(zeroType) else {
            return (scales, [Int](repeating: 0, count: count))
        }
        return (scales, (0..<count).map { load(pointer, $0) })
    }

    static func buildQuantize(_ k: KernelContext) throws(OpError) -> Kernel {
        let q = try LinearQuantization(quantize: k.op)
        let shape = k.inputShape(0), count = shape.reduce(1, *)
        let index = ParameterIndex(q.granularity, shape: shape)
        let scaleType = k.inputDType(1), parameterCount = k.inputShape(1).reduce(1, *)
        let zeroType: DType? = k.op.hasInput(2) ? k.inputDType(2) : nil
        guard let range = Quantization.integerRange(q.quantized), let store = integerStorer(q.quantized),
              let load = realLoader(k.inputDType(0)) else {
            throw k.error("the CPU kernel does not quantize \(k.inputDType(0)) to \(q.quantized)", subject: k.op.inputLabel(0))
        }
        if k.inputDType(0) == .float32, q.quantized == .int8 || q.quantized == .uint8, index.runsShareParameters {
            let signed = q.quantized == .int8
            return Kernel { io, par in
                let (scales, zeros) = parameters(io, scaleType: scaleType, zeroType: zeroType, count: parameterCount)
                let x = io.input(0, as: Float.self), y = io.output(0, as: UInt8.self)
                forEachRun(count, index, par) { start, length, p in
                    Int8Quantization.quantize(x + start, count: length, scale: scales[p], zeroPoint: Int32(zeros[p]),
                                              range: Int32(range.lowerBound)...Int32(range.upperBound), isSigned: signed, into: y + start)
                }
            }
        }
        return Kernel { io, _ in
            let (scales, zeros) = parameters(io, scaleType: scaleType, zeroType: zeroType, count: parameterCount)
            for i in 0..<count {
                let p = index(i)
                let t = load(io.inputs[0]!, i) / scales[p]
                let v = t.isNaN ? zeros[p] : Int(max(-1e15, min(1e15, t)).rounded(.toNearestOrEven)) + zeros[p]
                store(io.outputs[0], i, min(max(v, range.lowerBound), range.upperBound))
            }
        }
    }

    static func buildDequantize(_ k: KernelContext) throws(OpError) -> Kernel {
        let q = try LinearQuantization(dequantize: k.op)
        let shape = k.inputShape(0), count = shape.reduce(1, *)
        let index = ParameterIndex(q.granularity, shape: shape)
        let scaleType = k.inputDType(1), parameterCount = k.inputShape(1).reduce(1, *)
        let zeroType: DType? = k.op.hasInput(2) ? k.inputDType(2) : nil
        guard let load = integerLoader(q.quantized), let store = ShapeKernels.storer(q.real) else {
            throw k.error("the CPU kernel does not dequantize \(q.quantized) to \(q.real)", subject: k.op.inputLabel(0))
        }
        if q.real == .float32, q.quantized == .int8 || q.quantized == .uint8, index.runsShareParameters {
            let signed = q.quantized == .int8
            return Kernel { io, par in
                let (scales, zeros) = parameters(io, scaleType: scaleType, zeroType: zeroType, count: parameterCount)
                let x = io.input(0, as: UInt8.self), y = io.output(0, as: Float.self)
                forEachRun(count, index, par) { start, length, p in
                    Int8Quantization.dequantize(x + start, count: length, isSigned: signed, zeroPoint: Int32(zeros[p]), scale: scales[p], into: y + start)
                }
            }
        }
        return Kernel { io, _ in
            let (scales, zeros) = parameters(io, scaleType: scaleType, zeroType: zeroType, count: parameterCount)
            for i in 0..<count {
                let p = index(i)
                store(io.outputs[0], i, .float(Double(Float(load(io.inputs[0]!, i) - zeros[p]) * scales[p])))
            }
        }
    }

    /// DynamicQuantizeLinear: the uint8 range of [min(0, min x), max(0, max x)], then QuantizeLinear.
    static func buildDynamicQuantize(_ k: KernelContext) throws(OpError) -> Kernel {
        let count = k.inputShape(0).reduce(1, *)
        return Kernel { io, par in
            let x = io.input(0, as: Float.self)
            var low: Float = 0, high: Float = 0
            for i in 0..<count where !x[i].isNaN {
                low = min(low, x[i])
                high = max(high, x[i])
            }
            let scale = (high - low) / 255
            let zero = scale == 0 ? 0 : Int32(max(0, min(255, (-low / scale).rounded(.toNearestOrEven))))
            io.output(1, as: Float.self).pointee = scale
            io.output(2, as: UInt8.self).pointee = UInt8(zero)
            let y = io.output(0, as: UInt8.self)
            guard scale > 0 else {
                y.update(repeating: 0, count: count)
                return
            }
            par.forEach(count, grain: 32768) { r in
                Int8Quantization.quantize(x + r.lowerBound, count: r.count, scale: scale, zeroPoint: zero, range: 0...255, isSigned: false,
                                          into: y + r.lowerBound)
            }
        }
    }
}
