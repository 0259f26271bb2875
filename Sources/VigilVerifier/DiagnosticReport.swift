import VigilIR

/// A file's diagnostics ready for output: limited to the first `maxErrors` errors, and rendered as
/// compiler-style text, a JSON object, or a SARIF 2.1.0 log.
public struct DiagnosticReport: Sendable {
    public var file: String
    /// The diagnostics kept, in order.
    public var diagnostics: [Diagnostic]
    /// Diagnostics left out after the error limit was reached.
    public var omitted: Int

    public init(file: String, diagnostics: [Diagnostic], maxErrors: Int? = nil) {
        self.file = file
        var kept: [Diagnostic] = []
        var errors = 0
        var omitted = 0
        for diagnostic in diagnostics {
            if let maxErrors, errors >= maxErrors {
                omitted += 1
                continue
            }
            if diagnostic.severity == .error { errors += 1 }
            kept.append(diagnostic)
        }
        self.diagnostics = kept
        self.omitted = omitted
    }

    public func count(_ severity: Severity) -> Int { diagnostics.filter { $0.severity == severity }.count }

    public var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }

    // MARK: Text

    /// Compiler-style text:
    ///
    ///     model.onnx: error[V111]: input 'x' is not defined by any graph input, initializer or earlier node
    ///       --> node #3 'conv1' (Conv), value 'x'
    ///       = hint: …
    public var text: String {
        var lines: [String] = []
        for d in diagnostics {
            lines.append("\(file): \(d.severity.rawValue)[\(d.code.rawValue)]: \(d.message)")
            lines.append("  --> \(d.location.description)")
            if let hint = d.hint { lines.append("  = hint: \(hint)") }
        }
        if omitted > 0 { lines.append("\(file): note: stopped after the error limit; \(omitted) more diagnostic(s) not shown") }
        lines.append(summaryLine)
        return lines.joined(separator: "\n")
    }

    public var summaryLine: String {
        func plural(_ n: Int, _ word: String) -> String { "\(n) \(word)\(n == 1 ? "" : "s")" }
        let counts = [plural(count(.error), "error"), plural(count(.warning), "warning"), plural(count(.note), "note")]
        return "\(file): " + (hasErrors ? "check failed: " : "check passed: ") + counts.joined(separator: ", ")
    }

    // MARK: JSON

    /// A JSON-ready object (for `JSONSerialization`).
    public var json: [String: Any] {
        [
            "file": file,
            "ok": !hasErrors,
            "errors": count(.error),
            "warnings": count(.warning),
            "notes": count(.note),
            "omitted": omitted,
            "diagnostics": diagnostics.map(Self.json),
        ]
    }

    static func json(_ d: Diagnostic) -> [String: Any] {
        var object: [String: Any] = [
            "code": d.code.rawValue, "name": d.code.name, "severity": d.severity.rawValue, "message": d.message,
            "location": locationJSON(d.location),
        ]
        if let hint = d.hint { object["hint"] = hint }
        return object
    }

    static func locationJSON(_ l: Location) -> [String: Any] {
        var object: [String: Any] = [:]
        if !l.graphPath.isEmpty { object["graph_path"] = l.graphPath }
        if let v = l.nodeName { object["node_name"] = v }
        if let v = l.opType { object["op_type"] = v }
        if let v = l.nodeIndex { object["node_index"] = v }
        if let v = l.value { object["value"] = v }
        if let v = l.kerasLayer { object["keras_layer"] = v }
        return object
    }

    // MARK: SARIF

    public static let sarifSchema = "https://json.schemastore.org/sarif-2.1.0.json"

    /// A SARIF 2.1.0 log with one run: the rule catalogue (every code) and one result per diagnostic,
    /// located at the model file (an artifact) and at the node or value (logical locations).
    public func sarif(toolVersion: String, fileURI: String) -> [String: Any] {
        let rules: [[String: Any]] = DiagnosticCode.allCases.map { code in
            [
                "id": code.rawValue, "name": code.name,
                "shortDescription": ["text": code.summary],
                "defaultConfiguration": ["level": Self.sarifLevel(code.defaultSeverity)],
                "help": ["text": "See Formats/diagnostics.md, \(code.rawValue)."],
            ]
        }
        let ruleIndex = Dictionary(uniqueKeysWithValues: DiagnosticCode.allCases.enumerated().map { ($1, $0) })
        let results: [[String: Any]] = diagnostics.map { d in
            var logical: [[String: Any]] = []
            let graphPrefix = d.location.graphPath.isEmpty ? "" : d.location.graphPath.joined(separator: "/") + "/"
            if let opType = d.location.opType {
                let name = d.location.nodeName.flatMap { $0.isEmpty ? nil : $0 } ?? "#\(d.location.nodeIndex ?? 0)"
                logical.append(["name": name, "fullyQualifiedName": graphPrefix + name, "kind": "function",
                                "properties": ["op_type": opType, "node_index": d.location.nodeIndex ?? -1]])
            }
            if let value = d.location.value {
                logical.append(["name": value, "fullyQualifiedName": graphPrefix + value, "kind": "variable"])
            }
            if let layer = d.location.kerasLayer {
                logical.append(["name": layer, "kind": "module"])
            }
            var location: [String: Any] = ["physicalLocation": ["artifactLocation": ["uri": fileURI, "index": 0]]]
            if !logical.isEmpty { location["logicalLocations"] = logical }
            var text = d.message
            if let hint = d.hint { text += " (hint: \(hint))" }
            return [
                "ruleId": d.code.rawValue, "ruleIndex": ruleIndex[d.code]!, "level": Self.sarifLevel(d.severity),
                "message": ["text": text], "locations": [location],
            ]
        }
        return [
            "$schema": Self.sarifSchema,
            "version": "2.1.0",
            "runs": [[
                "tool": ["driver": [
                    "name": "vigil", "semanticVersion": toolVersion,
                    "rules": rules,
                ] as [String: Any]],
                "artifacts": [["location": ["uri": fileURI]]],
                "results": results,
                "columnKind": "unicodeCodePoints",
            ] as [String: Any]],
        ]
    }

    static func sarifLevel(_ severity: Severity) -> String {
        switch severity {
        case .error: "error"
        case .warning: "warning"
        case .note: "note"
        }
    }
}
