import ArgumentParser
import Foundation

/// Output flags shared by commands that print reports.
struct OutputOptions: ParsableArguments {
    @Flag(name: .long, help: "Print a JSON object instead of text.")
    var json = false
}

/// JSON printing shared by the commands.
enum JSONOutput {
    /// Prints a JSON value with sorted keys.
    static func print(_ value: Any) throws {
        let data = try JSONSerialization.data(withJSONObject: value, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        FileHandle.standardOutput.write(data)
        FileHandle.standardOutput.write(Data("\n".utf8))
    }
}

extension OutputOptions {
    /// Prints a JSON value with sorted keys.
    func printJSON(_ value: Any) throws { try JSONOutput.print(value) }
}
