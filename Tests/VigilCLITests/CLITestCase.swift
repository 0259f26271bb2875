import Foundation
import VigilTestSupport
import XCTest

/// Runs the built `vigil` binary and captures its exit code, stdout and stderr.
class CLITestCase: XCTestCase {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
        var stderrLines: [Substring] { stderr.split(separator: "\n") }
    }

    var directory: URL!

    override func setUpWithError() throws {
        directory = try Repository.temporaryDirectory()
        try Repository.requireVigilBinary()
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    func vigil(_ arguments: String...) throws -> Result { try vigil(arguments) }

    func vigil(_ arguments: [String]) throws -> Result {
        let run = try runVigil(arguments)
        return Result(status: run.status, stdout: run.stdout, stderr: run.stderr)
    }

    func fixture(_ name: String) -> String { Repository.onnxFixtures.appendingPathComponent("\(name)/model.onnx").path }

    /// Exit 1 with exactly one stderr line naming the file and containing the cause.
    func assertFailure(_ result: Result, file path: String, cause: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(result.status, 1, result.stderr, file: file, line: line)
        XCTAssertEqual(result.stderrLines.count, 1, result.stderr, file: file, line: line)
        XCTAssertTrue(result.stderr.hasPrefix("vigil: error: \(path): "), result.stderr, file: file, line: line)
        XCTAssertTrue(result.stderr.contains(cause), "'\(result.stderr)' should mention '\(cause)'", file: file, line: line)
    }
}
