/// Operator domains. ONNX names its default domain both `""` and `"ai.onnx"`; everything in Vigil
/// compares domains through ``Domain/canonical(_:)`` (which maps the alias to `""`) and shows them
/// through ``Domain/display(_:)``, so that the alias is spelled in this file only.
public enum Domain {
    /// The spelled-out name of the default domain.
    public static let defaultName = "ai.onnx"

    /// `""` for the default domain under either name; other domains unchanged.
    public static func canonical(_ domain: String) -> String {
        domain == defaultName ? "" : domain
    }

    /// Whether `domain` names the default ONNX domain.
    public static func isDefault(_ domain: String) -> Bool {
        domain.isEmpty || domain == defaultName
    }

    /// The domain as messages show it: `ai.onnx` for the default domain.
    public static func display(_ domain: String) -> String {
        isDefault(domain) ? defaultName : domain
    }

    /// `OpType` for the default domain, `domain::OpType` otherwise (for messages and tables).
    public static func qualified(_ domain: String, _ opType: String) -> String {
        isDefault(domain) ? opType : "\(domain)::\(opType)"
    }
}

extension Node {
    /// Whether the node's op is in the default ONNX domain.
    public var isDefaultDomain: Bool { Domain.isDefault(domain) }

    /// Whether the node is the default-domain op `opType`.
    public func isOp(_ opType: String) -> Bool { isDefaultDomain && self.opType == opType }
}

extension Model {
    /// The imported version of a domain (either name of the default domain finds its import).
    public func opsetVersion(for domain: String) -> Int64? {
        let wanted = Domain.canonical(domain)
        return opsetImports.first { Domain.canonical($0.domain) == wanted }?.version
    }
}
