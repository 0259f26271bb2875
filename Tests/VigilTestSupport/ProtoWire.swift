/// A tiny protobuf wire-format writer for crafting deliberately broken or hostile ONNX files in tests,
/// independent of the code under test.
public struct ProtoWire {
    public private(set) var bytes: [UInt8] = []

    public init() {}

    public mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(v & 0x7f) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    public mutating func tag(_ field: Int, wire: Int) { varint(UInt64(field << 3 | wire)) }

    /// A varint field.
    public mutating func int(_ field: Int, _ value: Int64) {
        tag(field, wire: 0)
        varint(UInt64(bitPattern: value))
    }

    /// A length-delimited field holding raw bytes.
    public mutating func bytes(_ field: Int, _ value: [UInt8]) {
        tag(field, wire: 2)
        varint(UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    public mutating func string(_ field: Int, _ value: String) { bytes(field, Array(value.utf8)) }

    /// A nested message field.
    public mutating func message(_ field: Int, _ build: (inout ProtoWire) -> Void) {
        var inner = ProtoWire()
        build(&inner)
        bytes(field, inner.bytes)
    }
}

/// ONNX field numbers used by the crafted files (from the ONNX IR spec, not from the code under test).
public enum ONNXField {
    public enum Model { public static let irVersion = 1, graph = 7, opsetImport = 8 }
    public enum Opset { public static let domain = 1, version = 2 }
    public enum Graph { public static let node = 1, name = 2, initializer = 5, input = 11, output = 12 }
    public enum Node { public static let input = 1, output = 2, name = 3, opType = 4, attribute = 5 }
    public enum Attribute { public static let name = 1, i = 3, g = 6, type = 20 }
    public enum Tensor {
        public static let dims = 1, dataType = 2, floatData = 4, name = 8, rawData = 9, externalData = 13, dataLocation = 14
    }
    public enum Entry { public static let key = 1, value = 2 }
}
