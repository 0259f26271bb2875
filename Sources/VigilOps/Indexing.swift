import VigilIR

/// Ops that select, scatter, sort or accumulate along axes: Trilu, CumSum, ScatterND, TopK, NonZero.
public enum Indexing {
    static var descriptors: [OpDescriptor] {
        [
            OpDescriptor("Trilu", inputs: 1...2, since: 14, attributes: [.int("upper", 1)], infer: inferTrilu),
            OpDescriptor("CumSum", inputs: 2...2, since: 11, attributes: [.int("exclusive", 0), .int("reverse", 0)], infer: inferCumSum),
            OpDescriptor("ScatterND", inputs: 3...3, since: 11, attributes: [.string("reduction", "none")], infer: inferScatterND),
            // TopK takes k as an attribute before opset 10 and as an input from 10 on.
            OpDescriptor("TopK", inputs: 1...1, outputs: 2...2, since: 1, through: 9, attributes: [.int("axis", -1), .required("k", .int)],
                         infer: inferTopK),
            OpDescriptor("TopK", inputs: 2...2, outputs: 2...2, since: 10,
                         attributes: [.int("axis", -1), .int("largest", 1), .int("sorted", 1)], infer: inferTopK),
            OpDescriptor("NonZero", inputs: 1...1, since: 9, infer: inferNonZero),
        ]
    }

    static func inferTrilu(_ c: OpContext) throws(OpError) -> [InferredOutput] {
        let x = try c.input(0)
        guard x.rank >= 2 else { throw c.error("input must have rank ≥ 2, got \(x.shape)", subject: c.inputLabel(0)) }
        if c.hasInput(1) {
            let k = try c.requireType(1, in: [.int64])
            guard k.shape.elementCount == .fixed(1) || k.rank == 0 else { throw c.error("k must be a scalar", subject: c.inputLabel(1)) }
        }
        _ = try c.int("upper")
        return [InferredOutput(x)]
    }

    static func inferCumSum(_ c: OpContext) throws(OpError) -> [InferredOutput] {
        let x = try c.requireType(0, in: TypeSets.numeric)
        let axis = try c.requireType(1, in: TypeSets.indices)
        guard axis.shape.elementCount == .fixed(1) || axis.rank == 0 else { throw c.error("axis must be a scalar", subject: c.inputLabel(1)) }
        if let value = try c.intsInput(1) { _ = try c.axis(value[0], rank: x.rank) }
        return [InferredOutput(x)]
    }

    /// ScatterND's reduction: replace, or combine the update with the value in place.
    public enum ScatterReduction: String, Sendable { case none, add, mul, max, min }

    public static func scatterReduction(_ c: OpContext) throws(OpError) -> ScatterReduction {
        let name = try c.string("reduction")
        guard let reduction = ScatterReduction(rawValue: name), c.opset >= 16 || reduction == .none,
              c.opset >= 18 || reduction != .max && reduction != .min
        else { throw c.error("reduction '\(name)' is not valid at opset \(c.opset)", subject: "reduction") }
        return reduction
    }

    static func inferScatterND(_ c: OpContext) throws(OpError) -> [InferredOutput] {
        let data = try c.input(0)
        let indices = try c.requireType(1, in: [.int64])
        let updates = try c.input(2)
        _ = try scatterReduction(c)
        guard updates.dtype == data.dtype else { throw c.error("updates have type \(updates.dtype) but data \(data.dtype)", subject: c.inputLabel(2)) }
        guard indices.rank >= 1 else { throw c.error("indices must have rank ≥ 1", subject: c.inputLabel(1)) }
        if let depth = indices.shape.dims.last?.value {
            guard depth <= data.rank else { throw c.error("indices address \(depth) axes of a rank-\(data.rank) tensor", subject: c.inputLabel(1)) }
            let expected = Array(indices.shape.dims.dropLast()) + Array(data.shape.dims[depth...])
            guard updates.rank == expected.count,
                  zip(updates.shape.dims, expected).allSatisfy({ $0.value == nil || $1.value == nil || $0.value == $1.value })
            else { throw c.error("updates \(updates.shape) must have shape \(Shape(expected))", subject: c.inputLabel(2)) }
        }
        return [InferredOutput(data)]
    }

    /// TopK's resolved parameters.
    public struct TopKAttributes: Sendable {
        public var axis: Int
        public var k: Int?
        public var largest: Bool
        public var sorted: Bool

        public init(_ c: OpContext) throws(OpError) {
            let x = try c.requireType(0, in: TypeSets.numeric)
            axis = try c.axis(try c.int("axis"), rank: x.rank)
            if c.opset < 10 {
                k = try c.int("k")
                largest = true
                sorted = true
            } else {
                _ = try c.requireType(1, in: [.int64])
                k = try c.intsInput(1)?.first
                largest = c.opset < 11 ? true : try c.int("largest") != 0
                sorted = c.opset < 11 ? true : try c.int("sorted") != 0
            }
            if let k {
                guard k >= 0 else { throw c.error("k must be non-negative, got \(k)", subject: "k") }
                if let size = x.shape.dims[axis].value, k > size {
                    throw c.error("k \(k) exceeds the axis size \(size)", subject: "k")
                }
            }
        }
    }

    static func inferTopK(_ c: OpContext) throws(OpError) -> [InferredOutput] {
        let x = try c.input(0)
        let attrs: TopKAttributes
        do { attrs = try TopKAttributes(c) } catch where error.kind == .unresolved {
            var dims = x.shape.dims
            dims[try c.axis(try c.int("axis"), rank: x.rank)] = .unknown
            return [InferredOutput(TensorType(x.dtype, Shape(dims))), InferredOutput(TensorType(.int64, Shape(dims)))]
        }
        var dims = x.shape.dims
        dims[attrs.axis] = attrs.k.map { .fixed($0) } ?? .unknown
        return [InferredOutput(TensorType(x.dtype, Shape(dims))), InferredOutput(TensorType(.int64, Shape(dims)))]
    }

    /// NonZero's output shape is [rank, count of non-zero elements]: known only when the input is a
    /// constant (then inference computes the value itself).
    static func inferNonZero(_ c: OpContext) throws(OpError) -> [InferredOutput] {
        let x = try c.input(0)
        guard let value = c.value(0), x.dtype != .string, let sizes = x.shape.staticSizes else {
            return [InferredOutput(TensorType(.int64, Shape([.fixed(x.rank), .unknown])))]
        }
        let strides = sizes.indices.map { sizes[($0 + 1)...].reduce(1, *) }
        let nonZero = nonZeroIndices(value)
        var coordinates = [Int64](repeating: 0, count: x.rank * nonZero.count)
        for (j, flat) in nonZero.enumerated() {
            for axis in 0..<x.rank { coordinates[axis * nonZero.count + j] = Int64(flat / strides[axis] % sizes[axis]) }
        }
        let tensor = try? Tensor(int64: coordinates, shape: [x.rank, nonZero.count])
        return [InferredOutput(TensorType(.int64, static: [x.rank, nonZero.count]), value: tensor)]
    }

    /// Flat indices of a tensor's non-zero elements (any fixed-size type: an element is non-zero when
    /// any of its bytes is, except that -0.0 counts as zero for floats).
    static func nonZeroIndices(_ tensor: Tensor) -> [Int] {
        let flags: [Bool]
        switch tensor.dtype {
        case .float32: flags = tensor.scalars(as: Float.self).map { $0 != 0 }
        case .float64: flags = tensor.scalars(as: Double.self).map { $0 != 0 }
        case .float16: flags = tensor.scalars(as: Float16.self).map { $0 != 0 }
        default:
            guard let bytes = tensor.buffer?.bytes else { return [] }
            let size = (tensor.dtype.bitWidth ?? 8) / 8
            flags = (0..<tensor.elementCount).map { i in (0..<size).contains { bytes[i * size + $0] != 0 } }
        }
        return flags.indices.filter { flags[$0] }
    }
}
