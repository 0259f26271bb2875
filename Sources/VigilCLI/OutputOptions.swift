import ArgumentParser
import Foundation

/// `--json` and `--quiet`, shared by every command.
struct OutputOptions: ParsableArguments {
    @Flag(name: .long, help: "Print one JSON object on stdout instead of text (schemas in Formats/json.md); no progress on stderr.")
    var json = false

    @Flag(name: [.short, .long], help: "No progress on stderr.")
    var quiet = false

    /// Chooses how progress is shown, once the flags are known (parsing validates every option group
    /// before the command runs).
    func validate() throws {
        Progress.configure(quiet: quiet, json: json)
    }

    /// Prints a JSON value with sorted keys.
    func printJSON(_ value: Any) throws { try JSONOutput.print(value) }
}

/// JSON printing shared by the commands.
enum JSONOutput {
    /// Prints a JSON value with sorted keys.
    static func print(_ value: Any) throws {
        let data = try JSONSerialization.data(withJSONObject: value, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        FileHandle.standardOutput.write(data)
        FileHandle.standardOutput.write(Data("\n".utf8))
    }

    /// A Double as JSON: the number, or the string `"inf"`, `"-inf"` or `"nan"` (JSON has no such numbers).
    static func number(_ value: Double) -> Any {
        if value.isFinite { return value }
        return value.isNaN ? "nan" : (value > 0 ? "inf" : "-inf")
    }
}
