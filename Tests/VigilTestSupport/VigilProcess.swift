import Foundation

/// What a run of the built `vigil` binary printed and returned.
public struct VigilRun: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
    public var stderrLines: [Substring] { stderr.split(separator: "\n") }
}

/// Runs the built `vigil` binary (``Repository/vigilBinary``) with arguments and captures its output.
public func runVigil(_ arguments: [String]) throws -> VigilRun {
    let process = Process()
    process.executableURL = Repository.vigilBinary
    process.arguments = arguments
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    let stderr = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return VigilRun(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                    stderr: String(decoding: stderr, as: UTF8.self))
}
