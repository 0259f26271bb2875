import VigilIR
import VigilOps

/// Trilu, CumSum, ScatterND, TopK and NonZero. Trilu and ScatterND move bytes, so they serve every
/// fixed-size element type; CumSum and TopK compute on float32, float64, int32 and int64.
enum IndexingKernels {
    static var builders: [String: KernelBuilder] {
        [
            "Trilu": { k in try buildTrilu(k) }, "CumSum": { k in try buildCumSum(k) }, "ScatterND": { k in try buildScatterND(k) },
            "TopK": { k in try buildTopK(k) },
            "NonZero": { k throws(OpError) in
                throw k.op.error("NonZero's output shape depends on its input's values; it runs only when its input is a constant",
                                 kind: .unsupported)
            },
        ]
    }

    /// Keeps the upper (or lower) triangle of each matrix of the last two axes, from diagonal k.
    static func buildTrilu(_ k: KernelContext) throws(OpError) -> Kernel {
        let shape = k.inputShape(0), es = elementSize(k.inputDType(0))
        let rows = shape[shape.count - 2], columns = shape[shape.count - 1]
        let matrices = shape.dropLast(2).reduce(1, *)
        let upper = try k.op.int("upper") != 0, hasK = k.op.hasInput(1)
        return Kernel(inPlace: true) { io, _ in
            let diagonal = hasK ? Int(io.input(1, as: Int64.self)[0]) : 0
            let x = io.inputs[0]!, y = io.outputs[0]
            for m in 0..<matrices {
                for i in 0..<rows {
                    let row = (m * rows + i) * columns * es
                    for j in 0..<columns {
                        let keep = upper ? j - i >= diagonal : j - i <= diagonal
                        if keep { ShapeKernels.copyElement(y + row + j * es, x + row + j * es, es) }
                        else { (y + row + j * es).initializeMemory(as: UInt8.self, repeating: 0, count: es) }
                    }
                }
            }
        }
    }

    static func buildCumSum(_ k: KernelContext) throws(OpError) -> Kernel {
        let exclusive = try k.op.int("exclusive") != 0, reverse = try k.op.int("reverse") != 0
        switch k.inputDType(0) {
        case .float32: return try cumSum(k, Float.self, exclusive: exclusive, reverse: reverse, +)
        case .float64: return try cumSum(k, Double.self, exclusive: exclusive, reverse: reverse, +)
        case .int32: return try cumSum(k, Int32.self, exclusive: exclusive, reverse: reverse, &+)
        case .int64: return try cumSum(k, Int64.self, exclusive: exclusive, reverse: reverse, &+)
        case let other: throw k.error("the CPU kernel does not support \(other)", subject: k.op.inputLabel(0))
        }
    }

    static func cumSum<T: Numeric>(_ k: KernelContext, _: T.Type, exclusive: Bool, reverse: Bool, _ add: @escaping (T, T) -> T) throws(OpError) -> Kernel {
        let shape = k.inputShape(0), wideAxis = k.inputDType(1) == .int64, op = k.op
        return Kernel { io, _ throws(OpError) in
            let raw = wideAxis ? Int(io.input(1, as: Int64.self)[0]) : Int(io.input(1, as: Int32.self)[0])
            let axis = try op.axis(raw, rank: shape.count)
            let outer = shape[..<axis].reduce(1, *), size = shape[axis], inner = shape[(axis + 1)...].reduce(1, *)
            let x = io.input(0, as: T.self), y = io.output(0, as: T.self)
            for o in 0..<outer {
                for i in 0..<inner {
                    var sum = T.zero
                    for step in 0..<size {
                        let j = reverse ? size - 1 - step : step, index = (o * size + j) * inner + i
                        if exclusive { y[index] = sum; sum = add(sum, x[index]) } else { sum = add(sum, x[index]); y[index] = sum }
                    }
                }
            }
        }
    }

    /// Copies data, then writes (or combines) each update slice at the position its index tuple names.
    static func buildScatterND(_ k: KernelContext) throws(OpError) -> Kernel {
        let data = k.inputShape(0), indices = k.inputShape(1), es = elementSize(k.inputDType(0))
        let depth = indices.last!, tuples = indices.dropLast().reduce(1, *)
        let slice = data[depth...].reduce(1, *), strides = contiguousStrides(data)
        let reduction = try Indexing.scatterReduction(k.op)
        let combine = try scatterCombine(k, reduction)
        let total = data.reduce(1, *), op = k.op
        return Kernel(inPlace: true) { io, _ throws(OpError) in
            if io.outputs[0] != UnsafeMutableRawPointer(mutating: io.inputs[0]!) {
                io.outputs[0].copyMemory(from: io.inputs[0]!, byteCount: total * es)
            }
            let index = io.input(1, as: Int64.self)
            for t in 0..<tuples {
                var offset = 0
                for d in 0..<depth {
                    var i = Int(index[t * depth + d])
                    if i < 0 { i += data[d] }
                    guard i >= 0 && i < data[d] else {
                        throw op.error("index \(index[t * depth + d]) is out of range for axis \(d) of size \(data[d])", subject: op.inputLabel(1))
                    }
                    offset += i * strides[d]
                }
                let source = io.inputs[2]! + t * slice * es, target = io.outputs[0] + offset * es
                if let combine { combine(target, source, slice) } else { target.copyMemory(from: source, byteCount: slice * es) }
            }
        }
    }

    /// How a ScatterND reduction combines `count` updates into the data, or `nil` to replace.
    static func scatterCombine(_ k: KernelContext, _ reduction: Indexing.ScatterReduction) throws(OpError)
        -> (@Sendable (UnsafeMutableRawPointer, UnsafeRawPointer, Int) -> Void)?
    {
        func make<T: Comparable & Numeric & Sendable>(_: T.Type, _ add: @escaping @Sendable (T, T) -> T, _ mul: @escaping @Sendable (T, T) -> T)
            -> @Sendable (UnsafeMutableRawPointer, UnsafeRawPointer, Int) -> Void
        {
            let f: @Sendable (T, T) -> T
            switch reduction {
            case .add: f = add
            case .mul: f = mul
            case .max: f = { (a: T, b: T) in Swift.max(a, b) }
            default: f = { (a: T, b: T) in Swift.min(a, b) }
            }
            return { target, source, count in
                let t = target.assumingMemoryBound(to: T.self), s = source.assumingMemoryBound(to: T.self)
                for i in 0..<count { t[i] = f(t[i], s[i]) }
            }
        }
        guard reduction != .none else { return nil }
        switch k.inputDType(0) {
        case .float32: return make(Float.self, +, *)
        case .float64: return make(Double.self, +, *)
        case .int32: return make(Int32.self, { $0 &+ $1 }, { $0 &* $1 })
        case .int64: return make(Int64.self, { $0 &+ $1 }, { $0 &* $1 })
        case let other: throw k.error("ScatterND reduction '\(reduction.rawValue)' does not support \(other)", subject: "reduction")
        }
    }

    static func buildTopK(_ k: KernelContext) throws(OpError) -> Kernel {
        switch k.inputDType(0) {
        case .float32: return try topK(k, Float.self)
        case .float64: return try topK(k, Double.self)
        case .int32: return try topK(k, Int32.self)
        case .int64: return try topK(k, Int64.self)
        case .uint64: return try topK(k, UInt64.self)
        case .uint32: return try topK(k, UInt32.self)
        case .uint8: return try topK(k, UInt8.self)
        case .int8: return try topK(k, Int8.self)
        case let other: throw k.error("the CPU kernel does not support \(other)", subject: k.op.inputLabel(0))
        }
    }

    /// The k largest (or smallest) values along the axis and their indices; ties keep the lower
    /// index first, and NaN counts as larger than any number, as onnxruntime orders them.
    static func topK<T: Comparable & BinaryNumeric>(_ k: KernelContext, _: T.Type) throws(OpError) -> Kernel {
        let attrs = try Indexing.TopKAttributes(k.op)
        let shape = k.inputShape(0), axis = attrs.axis, count = k.outputShape(0)[axis]
        let outer = shape[..<axis].reduce(1, *), size = shape[axis], inner = shape[(axis + 1)...].reduce(1, *)
        let largest = attrs.largest
        return Kernel { io, par in
            let x = io.input(0, as: T.self), values = io.output(0, as: T.self), indices = io.output(1, as: Int64.self)
            par.forEach(outer * inner) { range in
                var order = [Int](repeating: 0, count: size)
                for line in range {
                    let o = line / inner, i = line % inner
                    let at = { (j: Int) in x[(o * size + j) * inner + i] }
                    for j in 0..<size { order[j] = j }
                    order.sort { a, b in
                        let (u, v) = (at(a), at(b))
                        // NaN ranks above every number; equal values keep their index order.
                        if u.isUnordered || v.isUnordered {
                            if u.isUnordered && v.isUnordered { return a < b }
                            return largest ? u.isUnordered : v.isUnordered
                        }
                        if u == v { return a < b }
                        return largest ? u > v : u < v
                    }
                    for r in 0..<count {
                        values[(o * count + r) * inner + i] = at(order[r])
                        indices[(o * count + r) * inner + i] = Int64(order[r])
                    }
                }
            }
        }
    }
}

/// Numbers TopK can order, NaN included.
protocol BinaryNumeric {
    /// Whether the value is NaN.
    var isUnordered: Bool { get }
}

extension Float: BinaryNumeric { var isUnordered: Bool { isNaN } }
extension Double: BinaryNumeric { var isUnordered: Bool { isNaN } }
extension Int32: BinaryNumeric { var isUnordered: Bool { false } }
extension Int64: BinaryNumeric { var isUnordered: Bool { false } }
extension UInt64: BinaryNumeric { var isUnordered: Bool { false } }
extension UInt32: BinaryNumeric { var isUnordered: Bool { false } }
extension UInt8: BinaryNumeric { var isUnordered: Bool { false } }
extension Int8: BinaryNumeric { var isUnordered: Bool { false } }
