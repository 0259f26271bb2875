import VigilIR

/// A tensor whose element type is known statically: a `Tensor` of `Scalar.dtype`.
///
/// It interoperates with Swift arrays and buffer pointers; the initializers and accessors say when
/// they copy:
///
/// ```swift
/// let x = try TypedTensor<Float>(shape: [1, 28, 28, 1], scalars: pixels)   // one copy of the array
/// let y = try TypedTensor<Float>(shape: [2, 3]) { buffer in                 // no copy: fill in place
///     for i in buffer.indices { buffer[i] = Float(i) }
/// }
/// let sum = y.withUnsafeBufferPointer { $0.reduce(0, +) }                   // no copy: read in place
/// let values: [Float] = y.scalars                                           // one copy
/// ```
public struct TypedTensor<Scalar: TensorScalar>: Sendable, Equatable, CustomStringConvertible {
    /// The untyped tensor, sharing the same storage.
    public let tensor: Tensor

    /// Wraps a tensor without copying it.
    ///
    /// - Throws: ``VigilError`` of kind ``VigilError/Kind/invalidTensor`` when its element type is
    ///   not `Scalar.dtype` (or, for `Bool`, when a byte is neither 0 nor 1).
    public init(_ tensor: Tensor) throws(VigilError) {
        guard tensor.dtype == Scalar.dtype, let buffer = tensor.buffer else {
            throw VigilError(.invalidTensor, cause: "the tensor is \(tensor.dtype), not \(Scalar.dtype) (\(Scalar.self))")
        }
        if Scalar.self == Bool.self, let bad = buffer.bytes.firstIndex(where: { $0 > 1 }) {
            throw VigilError(.invalidTensor, cause: "bool element \(bad) is \(buffer.bytes[bad]), not 0 or 1")
        }
        self.tensor = tensor
    }

    /// A tensor holding a copy of `scalars` in row-major order.
    ///
    /// - Throws: ``VigilError`` of kind ``VigilError/Kind/invalidTensor`` when the count does not fit the shape.
    public init(shape: [Int], scalars: [Scalar]) throws(VigilError) {
        do {
            tensor = try Tensor(Scalar.dtype, shape: shape, scalars: scalars)
        } catch {
            throw VigilError(.invalidTensor, cause: "\(scalars.count) \(Scalar.self) values for shape \(shape): \(error)")
        }
    }

    /// A tensor with every element equal to `value`.
    public init(shape: [Int], repeating value: Scalar) throws(VigilError) {
        try self.init(shape: shape) { $0.initialize(repeating: value) }
    }

    /// Allocates a tensor and lets `initialize` write its elements in place (row-major), without a
    /// copy. Every element starts as zero bytes.
    public init(shape: [Int], initializingWith initialize: (UnsafeMutableBufferPointer<Scalar>) -> Void) throws(VigilError) {
        let count = try Self.elementCount(shape)
        let buffer = TensorBuffer(count: count * MemoryLayout<Scalar>.stride) { bytes in
            bytes.initializeMemory(as: UInt8.self, repeating: 0)
            initialize(bytes.bindMemory(to: Scalar.self))
        }
        tensor = try! Tensor(dtype: Scalar.dtype, shape: shape, contents: .bytes(buffer))
    }

    /// Wraps memory owned by the caller, without a copy. The memory must stay valid and unchanged
    /// until `deallocator` is called, which happens once, when the last tensor using it (an input
    /// or an output that passes it through) is released.
    ///
    /// - Parameters:
    ///   - shape: the shape; its element count must be `scalars.count`.
    ///   - scalars: the elements in row-major order.
    ///   - deallocator: releases the memory; `nil` when the caller keeps it alive longer than every
    ///     tensor made from it.
    public init(
        shape: [Int], unsafeNoCopy scalars: UnsafeBufferPointer<Scalar>,
        deallocator: (@Sendable (UnsafeBufferPointer<Scalar>) -> Void)?
    ) throws(VigilError) {
        let count = try Self.elementCount(shape)
        guard count == scalars.count else {
            throw VigilError(.invalidTensor, cause: "\(scalars.count) \(Scalar.self) values for shape \(shape) (\(count) elements)")
        }
        // An empty buffer may have no address; any aligned address serves, as nothing is read.
        let base: UnsafeRawPointer = scalars.baseAddress.map { UnsafeRawPointer($0) } ?? UnsafeRawPointer(bitPattern: MemoryLayout<Scalar>.alignment)!
        nonisolated(unsafe) let original = scalars
        var release: (@Sendable (UnsafeRawPointer) -> Void)?
        if let deallocator { release = { _ in deallocator(original) } }
        let buffer = TensorBuffer(unsafeBytes: base, count: count * MemoryLayout<Scalar>.stride, release: release)
        tensor = try! Tensor(dtype: Scalar.dtype, shape: shape, contents: .bytes(buffer))
    }

    /// The shape.
    public var shape: [Int] { tensor.shape }

    /// The number of elements.
    public var count: Int { tensor.elementCount }

    /// A copy of the elements in row-major order.
    public var scalars: [Scalar] { withUnsafeBufferPointer { Array($0) } }

    /// Calls `body` with the elements in place (row-major), without a copy. The pointer is valid
    /// only inside `body`.
    public func withUnsafeBufferPointer<R, E: Error>(_ body: (UnsafeBufferPointer<Scalar>) throws(E) -> R) throws(E) -> R {
        let buffer = tensor.buffer!
        let typed = UnsafeBufferPointer(start: buffer.baseAddress.assumingMemoryBound(to: Scalar.self), count: count)
        return try body(typed)
    }

    /// The element at a multi-dimensional index (one value per axis, each in range).
    public subscript(_ index: Int...) -> Scalar {
        precondition(index.count == shape.count, "\(index.count) indices for a rank-\(shape.count) tensor")
        var offset = 0
        for (i, size) in zip(index, shape) {
            precondition(i >= 0 && i < size, "index \(index) out of range for shape \(shape)")
            offset = offset * size + i
        }
        return withUnsafeBufferPointer { $0[offset] }
    }

    /// `float32[2, 3]`.
    public var description: String { tensor.description }

    private static func elementCount(_ shape: [Int]) throws(VigilError) -> Int {
        guard let count = checkedElementCount(shape), count.multipliedReportingOverflow(by: MemoryLayout<Scalar>.stride).overflow == false else {
            throw VigilError(.invalidTensor, cause: "invalid shape \(shape)")
        }
        return count
    }
}

extension Array where Element: TensorScalar {
    /// A copy of a typed tensor's elements in row-major order.
    public init(_ tensor: TypedTensor<Element>) { self = tensor.scalars }
}

extension Tensor {
    /// This tensor with a static element type, without a copy.
    ///
    /// - Throws: ``VigilError`` of kind ``VigilError/Kind/invalidTensor`` when the element type differs.
    public func typed<Scalar: TensorScalar>(as type: Scalar.Type = Scalar.self) throws(VigilError) -> TypedTensor<Scalar> {
        try TypedTensor(self)
    }
}
