import VigilIR

/// The opset version each domain of a model is read under: one rule for the planner, the verifier
/// and the optimizer. A domain is read at the version the model imports; Vigil's own domain
/// (`ai.vigil`, the fused ops) at its version when the model does not import it; any other domain
/// a node uses without an import has no version, and inference reports the node.
public struct Opsets: Sendable, Equatable {
    private var versions: [String: Int] = [:]

    /// The opsets of a list of imports (later duplicates are ignored).
    public init(_ imports: [OpsetImport]) {
        for entry in imports {
            let domain = Domain.canonical(entry.domain)
            guard versions[domain] == nil else { continue }
            // A version that does not fit an Int is as unknown as a missing import.
            if let version = Int(exactly: entry.version) { versions[domain] = version }
        }
    }

    /// The opsets a model imports.
    public init(model: Model) { self.init(model.opsetImports) }

    /// The version `domain` is read under, or `nil` when the model does not import it.
    public func version(for domain: String) -> Int? {
        let canonical = Domain.canonical(domain)
        if let version = versions[canonical] { return version }
        return canonical == FusedOps.domain ? FusedOps.version : nil
    }
}
