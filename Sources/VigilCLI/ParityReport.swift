import Foundation
import VigilFiles
import VigilParity

/// The results of `vigil parity`, rendered as text, JSON or JUnit XML.
struct ParityReport {
    struct Output {
        var `case`: String
        var name: String
        var shape: [Int]
        var comparison: ParityComparison
    }

    struct Layer {
        var index: Int
        var node: String
        var opType: String
        var value: String
        var comparison: ParityComparison
    }

    var model: String
    var reference: String
    var atol: Double
    var rtol: Double
    var outputs: [Output] = []
    var layers: [Layer]?

    var passed: Bool { outputs.allSatisfy(\.comparison.passed) && (layers?.allSatisfy(\.comparison.passed) ?? true) }

    /// The first intermediate outside tolerance, in execution order.
    var firstDivergence: Layer? { layers?.first { !$0.comparison.passed } }

    static func number(_ value: Double) -> String { value.isInfinite ? "inf" : String(format: "%.3g", value) }

    static func comparisonJSON(_ c: ParityComparison) -> [String: Any] {
        var object: [String: Any] = [
            "elements": c.elements, "mismatches": c.mismatches, "nonfinite_mismatches": c.nonFiniteMismatches,
            "max_abs_error": c.maxAbsoluteError.isFinite ? c.maxAbsoluteError : "inf" as Any,
            "max_rel_error": c.maxRelativeError.isFinite ? c.maxRelativeError : "inf" as Any,
            "mean_abs_error": c.meanAbsoluteError, "passed": c.passed,
        ]
        if let worst = c.worst {
            object["worst"] = ["index": worst.index, "actual": worst.actual.isFinite ? worst.actual : "\(worst.actual)" as Any,
                               "expected": worst.expected.isFinite ? worst.expected : "\(worst.expected)" as Any]
        }
        if let incompatibility = c.incompatibility { object["error"] = incompatibility }
        return object
    }

    var json: [String: Any] {
        var object: [String: Any] = [
            "model": model, "reference": reference, "atol": atol, "rtol": rtol, "passed": passed,
            "outputs": outputs.map { output -> [String: Any] in
                var o = Self.comparisonJSON(output.comparison)
                o["name"] = output.name
                o["case"] = output.case
                o["shape"] = output.shape
                return o
            },
        ]
        if let layers {
            object["layers"] = layers.map { layer -> [String: Any] in
                var o = Self.comparisonJSON(layer.comparison)
                o["node"] = layer.node
                o["op_type"] = layer.opType
                o["value"] = layer.value
                o["index"] = layer.index
                return o
            }
            if let first = firstDivergence {
                object["first_divergence"] = ["node": first.node, "op_type": first.opType, "value": first.value, "index": first.index]
            }
        }
        return object
    }

    var text: String {
        var lines = ["parity \(model) against \(reference) (atol \(atol), rtol \(rtol))"]
        func row(_ cells: [String]) -> String {
            let widths = [28, 16, 10, 10, 10, 14, 6]
            return "  " + zip(cells, widths).map { $0.count >= $1 ? $0 + " " : $0 + String(repeating: " ", count: $1 - $0.count) }.joined()
        }
        func cells(_ label: String, _ shape: [Int], _ c: ParityComparison) -> [String] {
            [label, "\(shape)", Self.number(c.maxAbsoluteError), Self.number(c.maxRelativeError), Self.number(c.meanAbsoluteError),
             "\(c.mismatches)/\(c.elements)", c.passed ? "PASS" : "FAIL"]
        }
        lines.append(row(["output", "shape", "max abs", "max rel", "mean abs", "mismatches", "result"]))
        let cases = Set(outputs.map(\.case)).count
        for output in outputs {
            lines.append(row(cells(cases > 1 ? "\(output.name) @\(output.case.split(separator: "/").last ?? "")" : output.name, output.shape, output.comparison)))
            if let problem = output.comparison.incompatibility { lines.append("    \(problem)") }
            if !output.comparison.passed, let worst = output.comparison.worst {
                lines.append("    worst element [\(worst.index)]: got \(worst.actual), expected \(worst.expected)")
            }
        }
        if let layers {
            lines.append("  layerwise: \(layers.count) intermediate values compared")
            if let first = firstDivergence {
                lines.append("  first divergence: node #\(first.index) '\(first.node)' (\(first.opType)), value '\(first.value)': max abs \(Self.number(first.comparison.maxAbsoluteError)), \(first.comparison.mismatches) of \(first.comparison.elements) outside tolerance")
            } else {
                lines.append("  every intermediate within tolerance")
            }
        }
        let failed = outputs.filter { !$0.comparison.passed }.count
        lines.append(passed ? "PASS: \(outputs.count) of \(outputs.count) outputs within tolerance" : "FAIL: \(failed) of \(outputs.count) outputs outside tolerance")
        return lines.joined(separator: "\n")
    }

    /// Writes a JUnit XML report (one test case per compared output), whole or not at all.
    func writeJUnit(to path: String) throws {
        let cases = outputs.map { output -> (String, String?) in
            let c = output.comparison
            let message = c.passed ? nil : c.incompatibility
                ?? "\(c.mismatches) of \(c.elements) elements outside atol \(atol) + rtol \(rtol); max abs \(Self.number(c.maxAbsoluteError)), max rel \(Self.number(c.maxRelativeError))"
            return ("\(output.name) @ \(output.case)", message)
        }
        try Self.writeJUnit(cases, model: model, to: path)
    }

    /// A JUnit report with one failing test case, for a model that could not be loaded, planned or run.
    static func writeFailureJUnit(model: String, message: String, to path: String) throws {
        try writeJUnit([("load and run \(URL(fileURLWithPath: model).lastPathComponent)", message)], model: model, to: path)
    }

    /// One `<testcase>` per (name, failure message or nil).
    static func writeJUnit(_ cases: [(name: String, failure: String?)], model: String, to path: String) throws {
        func escape(_ text: String) -> String {
            text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
                .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
        }
        let items = cases.map { item -> String in
            var xml = "    <testcase classname=\"\(escape(model))\" name=\"\(escape(item.name))\">"
            if let failure = item.failure { xml += "\n      <failure message=\"\(escape(failure))\"/>\n    " }
            return xml + "</testcase>"
        }
        let xml = """
            <?xml version="1.0" encoding="UTF-8"?>
            <testsuites>
              <testsuite name="vigil parity" tests="\(cases.count)" failures="\(cases.filter { $0.failure != nil }.count)" errors="0">
            \(items.joined(separator: "\n"))
              </testsuite>
            </testsuites>

            """
        do {
            try OutputFile.write(Array(xml.utf8), to: path, protecting: CommandFiles.inputs)
        } catch {
            throw CommandFiles.failure(error)
        }
    }
}
