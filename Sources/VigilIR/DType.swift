/// The element type of a tensor, as ONNX defines them.
///
/// Raw tensor bytes are stored little-endian, as in ONNX `raw_data`.
public enum DType: String, Sendable, CaseIterable, Codable, CustomStringConvertible {
    case float32, uint8, int8, uint16, int16, int32, int64, string, bool, float16, float64
    case uint32, uint64, complex64, complex128, bfloat16
    case float8e4m3fn, float8e4m3fnuz, float8e5m2, float8e5m2fnuz, uint4, int4, float4e2m1
    case float8e8m0, uint2, int2, float6e2m3, float6e3m2

    /// The `TensorProto.DataType` code of this type.
    public var onnxCode: Int32 {
        switch self {
        case .float32: 1
        case .uint8: 2
        case .int8: 3
        case .uint16: 4
        case .int16: 5
        case .int32: 6
        case .int64: 7
        case .string: 8
        case .bool: 9
        case .float16: 10
        case .float64: 11
        case .uint32: 12
        case .uint64: 13
        case .complex64: 14
        case .complex128: 15
        case .bfloat16: 16
        case .float8e4m3fn: 17
        case .float8e4m3fnuz: 18
        case .float8e5m2: 19
        case .float8e5m2fnuz: 20
        case .uint4: 21
        case .int4: 22
        case .float4e2m1: 23
        case .float8e8m0: 24
        case .uint2: 25
        case .int2: 26
        case .float6e2m3: 27
        case .float6e3m2: 28
        }
    }

    private static let byCode: [Int32: DType] = Dictionary(
        uniqueKeysWithValues: DType.allCases.map { ($0.onnxCode, $0) })

    /// The type with the given `TensorProto.DataType` code, or `nil` for 0 (undefined) and unknown codes.
    public init?(onnxCode: Int32) {
        guard let type = DType.byCode[onnxCode] else { return nil }
        self = type
    }

    /// Bits per element; `nil` for `string`, whose elements have no fixed size.
    public var bitWidth: Int? {
        switch self {
        case .string: nil
        case .uint2, .int2: 2
        case .float6e2m3, .float6e3m2: 6
        case .uint4, .int4, .float4e2m1: 4
        case .uint8, .int8, .bool, .float8e4m3fn, .float8e4m3fnuz, .float8e5m2, .float8e5m2fnuz, .float8e8m0: 8
        case .uint16, .int16, .float16, .bfloat16: 16
        case .int32, .uint32, .float32: 32
        case .int64, .uint64, .float64, .complex64: 64
        case .complex128: 128
        }
    }

    /// Bytes needed to store `count` elements (sub-byte types are packed, first element in the low bits),
    /// or `nil` for strings or when the size overflows `Int`.
    public func storageBytes(count: Int) -> Int? {
        guard let bits = bitWidth, count >= 0 else { return nil }
        let (total, overflow) = count.multipliedReportingOverflow(by: bits)
        guard !overflow else { return nil }
        return (total + 7) / 8
    }

    /// Whether the type is a floating-point type (real, not complex).
    public var isFloatingPoint: Bool {
        switch self {
        case .float32, .float16, .bfloat16, .float64, .float8e4m3fn, .float8e4m3fnuz, .float8e5m2,
            .float8e5m2fnuz, .float4e2m1, .float8e8m0, .float6e2m3, .float6e3m2:
            true
        default: false
        }
    }

    public var description: String { rawValue }
}
