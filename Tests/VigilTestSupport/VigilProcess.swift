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

/// What a run of `vigil` under resource limits did.
public struct LimitedRun: Sendable {
    public var run: VigilRun
    /// It was still running after the wall-clock limit and was killed.
    public var timedOut: Bool
}

/// Whether this process runs under a sanitizer (whose runtime reserves terabytes of address space,
/// so heap limits cannot be applied to it or to the binaries built with it).
public let isSanitized: Bool = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "__asan_init") != nil
    || dlsym(UnsafeMutableRawPointer(bitPattern: 0), "__tsan_init") != nil

/// Runs `vigil` with at most `heapBytes` of data segment (RLIMIT_DATA: heap and private mappings,
/// plus about 32 MiB the runtime and libraries take) and `cpuSeconds` of CPU time, killing it after
/// `wallSeconds`. OpenBLAS runs one thread (its per-thread 128 MiB buffers are not Vigil's
/// allocations). Under a sanitizer only the time limits apply, four times as long (instrumented
/// binaries run 2-5x slower: `check` of a 100,000-node chain took over 10 s of CPU under ASan).
public func runVigil(_ arguments: [String], heapBytes: Int, cpuSeconds: Int = 10, wallSeconds: Double = 60) throws -> LimitedRun {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/sh")
    let heap = isSanitized ? "unlimited" : String((heapBytes + (32 << 20)) / 1024)
    let slowdown = isSanitized ? 4 : 1
    let cpuSeconds = cpuSeconds * slowdown, wallSeconds = wallSeconds * Double(slowdown)
    process.arguments = ["-c", "ulimit -d \(heap) && ulimit -t \(cpuSeconds) && exec \"$0\" \"$@\"", Repository.vigilBinary.path] + arguments
    var environment = ProcessInfo.processInfo.environment
    environment["OPENBLAS_NUM_THREADS"] = "1"
    // Slow loads under the limits would otherwise print progress lines on stderr.
    environment["VIGIL_PROGRESS"] = "off"
    process.environment = environment
    // Output goes to files, read after the process ends (no pipe can fill up and block it).
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-run-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let outURL = folder.appendingPathComponent("stdout"), errURL = folder.appendingPathComponent("stderr")
    _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
    _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
    let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let deadline = Date().addingTimeInterval(wallSeconds)
    var timedOut = false
    while process.isRunning {
        if Date() > deadline {
            timedOut = true
            kill(process.processIdentifier, SIGKILL)
            break
        }
        usleep(10_000)
    }
    process.waitUntilExit()
    try out.close()
    try err.close()
    let stdout = try Data(contentsOf: outURL), stderr = try Data(contentsOf: errURL)
    return LimitedRun(
        run: VigilRun(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self), stderr: String(decoding: stderr, as: UTF8.self)),
        timedOut: timedOut)
}
