import VigilIR

/// The type of a dense tensor value during inference: an element type and a shape whose dims may be
/// symbolic or unknown (the rank is always known).
public struct TensorType: Hashable, Sendable, CustomStringConvertible {
    public var dtype: DType
    public var shape: Shape

    public init(_ dtype: DType, _ shape: Shape) {
        self.dtype = dtype
        self.shape = shape
    }

    /// A fully static type.
    public init(_ dtype: DType, static sizes: [Int]) {
        self.init(dtype, Shape(static: sizes))
    }

    public var rank: Int { shape.rank }

    public var description: String { "\(dtype)\(shape)" }
}

/// One inferred output: its type and, when inference could compute it cheaply (Shape, Constant, …),
/// its value.
public struct InferredOutput: Sendable {
    public var type: TensorType
    public var value: Tensor?

    public init(_ type: TensorType, value: Tensor? = nil) {
        self.type = type
        self.value = value
    }
}

extension Dim {
    /// Applies `f` to a known size; symbolic and unknown dims become unknown.
    @inlinable
    public func map(_ f: (Int) -> Int) -> Dim {
        if let value { return .fixed(f(value)) }
        return .unknown
    }

    /// The product of two dims when both are known and it fits an `Int`; `1·d = d`.
    public static func * (lhs: Dim, rhs: Dim) -> Dim {
        if lhs == .fixed(1) { return rhs }
        if rhs == .fixed(1) { return lhs }
        if let a = lhs.value, let b = rhs.value {
            let (product, overflow) = a.multipliedReportingOverflow(by: b)
            return overflow ? .unknown : .fixed(product)
        }
        return .unknown
    }
}

extension Shape {
    /// The product of all dims (known only when every dim is).
    public var elementCount: Dim { dims.reduce(Dim.fixed(1), *) }
}

/// The numpy broadcast of two dims, or `nil` when they cannot broadcast.
/// A symbolic dim against a fixed size other than 1 takes the fixed size.
public func broadcastDims(_ a: Dim, _ b: Dim) -> Dim? {
    if a == b { return a }
    if a == .fixed(1) { return b }
    if b == .fixed(1) { return a }
    switch (a, b) {
    case (.fixed, .fixed): return nil
    case (.fixed, _): return a
    case (_, .fixed): return b
    default: return .unknown
    }
}

/// The numpy (multidirectional) broadcast of several shapes, or `nil` with the first clashing axis.
public func broadcastShapes(_ shapes: [Shape]) -> Result<Shape, BroadcastClash> {
    let rank = shapes.map(\.rank).max() ?? 0
    var dims = [Dim](repeating: .fixed(1), count: rank)
    for shape in shapes {
        let offset = rank - shape.rank
        for (i, dim) in shape.dims.enumerated() {
            guard let merged = broadcastDims(dims[offset + i], dim) else {
                return .failure(BroadcastClash(axis: offset + i, a: dims[offset + i], b: dim))
            }
            dims[offset + i] = merged
        }
    }
    return .success(Shape(dims))
}

/// Two dims that cannot be broadcast together, at an output axis.
public struct BroadcastClash: Error, Sendable {
    public var axis: Int
    public var a: Dim
    public var b: Dim
}
