import VigilIR

/// A Swift type whose values are stored exactly as the elements of one tensor element type:
/// `Float` for `float32`, `Int64` for `int64`, `Bool` for `bool`, …
///
/// ``TypedTensor`` uses it to give a tensor a static element type.
public protocol TensorScalar: BitwiseCopyable, Sendable, Equatable {
    /// The tensor element type with this memory layout.
    static var dtype: DType { get }
}

extension Float: TensorScalar { public static var dtype: DType { .float32 } }
extension Double: TensorScalar { public static var dtype: DType { .float64 } }
extension Int8: TensorScalar { public static var dtype: DType { .int8 } }
extension Int16: TensorScalar { public static var dtype: DType { .int16 } }
extension Int32: TensorScalar { public static var dtype: DType { .int32 } }
extension Int64: TensorScalar { public static var dtype: DType { .int64 } }
extension UInt8: TensorScalar { public static var dtype: DType { .uint8 } }
extension UInt16: TensorScalar { public static var dtype: DType { .uint16 } }
extension UInt32: TensorScalar { public static var dtype: DType { .uint32 } }
extension UInt64: TensorScalar { public static var dtype: DType { .uint64 } }
/// One byte per element, 0 or 1 (``TypedTensor/init(_:)`` checks the bytes).
extension Bool: TensorScalar { public static var dtype: DType { .bool } }
