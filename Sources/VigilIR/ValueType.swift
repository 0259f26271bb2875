/// The type of a graph value, mirroring ONNX `TypeProto`.
public indirect enum ValueType: Hashable, Sendable, CustomStringConvertible {
    /// A dense tensor; the element type is `nil` when undeclared and the shape `nil` when the rank is unknown.
    case tensor(DType?, Shape?)
    /// A sparse tensor.
    case sparseTensor(DType?, Shape?)
    /// A sequence of values of one type.
    case sequence(ValueType?)
    /// A map from a scalar key type to values of one type.
    case map(key: DType?, value: ValueType?)
    /// A value that may be absent.
    case optional(ValueType?)

    /// The element type and shape of a dense tensor type.
    public var tensorType: (dtype: DType?, shape: Shape?)? {
        if case .tensor(let dtype, let shape) = self { return (dtype, shape) }
        return nil
    }

    public var description: String {
        switch self {
        case .tensor(let dtype, let shape):
            "\(dtype?.rawValue ?? "?")\(shape?.description ?? "[*]")"
        case .sparseTensor(let dtype, let shape):
            "sparse \(dtype?.rawValue ?? "?")\(shape?.description ?? "[*]")"
        case .sequence(let element): "seq(\(element?.description ?? "?"))"
        case .map(let key, let value): "map(\(key?.rawValue ?? "?"), \(value?.description ?? "?"))"
        case .optional(let element): "optional(\(element?.description ?? "?"))"
        }
    }
}

/// A named value with an optional declared type: a graph input, output or value annotation.
public struct ValueInfo: Hashable, Sendable {
    public var name: String
    public var type: ValueType?
    public var docString: String
    public var metadata: [MetadataEntry]

    public init(name: String, type: ValueType?, docString: String = "", metadata: [MetadataEntry] = []) {
        self.name = name
        self.type = type
        self.docString = docString
        self.metadata = metadata
    }
}

/// A key/value string pair, as in ONNX `StringStringEntryProto`.
public struct MetadataEntry: Hashable, Sendable {
    public var key: String
    public var value: String

    public init(key: String, value: String) {
        self.key = key
        self.value = value
    }
}

/// An operator set a model imports: a domain ("" is the default ONNX domain) and its version.
public struct OpsetImport: Hashable, Sendable {
    public var domain: String
    public var version: Int64

    public init(domain: String, version: Int64) {
        self.domain = domain
        self.version = version
    }
}
