import Foundation
import XCTest

/// Enforces the module direction: C only at the bottom, a pure IR, one command per file.
final class ModuleBoundaryTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let sources = root.appendingPathComponent("Sources")

    /// The project's C modules and the one Swift wrapper allowed to import each.
    static let cWrappers: [String: Set<String>] = [
        "CProtobufC": ["VigilONNX"],
        "COnnxProto": ["VigilONNX"],
        "COpenBLAS": ["VigilBLAS"],
        "CVigilKernels": ["VigilBLAS"],
        "CHDF5": ["VigilHDF5"],
        "CVigilCleanup": ["VigilFiles"],
        "CZlib": ["VigilFiles"],
    ]

    /// Swift source files per module folder.
    static func swiftFiles(in module: String) throws -> [URL] {
        let folder = sources.appendingPathComponent(module)
        guard let enumerator = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: nil) else { return [] }
        return enumerator.compactMap { $0 as? URL }.filter { $0.pathExtension == "swift" }
    }

    static func imports(in file: URL) throws -> [String] {
        try String(contentsOf: file, encoding: .utf8).split(separator: "\n").compactMap { line in
            let words = line.trimmingCharacters(in: .whitespaces).split(separator: " ")
            guard let index = words.firstIndex(where: { $0 == "import" }), index + 1 < words.count,
                  words[..<index].allSatisfy({ $0.hasPrefix("@") || $0 == "public" || $0 == "internal" })
            else { return nil }
            return String(words[index + 1])
        }
    }

    func testOnlyWrappersImportCModules() throws {
        let modules = try FileManager.default.contentsOfDirectory(atPath: Self.sources.path)
        XCTAssertTrue(modules.contains("VigilIR"))
        for module in modules where !module.hasPrefix("C") {
            for file in try Self.swiftFiles(in: module) {
                for imported in try Self.imports(in: file) {
                    if let allowed = Self.cWrappers[imported] {
                        XCTAssertTrue(allowed.contains(module), "\(module)/\(file.lastPathComponent) imports \(imported); only \(allowed.sorted()) may")
                    }
                }
            }
        }
    }

    func testIRImportsNothing() throws {
        let files = try Self.swiftFiles(in: "VigilIR")
        XCTAssertFalse(files.isEmpty)
        for file in files {
            XCTAssertEqual(try Self.imports(in: file), [], "VigilIR/\(file.lastPathComponent) must stay pure Swift")
        }
    }

    /// Every command is its own type in its own file named after it (group prefix allowed), and is registered.
    func testEveryCommandIsRegisteredAndHasItsOwnFile() throws {
        let folder = "VigilCLI"
        var commands: [String: String] = [:]
        for file in try Self.swiftFiles(in: folder) {
            let text = try String(contentsOf: file, encoding: .utf8)
            let pattern = try NSRegularExpression(pattern: #"struct (\w+): (?:Async)?ParsableCommand"#)
            for match in pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                let name = String(text[Range(match.range(at: 1), in: text)!])
                XCTAssertNil(commands[name], "command \(name) defined twice")
                commands[name] = file.lastPathComponent
            }
        }
        XCTAssertGreaterThanOrEqual(commands.count, 3)
        let registrations = try Self.swiftFiles(in: folder).map { try String(contentsOf: $0, encoding: .utf8) }
            .joined(separator: "\n")
        for (name, file) in commands where name != "Vigil" {
            // `Inspect.swift`, or `DetectFit.swift` for a subcommand `Fit` of the `Detect` group.
            XCTAssertTrue(file.hasSuffix("\(name).swift"), "command \(name) lives in \(file); name the file after it")
            XCTAssertTrue(registrations.contains("\(name).self"), "command \(name) is not registered in any subcommands list")
        }
    }

    /// The committed protobuf-c code must match Formats/onnx/onnx.proto when protoc-c is installed.
    func testGeneratedProtobufCodeIsCurrent() throws {
        let which = Process()
        which.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        which.arguments = ["sh", "-c", "command -v protoc-c"]
        which.standardOutput = FileHandle.nullDevice
        try which.run()
        which.waitUntilExit()
        guard which.terminationStatus == 0 else { throw XCTSkip("protoc-c is not installed") }
        let check = Process()
        check.executableURL = URL(fileURLWithPath: "/bin/bash")
        check.arguments = [Self.root.appendingPathComponent("Formats/onnx/regenerate.sh").path, "--check"]
        let pipe = Pipe()
        check.standardError = pipe
        check.standardOutput = FileHandle.nullDevice
        try check.run()
        let message = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        check.waitUntilExit()
        XCTAssertEqual(check.terminationStatus, 0, message)
    }
}
