/// The value of a node attribute: every ONNX attribute kind, subgraphs included.
public indirect enum AttributeValue: Sendable, Equatable {
    case float(Float)
    case int(Int64)
    case string([UInt8])
    case tensor(Tensor)
    case graph(Graph)
    case sparseTensor(SparseTensor)
    case type(ValueType)
    case floats([Float])
    case ints([Int64])
    case strings([[UInt8]])
    case tensors([Tensor])
    case graphs([Graph])
    case sparseTensors([SparseTensor])
    case types([ValueType])

    /// The ONNX attribute kind name (`FLOAT`, `INTS`, `GRAPH`, …).
    public var kindName: String {
        switch self {
        case .float: "FLOAT"
        case .int: "INT"
        case .string: "STRING"
        case .tensor: "TENSOR"
        case .graph: "GRAPH"
        case .sparseTensor: "SPARSE_TENSOR"
        case .type: "TYPE_PROTO"
        case .floats: "FLOATS"
        case .ints: "INTS"
        case .strings: "STRINGS"
        case .tensors: "TENSORS"
        case .graphs: "GRAPHS"
        case .sparseTensors: "SPARSE_TENSORS"
        case .types: "TYPE_PROTOS"
        }
    }

    /// The subgraphs held by this value.
    public var subgraphs: [Graph] {
        switch self {
        case .graph(let graph): [graph]
        case .graphs(let graphs): graphs
        default: []
        }
    }
}

/// A named node attribute.
public struct Attribute: Sendable, Equatable {
    public var name: String
    public var value: AttributeValue
    public var docString: String
    /// Inside a function body: the caller's attribute this one refers to (`ref_attr_name`).
    public var referencedAttribute: String?

    public init(name: String, value: AttributeValue, docString: String = "", referencedAttribute: String? = nil) {
        self.name = name
        self.value = value
        self.docString = docString
        self.referencedAttribute = referencedAttribute
    }

    /// A string attribute value decoded as UTF-8 (invalid bytes are repaired).
    public var stringValue: String? {
        if case .string(let bytes) = value { return String(decoding: bytes, as: UTF8.self) }
        return nil
    }
}
