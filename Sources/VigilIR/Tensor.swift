/// Where a tensor's bytes came from when they were read from an ONNX external data file.
/// This is provenance for reporting; it takes no part in tensor equality.
public struct ExternalDataSource: Hashable, Sendable {
    /// The `location` as written in the model, relative to the model's folder.
    public var location: String
    public var offset: Int
    public var length: Int

    public init(location: String, offset: Int, length: Int) {
        self.location = location
        self.offset = offset
        self.length = length
    }
}

/// An immutable, typed, dense tensor: constant data such as a weight or an attribute value.
///
/// Fixed-size types keep little-endian bytes in a ``TensorBuffer`` (sub-byte types packed, low
/// nibble first); `string` tensors keep their elements as byte strings.
public struct Tensor: Sendable, CustomStringConvertible {
    /// How the elements are stored.
    public enum Contents: Sendable {
        case bytes(TensorBuffer)
        case strings([[UInt8]])
    }

    public let dtype: DType
    public let shape: [Int]
    public let contents: Contents
    /// Set when the bytes were read from an external data file.
    public var externalSource: ExternalDataSource?

    /// Errors raised when tensor data and shape disagree.
    public enum LayoutError: Error, Equatable, CustomStringConvertible {
        /// The shape has a negative size or its element count overflows.
        case invalidShape([Int])
        /// The data holds a different number of bytes than the shape needs.
        case byteCountMismatch(expected: Int, actual: Int)
        /// The data holds a different number of string elements than the shape needs.
        case elementCountMismatch(expected: Int, actual: Int)
        /// Strings were given for a fixed-size type, or bytes for `string`.
        case contentsDoNotMatchType(DType)

        public var description: String {
            switch self {
            case .invalidShape(let shape): "invalid shape \(shape)"
            case .byteCountMismatch(let expected, let actual): "data has \(actual) bytes but the shape needs \(expected)"
            case .elementCountMismatch(let expected, let actual): "data has \(actual) elements but the shape needs \(expected)"
            case .contentsDoNotMatchType(let dtype): "data does not match the element type \(dtype)"
            }
        }
    }

    /// Creates a tensor after checking that the data fits the shape exactly.
    public init(dtype: DType, shape: [Int], contents: Contents, externalSource: ExternalDataSource? = nil) throws(LayoutError) {
        guard let count = checkedElementCount(shape) else { throw .invalidShape(shape) }
        switch contents {
        case .bytes(let buffer):
            guard let expected = dtype.storageBytes(count: count) else { throw .contentsDoNotMatchType(dtype) }
            guard buffer.count == expected else { throw .byteCountMismatch(expected: expected, actual: buffer.count) }
        case .strings(let strings):
            guard dtype == .string else { throw .contentsDoNotMatchType(dtype) }
            guard strings.count == count else { throw .elementCountMismatch(expected: count, actual: strings.count) }
        }
        self.dtype = dtype
        self.shape = shape
        self.contents = contents
        self.externalSource = externalSource
    }

    /// A tensor of fixed-size scalars, copied from an array.
    public init<T: BitwiseCopyable>(_ dtype: DType, shape: [Int], scalars: [T]) throws(LayoutError) {
        let buffer = scalars.withUnsafeBytes { TensorBuffer(copying: $0) }
        try self.init(dtype: dtype, shape: shape, contents: .bytes(buffer))
    }

    /// A float32 tensor.
    public init(float32 values: [Float], shape: [Int]) throws(LayoutError) {
        try self.init(.float32, shape: shape, scalars: values)
    }

    /// An int64 tensor.
    public init(int64 values: [Int64], shape: [Int]) throws(LayoutError) {
        try self.init(.int64, shape: shape, scalars: values)
    }

    /// Number of elements.
    public var elementCount: Int { shape.reduce(1, *) }

    /// Bytes of storage: the buffer size, or the sum of string lengths.
    public var byteCount: Int {
        switch contents {
        case .bytes(let buffer): buffer.count
        case .strings(let strings): strings.reduce(0) { $0 + $1.count }
        }
    }

    /// The raw bytes of a fixed-size tensor; `nil` for strings.
    public var buffer: TensorBuffer? {
        if case .bytes(let buffer) = contents { return buffer }
        return nil
    }

    /// The elements decoded as `T`, which must match the dtype's width (e.g. `Float` for float32).
    public func scalars<T: BitwiseCopyable>(as type: T.Type) -> [T] {
        guard let buffer, MemoryLayout<T>.size * elementCount == buffer.count else {
            preconditionFailure("scalars(as: \(T.self)) on a \(dtype) tensor")
        }
        return Array(unsafeUninitializedCapacity: elementCount) { target, initialized in
            UnsafeMutableRawBufferPointer(target).copyMemory(from: buffer.bytes)
            initialized = elementCount
        }
    }

    /// The string elements; `nil` unless the dtype is `string`.
    public var strings: [[UInt8]]? {
        if case .strings(let strings) = contents { return strings }
        return nil
    }

    public var description: String { "\(dtype)\(shape)" }
}

extension Tensor: Equatable {
    /// Tensors are equal when type, shape and stored bytes agree; the external source is ignored.
    public static func == (lhs: Tensor, rhs: Tensor) -> Bool {
        guard lhs.dtype == rhs.dtype, lhs.shape == rhs.shape else { return false }
        switch (lhs.contents, rhs.contents) {
        case (.bytes(let a), .bytes(let b)):
            if a === b { return true }
            guard a.count == b.count else { return false }
            return bytesEqual(a.bytes, b.bytes)
        case (.strings(let a), .strings(let b)):
            return a == b
        default:
            return false
        }
    }
}

/// A sparse tensor in ONNX COO form: `values` (1-D) at `indices` ([NNZ] linear or [NNZ, rank]) within `dims`.
public struct SparseTensor: Sendable, Equatable {
    public var values: Tensor
    public var indices: Tensor
    public var dims: [Int]

    public init(values: Tensor, indices: Tensor, dims: [Int]) {
        self.values = values
        self.indices = indices
        self.dims = dims
    }
}

/// Compares two equally sized byte ranges a word at a time.
func bytesEqual(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
    guard a.count == b.count else { return false }
    let words = a.count / 8
    for i in 0..<words where a.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self)
        != b.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self) {
        return false
    }
    for i in (words * 8)..<a.count where a[i] != b[i] { return false }
    return true
}
