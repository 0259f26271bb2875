import ArgumentParser
import Foundation

/// The `vigil` command: port trained networks into Swift and prove they compute the same numbers.
public struct Vigil: ParsableCommand, ExampleProviding {
    public static let configuration = CommandConfiguration(
        commandName: "vigil",
        abstract: "Import, check, convert and run neural networks (ONNX), with proof that nothing changed.",
        version: "0.1.0",
        subcommands: [Inspect.self, Convert.self, Check.self, Run.self, Parity.self, Bench.self, Optimize.self, Detect.self, Swift.self]
    )

    static let examples = [
        Example(what: "What a model holds, and a drawing of its graph", command: "vigil inspect model.onnx --html graph.html"),
        Example(what: "Import a Keras model, check it and optimize it", command:
                    "vigil convert model.h5 -o model.onnx && vigil check model.onnx && vigil optimize model.onnx -o model.opt.onnx"),
        Example(what: "Prove it computes what onnxruntime computes", command: "vigil parity model.onnx --reference ort_outputs.npz --input x.npy"),
        Example(what: "Help on one command", command: "vigil help detect fit"),
    ]

    public init() {}

    /// Exit codes shared by every command.
    public enum Exit {
        /// The model, input or output file is invalid or unreadable, or the check found errors.
        public static let failure: Int32 = 1
        /// The command line is wrong.
        public static let usage: Int32 = 2
    }

    /// Parses the command line, runs the command and exits with Vigil's exit codes:
    /// 0 success, 1 failure (one line on stderr naming the file and the cause), 2 usage error.
    /// Old flag spellings are rewritten first (``FlagAliases``); help gets each command's examples.
    public static func runAndExit(_ arguments: [String]? = nil) -> Never {
        let arguments = FlagAliases.rewrite(arguments ?? Array(CommandLine.arguments.dropFirst()))
        do {
            var command = try parseAsRoot(arguments)
            try command.run()
            Foundation.exit(0)
        } catch let error as CommandFailure {
            printError(error.description)
            Foundation.exit(Exit.failure)
        } catch let error as ExitCode {
            Foundation.exit(error.rawValue)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                var text = fullMessage(for: error)
                // A help screen (ArgumentParser's help request type is internal): add the command's examples.
                if text.contains("USAGE:"), let command = CommandPath.resolve(arguments).last {
                    text += CommandExamples.helpSection(for: command)
                }
                print(text)
                Foundation.exit(0)
            }
            if code == .validationFailure || code.rawValue == Exit.usage {
                printError(usageMessage(for: error, arguments: arguments))
                Foundation.exit(Exit.usage)
            }
            printError(ErrorText.plain(error))
            Foundation.exit(code == .failure ? Exit.failure : code.rawValue)
        }
    }

    /// A usage error without ArgumentParser's own `Error: ` prefix, followed by where to find help.
    static func usageMessage(for error: any Error, arguments: [String]) -> String {
        var lines = fullMessage(for: error).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if let first = lines.first, first.hasPrefix("Error: ") { lines[0] = String(first.dropFirst("Error: ".count)) }
        return lines.filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }.joined(separator: "\n")
    }

    static func printError(_ message: String) {
        Progress.clearLine()
        Progress.style = .off
        FileHandle.standardError.write(Data("vigil: error: \(message)\n".utf8))
    }
}

/// A command failure reported as one line (file and cause) with exit code 1.
public struct CommandFailure: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = ErrorText.oneLine(description) }
    public init(_ error: any Error) { self.description = ErrorText.plain(error) }
}

/// The chain of command types named at the start of a command line (`detect fit` → Vigil, Detect, Fit).
enum CommandPath {
    static func resolve(_ arguments: [String]) -> [ParsableCommand.Type] {
        var chain: [ParsableCommand.Type] = [Vigil.self]
        var words = arguments[...]
        if words.first == "help" { words = words.dropFirst() }
        for word in words where !word.hasPrefix("-") {
            let subcommands = chain.last!.configuration.subcommands
            guard let next = subcommands.first(where: { $0._commandName == word }) else { break }
            chain.append(next)
        }
        return chain
    }

    /// `detect fit` for the chain above (without the root).
    static func name(_ chain: [ParsableCommand.Type]) -> String {
        chain.dropFirst().map { $0._commandName }.joined(separator: " ")
    }
}
