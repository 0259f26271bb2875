import Foundation
import XCTest

/// What a run of the built `vigil` binary printed and returned.
public struct VigilRun: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
    public var stderrLines: [Substring] { stderr.split(separator: "\n") }
}

/// Runs the built `vigil` binary (``Repository/vigilBinary``) with arguments and captures its output.
///
/// Progress on stderr is off (`VIGIL_PROGRESS=off`) unless `environment` sets `VIGIL_PROGRESS`, so
/// that a slow machine does not add progress lines to the one-line errors tests expect.
public func runVigil(_ arguments: [String], environment: [String: String] = [:]) throws -> VigilRun {
    let process = Process()
    process.executableURL = Repository.vigilBinary
    process.arguments = arguments
    var variables = ProcessInfo.processInfo.environment
    variables["VIGIL_PROGRESS"] = "off"
    variables.merge(environment) { _, new in new }
    process.environment = variables
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    // Read both pipes at once, so that a full stderr pipe cannot stall the process.
    nonisolated(unsafe) var stderr = Data()
    let group = DispatchGroup()
    DispatchQueue.global().async(group: group) { stderr = err.fileHandleForReading.readDataToEndOfFile() }
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    process.waitUntilExit()
    return VigilRun(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                    stderr: String(decoding: stderr, as: UTF8.self))
}

/// The HTML page needs nothing from the network: no links, scripts, styles, fonts or images from
/// elsewhere (the SVG namespace URI is a name, not a fetch).
public func assertSelfContained(_ html: String, file: StaticString = #filePath, line: UInt = #line) {
    let withoutNamespace = html.replacingOccurrences(of: "xmlns=\"http://www.w3.org/2000/svg\"", with: "")
    for needle in ["http://", "https://", "<link", "@import", " src=", "fetch(", "XMLHttpRequest", "<iframe", "<img"] {
        XCTAssertFalse(withoutNamespace.contains(needle), "the page refers to something outside it: '\(needle)'", file: file, line: line)
    }
    // url(#id) points inside the page; any other url(…) would be fetched.
    XCTAssertNil(withoutNamespace.range(of: #"url\([^#]"#, options: .regularExpression), "the page fetches a url(…)", file: file, line: line)
}
