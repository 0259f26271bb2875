/// Small helpers for writing Swift source text.
enum SwiftSource {
    /// `import` lines for the generated code, one per module (built here, so that the architecture
    /// test, which reads `import` lines, does not take them for the generator's own imports).
    static func imports(_ modules: [String]) -> String {
        modules.map { "import \($0)" }.joined(separator: "\n")
    }

    /// A Swift string literal for `text` (backslashes, quotes and control characters escaped).
    static func literal(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": result += "\\\\"
            case "\"": result += "\\\""
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7f {
                    result += "\\u{\(String(scalar.value, radix: 16))}"
                } else {
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        return result + "\""
    }

    /// `text` as `///` doc-comment lines at `indent` (blank lines kept, control characters dropped).
    static func docComment(_ lines: [String], indent: String = "") -> String {
        lines.flatMap { $0.split(separator: "\n", omittingEmptySubsequences: false) }
            .map { line -> String in
                let clean = String(String.UnicodeScalarView(line.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7f }))
                    .trimmingTrailingSpaces()
                return clean.isEmpty ? "\(indent)///" : "\(indent)/// \(clean)"
            }
            .joined(separator: "\n")
    }

    /// Text shown inside a doc comment as code: the name in backticks (backticks in it replaced by `'`).
    static func code(_ text: String) -> String { "`" + text.replacingBackticks() + "`" }
}

extension String {
    func trimmingTrailingSpaces() -> String {
        var result = self
        while result.last == " " { result.removeLast() }
        return result
    }

    func replacingBackticks() -> String { String(map { $0 == "`" ? "'" : $0 }) }

    /// Each line indented by `prefix` (empty lines left empty).
    func indented(_ prefix: String) -> String {
        split(separator: "\n", omittingEmptySubsequences: false).map { $0.isEmpty ? "" : prefix + $0 }.joined(separator: "\n")
    }
}
