import VigilIR

/// An error raised while checking or inferring one node, located at that node.
public struct OpError: Error, Equatable, CustomStringConvertible, Sendable {
    /// What went wrong.
    public enum Kind: Equatable, Sendable {
        /// The node breaks the op's rules (wrong arity, bad attribute, incompatible shapes, …).
        case invalid
        /// The node is valid as far as can be told, but a result depends on a value that is not known
        /// (a non-constant `shape`, `axes`, … input).
        case unresolved
        /// No op with this domain and type is registered.
        case unsupported
    }

    public var kind: Kind
    /// The node's label: `'name' (OpType)` or the op type for unnamed nodes.
    public var node: String
    public var opType: String
    /// The input slot or attribute name the problem concerns, when there is one.
    public var subject: String?
    public var message: String

    public init(kind: Kind = .invalid, node: String, opType: String, subject: String? = nil, message: String) {
        self.kind = kind
        self.node = node
        self.opType = opType
        self.subject = subject
        self.message = message
    }

    public var description: String {
        let about = subject.map { " [\($0)]" } ?? ""
        return "node \(node)\(about): \(message)"
    }
}
