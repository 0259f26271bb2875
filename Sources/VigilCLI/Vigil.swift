import ArgumentParser
import Foundation

/// The `vigil` command: port trained networks into Swift and prove they compute the same numbers.
public struct Vigil: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "vigil",
        abstract: "Import, check, convert and run neural networks (ONNX), with proof that nothing changed.",
        version: "0.1.0",
        subcommands: [Inspect.self, Convert.self, Check.self, Run.self, Parity.self, Bench.self, Optimize.self, Detect.self, Swift.self]
    )

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
    public static func runAndExit(_ arguments: [String]? = nil) -> Never {
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
                print(fullMessage(for: error))
                Foundation.exit(0)
            }
            printError(fullMessage(for: error))
            Foundation.exit(code == .validationFailure ? Exit.usage : code.rawValue)
        }
    }

    static func printError(_ message: String) {
        FileHandle.standardError.write(Data("vigil: error: \(message)\n".utf8))
    }
}

/// A command failure reported as one line (file and cause) with exit code 1.
public struct CommandFailure: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
    public init(_ error: any Error) { self.description = String(describing: error) }
}
