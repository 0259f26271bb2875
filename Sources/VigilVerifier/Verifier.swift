import VigilIR
import VigilOps

/// The static verifier: runs every check on a model and returns all findings at once.
///
/// Checks are small functions in a list (``Verifier/checks``), each returning its diagnostics, in
/// the manner of swift-argument-parser's validators. Type and shape inference is VigilOps' own
/// (`OpRegistry.infer`), the same function the executor plans with; the verifier never
/// re-implements an op's rules.
///
/// ```swift
/// let diagnostics = Verifier().verify(model)
/// if diagnostics.contains(where: { $0.severity == .error }) { … }
/// ```
public struct Verifier: Sendable {
    public struct Options: Sendable {
        /// Promote warnings to errors (`vigil check --strict`).
        public var strict: Bool
        /// Run the weight and dead-code lint (V3xx).
        public var lint: Bool
        /// The ops whose inference is checked.
        public var registry: OpRegistry

        public init(strict: Bool = false, lint: Bool = true, registry: OpRegistry = .standard) {
            self.strict = strict
            self.lint = lint
            self.registry = registry
        }
    }

    /// One named check over a whole model.
    public struct Check: Sendable {
        public var name: String
        public var isLint: Bool
        public var run: @Sendable (VerificationContext) -> [Diagnostic]
    }

    /// Every check, in the order they run and report.
    public static let checks: [Check] = [
        Check(name: "versions", isLint: false, run: ModelChecks.versions),
        Check(name: "structure", isLint: false, run: { $0.structureDiagnostics }),
        Check(name: "inference", isLint: false, run: InferenceCheck.run),
        Check(name: "quantization", isLint: false, run: QuantizationCheck.run),
        Check(name: "weights", isLint: true, run: WeightLint.weights),
        Check(name: "reachability", isLint: true, run: WeightLint.reachability),
    ]

    public var options: Options

    public init(options: Options = .init()) { self.options = options }

    public init(strict: Bool) { self.options = Options(strict: strict) }

    /// Every diagnostic for the model, in check order (errors, warnings and notes mixed).
    public func verify(_ model: Model) -> [Diagnostic] {
        let context = VerificationContext(model: model, registry: options.registry)
        var diagnostics: [Diagnostic] = []
        for check in Self.checks where options.lint || !check.isLint {
            diagnostics += check.run(context)
        }
        if options.strict {
            for index in diagnostics.indices where diagnostics[index].severity == .warning {
                diagnostics[index].severity = .error
            }
        }
        return diagnostics
    }

    /// Whether the diagnostics contain an error.
    public static func hasErrors(_ diagnostics: [Diagnostic]) -> Bool {
        diagnostics.contains { $0.severity == .error }
    }
}

/// What the checks share: the model, the op registry and facts computed once.
public final class VerificationContext: Sendable {
    public let model: Model
    public let registry: OpRegistry
    /// Node indexes (main graph and subgraphs, keyed by graph path) that failed a structural or
    /// schema check: inference skips them, so one defect is reported once.
    let structurallyBroken: Set<String>
    /// The structure check's findings (computed with ``structurallyBroken`` in one walk).
    let structureDiagnostics: [Diagnostic]

    init(model: Model, registry: OpRegistry) {
        self.model = model
        self.registry = registry
        var walker = StructureCheck(model: model)
        walker.run()
        self.structurallyBroken = walker.broken
        self.structureDiagnostics = walker.diagnostics
    }

    /// The imported version of a domain, with ONNX's default for the default domain when absent.
    func opset(for domain: String) -> Int? {
        model.opsetVersion(for: domain).map { Int($0) }
    }

    /// Whether a model-local function implements this op.
    func isLocalFunction(_ node: Node) -> Bool {
        model.functions.contains { $0.name == node.opType && $0.domain == node.domain }
    }

    static func nodeKey(_ path: [String], _ index: Int) -> String { path.joined(separator: "/") + "#\(index)" }
}

// MARK: - Load failures

/// Why a file could not be read as a model (mirrors the reader's error cases, so the verifier does
/// not depend on any reader).
public enum LoadFailureKind: String, Sendable {
    case unreadable, malformed, invalid, externalData, unsupported
}

extension Verifier {
    /// The diagnostic for a file the reader rejected, with the same code the verifier uses for the
    /// same defect where there is one (a value produced twice is `V110` whether the reader or the
    /// verifier finds it).
    public static func loadDiagnostic(kind: LoadFailureKind, reason: String, at location: Location = .model) -> Diagnostic {
        func has(_ text: String) -> Bool { reason.contains(text) }
        let code: DiagnosticCode
        switch kind {
        case .unreadable: code = .unreadable
        case .malformed: code = .malformedProtobuf
        case .externalData: code = .externalData
        case .unsupported:
            code = has("IR version") || has("ir_version") ? .irVersion : .unsupportedByReader
        case .invalid:
            if has("ir_version") || has("IR version") { code = .irVersion }
            else if has("appears twice") { code = .duplicateInitializer }
            else if has("has no name") { code = .emptyName }
            else if has("is produced by both") { code = .multipleDefinitions }
            else if has("unknown element type code") || has("unknown data type code") { code = .unsupportedByReader }
            else if has("raw_data") || has("values in") || has("negative dimension") || has("element count")
                        || has("data has") || has("string tensor") || has("no data type") { code = .tensorData }
            else { code = .invalidAtLoad }
        }
        return Diagnostic(code, reason, at: location, hint: code == .malformedProtobuf ? "the file may be truncated, or not a model file at all" : nil)
    }
}

// MARK: - For other stages

/// Thrown by ``Verifier/requireValid(_:)``: the model has errors.
public struct VerificationFailure: Error, CustomStringConvertible, Sendable {
    /// The error diagnostics.
    public let errors: [Diagnostic]

    public var description: String {
        let shown = errors.prefix(10).map { "\($0.code.rawValue) \($0.location.description): \($0.message)" }
        let more = errors.count > 10 ? ["… and \(errors.count - 10) more"] : []
        return "the model fails verification with \(errors.count) error(s):\n" + (shown + more).joined(separator: "\n")
    }
}

extension Verifier {
    /// The structural, schema and inference checks only (no lint), as optimizer passes and
    /// converters call them in tests and debug builds after each rewrite.
    public static let structural = Verifier(options: Options(lint: false))

    /// Throws when the model has errors; returns the warnings and notes otherwise.
    @discardableResult
    public func requireValid(_ model: Model) throws(VerificationFailure) -> [Diagnostic] {
        let diagnostics = verify(model)
        let errors = diagnostics.filter { $0.severity == .error }
        guard errors.isEmpty else { throw VerificationFailure(errors: errors) }
        return diagnostics
    }
}
