import ArgumentParser
import Foundation
import VigilTestSupport
import XCTest

@testable import VigilCLI

/// Every command's help: an EXAMPLES block whose command lines parse, each default printed once; one
/// error prefix on usage errors; old flag spellings accepted but not shown.
final class HelpTests: CLITestCase {
    /// Every command path, root first (`[]`, `["inspect"]`, …, `["detect", "fit"]`).
    static func commandPaths(_ command: ParsableCommand.Type = Vigil.self, prefix: [String] = []) -> [[String]] {
        [prefix] + command.configuration.subcommands.flatMap { commandPaths($0, prefix: prefix + [$0._commandName]) }
    }

    func testEveryCommandHasExamplesThatParse() throws {
        let paths = Self.commandPaths()
        XCTAssertEqual(paths.count, 15, "\(paths)")
        for path in paths {
            let help = try vigil(path + ["--help"])
            XCTAssertEqual(help.status, 0, help.stderr)
            let parts = help.stdout.components(separatedBy: "\nEXAMPLES:\n")
            XCTAssertEqual(parts.count, 2, "vigil \(path.joined(separator: " ")) --help has no EXAMPLES block")
            let commands = parts.last!.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { $0.hasPrefix("vigil ") }
            XCTAssertGreaterThanOrEqual(commands.count, 2, "\(path)")
            for line in commands {
                for command in line.components(separatedBy: " && ") {
                    let words = command.split(separator: " ").map(String.init).dropFirst()
                    XCTAssertTrue(path.isEmpty || path == ["detect"] || Array(words.prefix(path.count)) == path, "\(path): example '\(command)'")
                    guard words.first != "help" else { continue }
                    XCTAssertNoThrow(try Vigil.parseAsRoot(Array(words)), "the example does not parse: \(command)")
                }
            }
        }
    }

    /// ArgumentParser prints `(default: …)` itself; no help text repeats it.
    func testEachDefaultIsPrintedOnce() throws {
        for path in Self.commandPaths() {
            let help = try vigil(path + ["--help"]).stdout
            var entries: [String] = []
            for line in help.split(separator: "\n", omittingEmptySubsequences: false) {
                if line.hasPrefix("  -") { entries.append(String(line)) } else if line.hasPrefix("        "), !entries.isEmpty {
                    entries[entries.count - 1] += " " + line.trimmingCharacters(in: .whitespaces)
                }
            }
            XCTAssertFalse(entries.isEmpty, "\(path)")
            for entry in entries {
                XCTAssertLessThanOrEqual(entry.components(separatedBy: "default").count - 1, 1, "vigil \(path.joined(separator: " ")): \(entry)")
            }
        }
    }

    func testUsageErrorsHaveOnePrefixAndExitTwo() throws {
        for arguments in [["run", "m.onnx", "--threads", "0"], ["bench"], ["detect", "fit", "m.onnx"], ["inspect", "m.onnx", "--bogus"],
                          ["detect", "score", "d.h5", "m.onnx", "--data", "x.npy", "--scorer", "nope"]] {
            let r = try vigil(arguments)
            XCTAssertEqual(r.status, 2, "\(arguments): \(r.stderr)")
            XCTAssertTrue(r.stderr.hasPrefix("vigil: error: "), r.stderr)
            XCTAssertFalse(r.stderr.contains("Error:"), "a doubled prefix: \(r.stderr)")
            XCTAssertEqual(r.stderr.components(separatedBy: "error:").count - 1, 1, r.stderr)
        }
    }

    /// The old spellings are rewritten before parsing and never shown in help.
    func testOldFlagSpellingsAreHiddenAliases() throws {
        XCTAssertEqual(FlagAliases.rewrite(["detect", "evaluate", "d.h5", "m.onnx", "--in", "x.npy", "--report=r.html"]),
                       ["detect", "evaluate", "d.h5", "m.onnx", "--data", "x.npy", "--html", "r.html"])
        XCTAssertEqual(FlagAliases.rewrite(["detect", "metrics", "--in-scores", "a.npy", "--ood-scores", "b.npy"]),
                       ["detect", "metrics", "--data", "a.npy", "--anomaly", "ood=b.npy"])
        // Other commands and arguments after `--` are left alone.
        XCTAssertEqual(FlagAliases.rewrite(["run", "m.onnx", "--in", "x"]), ["run", "m.onnx", "--in", "x"])
        XCTAssertEqual(FlagAliases.rewrite(["detect", "evaluate", "--", "--in"]), ["detect", "evaluate", "--", "--in"])
        let evaluate = try vigil("detect", "evaluate", "--help").stdout
        XCTAssertTrue(evaluate.contains("--data <data>") && evaluate.contains("--html <html>"), evaluate)
        XCTAssertFalse(evaluate.contains("--in ") || evaluate.contains("--report"), evaluate)
        let metrics = try vigil("detect", "metrics", "--help").stdout
        XCTAssertFalse(metrics.contains("--in-scores") || metrics.contains("--ood-scores"), metrics)
        // An alias reaches the same validation as the new flag.
        let old = try vigil("detect", "evaluate", "d.h5", "m.onnx", "--in", "x.npy")
        XCTAssertEqual(old.status, 2)
        XCTAssertTrue(old.stderr.contains("give at least one --novelty or --anomaly set"), old.stderr)
    }

    /// One vocabulary: --json and --quiet on every command that does work, --threads wherever a model runs,
    /// -o/--output for the file written, --data for the data set, --input for model inputs.
    func testOneVocabularyOfFlags() throws {
        for path in Self.commandPaths() where !(path.isEmpty || path == ["detect"]) {
            let help = try vigil(path + ["--help"]).stdout
            XCTAssertTrue(help.contains("--json") && help.contains("--quiet"), "vigil \(path.joined(separator: " "))")
        }
        for path in [["run"], ["parity"], ["bench"], ["detect", "fit"], ["detect", "score"], ["detect", "evaluate"]] {
            XCTAssertTrue(try vigil(path + ["--help"]).stdout.contains("--threads <threads>"), "\(path)")
        }
        for path in [["convert"], ["optimize"], ["run"], ["detect", "fit"], ["detect", "score"], ["detect", "export"]] {
            XCTAssertTrue(try vigil(path + ["--help"]).stdout.contains("-o, --output <output>"), "\(path)")
        }
        for path in [["detect", "fit"], ["detect", "score"], ["detect", "evaluate"], ["detect", "metrics"]] {
            XCTAssertTrue(try vigil(path + ["--help"]).stdout.contains("--data <data>"), "\(path)")
        }
        for path in [["convert"], ["optimize"], ["run"], ["parity"], ["bench"]] {
            XCTAssertTrue(try vigil(path + ["--help"]).stdout.contains("--input <input>"), "\(path)")
        }
    }
}
