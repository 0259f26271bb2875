import Foundation
import VigilIR
import VigilOps

/// Elementwise kernels: one generic unary kernel that runs the scalar function of any op whose
/// descriptor has an activation trait (``OpTraits/activation``), and a shared broadcasting engine
/// for binary and variadic ops.
enum ElementwiseKernels {
    static var builders: [String: KernelBuilder] {
        var table: [String: KernelBuilder] = [:]
        for op in Elementwise.arithmetic + Elementwise.comparisons + Elementwise.logical + ["Pow", "PRelu", "Mod"] {
            table[op] = { k in try buildBinary(k) }
        }
        for op in Elementwise.variadic { table[op] = { k in try buildVariadic(k) } }
        table["Not"] = { k in try buildNot(k) }
        table["Clip"] = { k in try buildClip(k) }
        table["Where"] = { k in try buildWhere(k) }
        return table
    }

    // MARK: Unary

    /// The kernel of any op with an activation trait: its scalar function over every element
    /// (inlined when it is piecewise linear), or its integer function on int32/int64 inputs.
    static func buildUnary(_ k: KernelContext) throws(OpError) -> Kernel {
        guard let activation = k.op.descriptor?.traits.activation else {
            throw k.error("\(k.node.opType) has no elementwise function")
        }
        let count = k.outputShape(0).reduce(1, *)
        switch k.inputDType(0) {
        case .float32:
            guard let parameters = try activation.parameterValues(k.op) else {
                throw k.error("the parameters of \(k.node.opType) must be constants")
            }
            if let form = activation.piecewiseLinear?(parameters) {
                let (slope, low, high) = (form.slope, form.low, form.high)
                return Kernel(inPlace: true) { io, par in
                    let x = io.input(0, as: Float.self), y = io.output(0, as: Float.self)
                    par.forEach(count, grain: 32768) { r in
                        for i in r {
                            let v = x[i] < 0 ? x[i] * slope : x[i]
                            y[i] = v < low ? low : (v > high ? high : v)
                        }
                    }
                }
            }
            let f = activation.function(parameters)
            return Kernel(inPlace: true) { io, par in
                let x = io.input(0, as: Float.self), y = io.output(0, as: Float.self)
                par.forEach(count, grain: 4096) { r in for i in r { y[i] = f(x[i]) } }
            }
        case .int64 where activation.integer != nil: return intUnary(activation.integer!, Int64.self, count)
        case .int32 where activation.integer != nil: return intUnary(activation.integer!, Int32.self, count)
        case let dtype: throw k.error("the CPU kernel does not support \(dtype)", subject: k.op.inputLabel(0))
        }
    }

    /// An integer function computed in Int64 and truncated (so that it wraps as numpy does).
    static func intUnary<T: FixedWidthInteger & SignedInteger>(_ f: @escaping @Sendable (Int64) -> Int64, _: T.Type, _ count: Int) -> Kernel {
        Kernel(inPlace: true) { io, _ in
            let x = io.input(0, as: T.self), y = io.output(0, as: T.self)
            for i in 0..<count { y[i] = T(truncatingIfNeeded: f(Int64(x[i]))) }
        }
    }

    static func buildNot(_ k: KernelContext) throws(OpError) -> Kernel {
        let count = k.outputShape(0).reduce(1, *)
        return Kernel(inPlace: true) { io, _ in
            let x = io.input(0, as: UInt8.self), y = io.output(0, as: UInt8.self)
            for i in 0..<count { y[i] = x[i] == 0 ? 1 : 0 }
        }
    }

    // MARK: Binary

    static func buildBinary(_ k: KernelContext) throws(OpError) -> Kernel {
        let op = k.node.opType
        let ix = BroadcastIndexer(output: k.outputShape(0), inputs: [k.inputShape(0), k.inputShape(1)])
        let inPlace = k.inputShape(0) == k.outputShape(0) && k.inputDType(0) == k.outputTypes[0].dtype
        let a = k.inputDType(0), b = k.inputDType(1)

        if op == "Pow", a == .int64 || a == .int32 {
            // Integer bases: compute in Double and truncate, as onnxruntime does.
            let count = k.inputShape(1).reduce(1, *)
            let loadExponent = try floatLoader(k, 1)
            let wide = a == .int64
            return Kernel(scratchBytes: count * 8) { io, par in
                let e = io.scratch!.assumingMemoryBound(to: Double.self)
                for i in 0..<count { e[i] = Double(loadExponent(io.inputs[1]!, i)) }
                if wide {
                    broadcastBinary(ix, io.input(0, as: Int64.self), UnsafePointer(e), io.output(0, as: Int64.self), par) { Int64(Foundation.pow(Double($0), $1)) }
                } else {
                    broadcastBinary(ix, io.input(0, as: Int32.self), UnsafePointer(e), io.output(0, as: Int32.self), par) { Int32(Foundation.pow(Double($0), $1)) }
                }
            }
        }
        if op == "Pow" {
            guard a == .float32 else { throw k.error("Pow supports float32, int32 and int64 bases, got \(a)", subject: k.op.inputLabel(0)) }
            let count = k.inputShape(1).reduce(1, *)
            let load = try floatLoader(k, 1)
            return Kernel(scratchBytes: count * 4, inPlace: inPlace) { io, par in
                let e = io.scratch!.assumingMemoryBound(to: Float.self)
                for i in 0..<count { e[i] = load(io.inputs[1]!, i) }
                broadcastBinary(ix, io.input(0, as: Float.self), UnsafePointer(e), io.output(0, as: Float.self), par) { powf($0, $1) }
            }
        }
        guard a == b else { throw k.error("inputs have different types \(a) and \(b)") }
        if Elementwise.logical.contains(op) {
            let f: (UInt8, UInt8) -> UInt8
            switch op {
            case "And": f = { $0 & $1 }
            case "Or": f = { $0 | $1 }
            default: f = { $0 ^ $1 }
            }
            return Kernel(inPlace: inPlace) { io, par in
                broadcastBinary(ix, io.input(0, as: UInt8.self), io.input(1, as: UInt8.self), io.output(0, as: UInt8.self), par) { f($0 != 0 ? 1 : 0, $1 != 0 ? 1 : 0) }
            }
        }
        if op == "Mod", a == .float32 || a == .float64 || a == .float16 {
            switch a {
            case .float32:
                return Kernel(inPlace: inPlace) { io, par in
                    broadcastBinary(ix, io.input(0, as: Float.self), io.input(1, as: Float.self), io.output(0, as: Float.self), par) { fmodf($0, $1) }
                }
            case .float64:
                return Kernel(inPlace: inPlace) { io, par in
                    broadcastBinary(ix, io.input(0, as: Double.self), io.input(1, as: Double.self), io.output(0, as: Double.self), par) { fmod($0, $1) }
                }
            default:
                return Kernel(inPlace: inPlace) { io, par in
                    broadcastBinary(ix, io.input(0, as: Float16.self), io.input(1, as: Float16.self), io.output(0, as: Float16.self), par) {
                        Float16(fmodf(Float($0), Float($1)))
                    }
                }
            }
        }
        switch a {
        case .float32: return try typedBinary(k, op, ix, Float.self, inPlace: inPlace, (+), (-), (*), (/))
        case .float64: return try typedBinary(k, op, ix, Double.self, inPlace: inPlace, (+), (-), (*), (/))
        case .float16: return try typedBinary(k, op, ix, Float16.self, inPlace: inPlace, (+), (-), (*), (/))
        case .int64: return try integerBinary(k, op, ix, Int64.self, inPlace: inPlace)
        case .int32: return try integerBinary(k, op, ix, Int32.self, inPlace: inPlace)
        case .int16: return try integerBinary(k, op, ix, Int16.self, inPlace: inPlace)
        case .int8: return try integerBinary(k, op, ix, Int8.self, inPlace: inPlace)
        case .uint64: return try integerBinary(k, op, ix, UInt64.self, inPlace: inPlace)
        case .uint32: return try integerBinary(k, op, ix, UInt32.self, inPlace: inPlace)
        case .uint16: return try integerBinary(k, op, ix, UInt16.self, inPlace: inPlace)
        case .uint8: return try integerBinary(k, op, ix, UInt8.self, inPlace: inPlace)
        case .bool where op == "Equal":
            return Kernel { io, par in
                broadcastBinary(ix, io.input(0, as: UInt8.self), io.input(1, as: UInt8.self), io.output(0, as: UInt8.self), par) { ($0 != 0) == ($1 != 0) ? 1 : 0 }
            }
        default: throw k.error("the CPU kernel does not support \(a) for \(op)", subject: k.op.inputLabel(0))
        }
    }

    /// Integer arithmetic wraps on overflow (as numpy and onnxruntime do); division truncates toward zero.
    static func integerBinary<T: FixedWidthInteger>(
        _ k: KernelContext, _ op: String, _ ix: BroadcastIndexer, _: T.Type, inPlace: Bool
    ) throws(OpError) -> Kernel {
        if op == "Mod" {
            // fmod 1: the truncated remainder (sign of the dividend); fmod 0: the sign of the divisor.
            let truncated = try k.op.int("fmod") != 0
            return Kernel(inPlace: inPlace) { io, par in
                broadcastBinary(ix, io.input(0, as: T.self), io.input(1, as: T.self), io.output(0, as: T.self), par) { a, b in
                    guard b != 0 else { return 0 }
                    let r = a.remainderReportingOverflow(dividingBy: b).partialValue
                    return truncated || r == 0 || (r < 0) == (b < 0) ? r : r &+ b
                }
            }
        }
        return try typedBinary(k, op, ix, T.self, inPlace: inPlace, (&+), (&-), (&*)) { $1 == 0 ? 0 : $0.dividedReportingOverflow(by: $1).partialValue }
    }

    /// Arithmetic and comparisons on one numeric type, given its arithmetic.
    static func typedBinary<T: Numeric & Comparable>(
        _ k: KernelContext, _ op: String, _ ix: BroadcastIndexer, _: T.Type, inPlace: Bool,
        _ add: @escaping (T, T) -> T, _ subtract: @escaping (T, T) -> T, _ multiply: @escaping (T, T) -> T,
        _ divide: @escaping (T, T) -> T
    ) throws(OpError) -> Kernel {
        func arith(_ f: @escaping (T, T) -> T) -> Kernel {
            Kernel(inPlace: inPlace) { io, par in
                broadcastBinary(ix, io.input(0, as: T.self), io.input(1, as: T.self), io.output(0, as: T.self), par, f)
            }
        }
        func compare(_ f: @escaping (T, T) -> Bool) -> Kernel {
            Kernel { io, par in
                broadcastBinary(ix, io.input(0, as: T.self), io.input(1, as: T.self), io.output(0, as: UInt8.self), par) { f($0, $1) ? 1 : 0 }
            }
        }
        switch op {
        case "Add": return arith(add)
        case "Sub": return arith(subtract)
        case "Mul": return arith(multiply)
        case "Div": return arith(divide)
        case "PRelu": return arith { $0 < 0 ? multiply($0, $1) : $0 }
        case "Equal": return compare(==)
        case "Greater": return compare(>)
        case "Less": return compare(<)
        case "GreaterOrEqual": return compare(>=)
        case "LessOrEqual": return compare(<=)
        default: throw k.error("unsupported op \(op)")
        }
    }

    /// Reads element `i` of input `index` as Float, whatever its numeric dtype.
    static func floatLoader(_ k: KernelContext, _ index: Int) throws(OpError) -> (UnsafeRawPointer, Int) -> Float {
        switch k.inputDType(index) {
        case .float32: return { $0.load(fromByteOffset: $1 * 4, as: Float.self) }
        case .float64: return { Float($0.load(fromByteOffset: $1 * 8, as: Double.self)) }
        case .int64: return { Float($0.load(fromByteOffset: $1 * 8, as: Int64.self)) }
        case .int32: return { Float($0.load(fromByteOffset: $1 * 4, as: Int32.self)) }
        case .uint32: return { Float($0.load(fromByteOffset: $1 * 4, as: UInt32.self)) }
        case .uint64: return { Float($0.load(fromByteOffset: $1 * 8, as: UInt64.self)) }
        default: throw k.error("unsupported type \(k.inputDType(index))", subject: k.op.inputLabel(index))
        }
    }

    // MARK: Variadic

    static func buildVariadic(_ k: KernelContext) throws(OpError) -> Kernel {
        switch k.inputDType(0) {
        case .float32:
            return variadic(k, Float.self, add: (+), mean: { $0 / Float($1) },
                            max: { $0.isNaN || $1.isNaN ? .nan : Swift.max($0, $1) }, min: { $0.isNaN || $1.isNaN ? .nan : Swift.min($0, $1) })
        case .float64:
            return variadic(k, Double.self, add: (+), mean: { $0 / Double($1) },
                            max: { $0.isNaN || $1.isNaN ? .nan : Swift.max($0, $1) }, min: { $0.isNaN || $1.isNaN ? .nan : Swift.min($0, $1) })
        case .float16:
            return variadic(k, Float16.self, add: (+), mean: { $0 / Float16($1) },
                            max: { $0.isNaN || $1.isNaN ? .nan : Swift.max($0, $1) }, min: { $0.isNaN || $1.isNaN ? .nan : Swift.min($0, $1) })
        case .int64: return integerVariadic(k, Int64.self)
        case .int32: return integerVariadic(k, Int32.self)
        case .int16: return integerVariadic(k, Int16.self)
        case .int8: return integerVariadic(k, Int8.self)
        case .uint64: return integerVariadic(k, UInt64.self)
        case .uint32: return integerVariadic(k, UInt32.self)
        case .uint16: return integerVariadic(k, UInt16.self)
        case .uint8: return integerVariadic(k, UInt8.self)
        default: throw k.error("the CPU kernel does not support \(k.inputDType(0))", subject: k.op.inputLabel(0))
        }
    }

    static func integerVariadic<T: FixedWidthInteger>(_ k: KernelContext, _: T.Type) -> Kernel {
        variadic(k, T.self, add: (&+), mean: { $0 / T($1) }, max: { Swift.max($0, $1) }, min: { Swift.min($0, $1) })
    }

    /// Max/Min/Sum/Mean: broadcast-copy the first input, then fold the others in place.
    static func variadic<T>(
        _ k: KernelContext, _: T.Type, add: @escaping (T, T) -> T, mean: @escaping (T, Int) -> T,
        max: @escaping (T, T) -> T, min: @escaping (T, T) -> T
    ) -> Kernel {
        let op = k.node.opType
        let out = k.outputShape(0)
        let n = k.node.inputs.count
        let indexers = (0..<n).map { BroadcastIndexer(output: out, inputs: [out, k.inputShape($0)]) }
        let first = BroadcastIndexer(output: out, inputs: [k.inputShape(0)])
        let count = out.reduce(1, *)
        let f: (T, T) -> T = op == "Max" ? max : (op == "Min" ? min : add)
        let size = MemoryLayout<T>.stride
        return Kernel { io, par in
            let y = io.output(0, as: T.self)
            broadcastCopy(first, io.inputs[0]!, io.outputs[0], elementSize: size)
            for i in 1..<Swift.max(n, 1) { broadcastBinary(indexers[i], UnsafePointer(y), io.input(i, as: T.self), y, par, f) }
            if op == "Mean" { for i in 0..<count { y[i] = mean(y[i], n) } }
        }
    }

    // MARK: Clip, Where

    static func buildClip(_ k: KernelContext) throws(OpError) -> Kernel {
        let count = k.outputShape(0).reduce(1, *)
        guard k.inputDType(0) == .float32 || k.inputDType(0) == .float64 || TypeSets.int.contains(k.inputDType(0)) else {
            throw k.error("the CPU kernel does not support \(k.inputDType(0))", subject: k.op.inputLabel(0))
        }
        if k.op.opset < 11 {
            let lo = try k.op.float("min"), hi = try k.op.float("max")
            return Kernel(inPlace: true) { io, _ in
                let x = io.input(0, as: Float.self), y = io.output(0, as: Float.self)
                for i in 0..<count { y[i] = min(max(x[i], lo), hi) }
            }
        }
        let hasMin = k.op.hasInput(1), hasMax = k.op.hasInput(2)
        func clip<T: Comparable>(_: T.Type, _ lowest: T, _ highest: T) -> Kernel {
            Kernel(inPlace: true) { io, _ in
                let lo = hasMin ? io.input(1, as: T.self)[0] : lowest
                let hi = hasMax ? io.input(2, as: T.self)[0] : highest
                let x = io.input(0, as: T.self), y = io.output(0, as: T.self)
                for i in 0..<count {
                    let v = x[i] < lo ? lo : x[i]
                    y[i] = v > hi ? hi : v
                }
            }
        }
        switch k.inputDType(0) {
        case .float32: return clip(Float.self, -.infinity, .infinity)
        case .float64: return clip(Double.self, -.infinity, .infinity)
        case .int64: return clip(Int64.self, .min, .max)
        case .int32: return clip(Int32.self, .min, .max)
        case .int16: return clip(Int16.self, .min, .max)
        case .int8: return clip(Int8.self, .min, .max)
        case .uint64: return clip(UInt64.self, .min, .max)
        case .uint32: return clip(UInt32.self, .min, .max)
        case .uint16: return clip(UInt16.self, .min, .max)
        default: return clip(UInt8.self, .min, .max)
        }
    }

    static func buildWhere(_ k: KernelContext) throws(OpError) -> Kernel {
        let out = k.outputShape(0)
        let size = elementSize(k.inputDType(1))
        let ix = BroadcastIndexer(output: out, inputs: [k.inputShape(0), k.inputShape(1), k.inputShape(2)])
        return Kernel { io, _ in
            let cond = io.input(0, as: UInt8.self)
            let s = ix.innerStrides
            ix.forEachRow(0..<ix.rows) { o, offs, n in
                for i in 0..<n {
                    let pick = cond[offs[0] + i * s[0]] != 0
                    let src = pick ? io.inputs[1]! + (offs[1] + i * s[1]) * size : io.inputs[2]! + (offs[2] + i * s[2]) * size
                    (io.outputs[0] + (o + i) * size).copyMemory(from: src, byteCount: size)
                }
            }
        }
    }
}
