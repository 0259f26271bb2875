/// Identifies a node within one ``Graph``. Identifiers are never reused within a graph.
public struct NodeID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }
    public static func < (lhs: NodeID, rhs: NodeID) -> Bool { lhs.rawValue < rhs.rawValue }
    public var description: String { "#\(rawValue)" }
}

/// An operator application. Inputs and outputs name values; an empty name marks an omitted optional slot.
public struct Node: Sendable, Equatable {
    public var name: String
    public var opType: String
    /// The operator domain; "" is the default ONNX domain (``Domain`` names its alias).
    public var domain: String
    public var overload: String
    public var inputs: [String]
    public var outputs: [String]
    public var attributes: [Attribute]
    public var docString: String
    public var metadata: [MetadataEntry]

    public init(
        name: String = "", opType: String, domain: String = "", overload: String = "",
        inputs: [String], outputs: [String], attributes: [Attribute] = [],
        docString: String = "", metadata: [MetadataEntry] = []
    ) {
        self.name = name
        self.opType = opType
        self.domain = domain
        self.overload = overload
        self.inputs = inputs
        self.outputs = outputs
        self.attributes = attributes
        self.docString = docString
        self.metadata = metadata
    }

    /// The attribute with this name.
    public func attribute(_ name: String) -> AttributeValue? {
        attributes.first { $0.name == name }?.value
    }

    /// Sets or replaces an attribute.
    public mutating func setAttribute(_ name: String, _ value: AttributeValue) {
        if let index = attributes.firstIndex(where: { $0.name == name }) {
            attributes[index].value = value
        } else {
            attributes.append(Attribute(name: name, value: value))
        }
    }

    /// The subgraphs held in this node's attributes (If branches, Loop bodies, …).
    public var subgraphs: [Graph] { attributes.flatMap(\.value.subgraphs) }

    /// A label for messages: `'name' (OpType)`, or just the op type for unnamed nodes.
    public var label: String { name.isEmpty ? opType : "'\(name)' (\(opType))" }
}
