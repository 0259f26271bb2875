import ArgumentParser

/// One example of a command line, shown in the command's help.
struct Example {
    /// What it does, in a few words.
    var what: String
    /// The command line, starting with `vigil`.
    var command: String
}

/// A command whose help ends with an EXAMPLES block.
protocol ExampleProviding {
    static var examples: [Example] { get }
}

enum CommandExamples {
    /// The EXAMPLES block appended to `command`'s help, or "" when it has none.
    static func helpSection(for command: ParsableCommand.Type) -> String {
        guard let provider = command as? ExampleProviding.Type, !provider.examples.isEmpty else { return "" }
        let lines = provider.examples.map { "  \($0.what):\n    \($0.command)" }
        return "\nEXAMPLES:\n" + lines.joined(separator: "\n")
    }
}
