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

    /// The module direction, in one table: the project modules each Swift module may import (system
    /// modules such as Foundation, Glibc and Synchronization are always allowed). C sits at the bottom
    /// behind one wrapper each; the IR imports nothing; VigilOps knows only the IR; the optimizer and the
    /// verifier know the IR and the ops (the optimizer evaluates constants through `ConstantEvaluator`,
    /// which the CLI and the runtime wire to the executor); the runtime (the library API for apps)
    /// sits on the importers, the executor and the optimizer; the code generator knows only the IR; VigilFiles (safe file I/O) sits at the bottom beside the IR;
    /// only the CLI sees everything.
    static let allowedImports: [String: Set<String>] = [
        "VigilIR": [],
        "VigilFiles": ["CVigilCleanup", "CZlib"],
        "VigilONNX": ["VigilIR", "VigilFiles", "COnnxProto", "CProtobufC"],
        "VigilHDF5": ["CHDF5"],
        "VigilBLAS": ["COpenBLAS", "CVigilKernels"],
        "VigilNumpy": ["VigilIR", "VigilFiles"],
        "VigilKeras": ["VigilIR", "VigilHDF5", "VigilFiles"],
        "VigilOps": ["VigilIR"],
        "VigilExecutor": ["VigilIR", "VigilOps", "VigilBLAS"],
        "VigilVerifier": ["VigilIR", "VigilOps"],
        "VigilOptimizer": ["VigilIR", "VigilOps"],
        "VigilQuantizer": ["VigilIR", "VigilOps", "VigilOptimizer", "VigilExecutor", "VigilParity"],
        "VigilParity": ["VigilIR"],
        "VigilDetector": ["VigilIR", "VigilExecutor", "VigilBLAS", "VigilHDF5", "VigilFiles"],
        "VigilRuntime": ["VigilIR", "VigilONNX", "VigilKeras", "VigilExecutor", "VigilOps", "VigilOptimizer"],
        "VigilCodegen": ["VigilIR", "VigilFiles"],
        "VigilCLI": ["VigilIR", "VigilFiles", "VigilOps", "VigilONNX", "VigilKeras", "VigilBLAS", "VigilVerifier", "VigilNumpy", "VigilExecutor", "VigilParity",
                     "VigilOptimizer", "VigilDetector", "VigilQuantizer", "VigilCodegen", "ArgumentParser"],
        "vigil": ["VigilCLI"],
        "vigil-hdf5-reader": ["VigilHDF5"],
    ]

    /// Modules every Swift module may import.
    static let systemModules: Set<String> = ["Foundation", "Glibc", "Darwin", "Dispatch", "Synchronization"]

    func testImportsFollowTheModuleDirection() throws {
        let modules = try FileManager.default.contentsOfDirectory(atPath: Self.sources.path).filter { !$0.hasPrefix("C") }
        for module in modules {
            guard let allowed = Self.allowedImports[module] else {
                XCTFail("module \(module) is missing from ModuleBoundaryTests.allowedImports")
                continue
            }
            for file in try Self.swiftFiles(in: module) {
                for imported in try Self.imports(in: file) where !Self.systemModules.contains(imported) {
                    XCTAssertTrue(allowed.contains(imported), "\(module)/\(file.lastPathComponent) imports \(imported); \(module) may import \(allowed.sorted())")
                }
            }
        }
    }

    /// Package.swift declares no dependency the table does not allow.
    func testPackageDependenciesFollowTheModuleDirection() throws {
        let manifest = try String(contentsOf: Self.root.appendingPathComponent("Package.swift"), encoding: .utf8)
        let pattern = try NSRegularExpression(pattern: #"\.(?:target|executableTarget)\(\s*name: "(\w+)",\s*dependencies: \[([^\]]*)\]"#)
        var checked = 0
        for match in pattern.matches(in: manifest, range: NSRange(manifest.startIndex..., in: manifest)) {
            let name = String(manifest[Range(match.range(at: 1), in: manifest)!])
            guard let allowed = Self.allowedImports[name] else { continue }
            let list = String(manifest[Range(match.range(at: 2), in: manifest)!])
            let quoted = try NSRegularExpression(pattern: #""(\w+)""#)
            let names = quoted.matches(in: list, range: NSRange(list.startIndex..., in: list)).map { String(list[Range($0.range(at: 1), in: list)!]) }
            for dependency in names where dependency != "swift-argument-parser" {
                XCTAssertTrue(allowed.contains(dependency), "Package.swift: \(name) depends on \(dependency), which the module table does not allow")
            }
            checked += 1
        }
        XCTAssertGreaterThanOrEqual(checked, 10)
    }

    /// Every Swift module has its own test target (`Tests/<Module>Tests`).
    func testEveryModuleHasATestTarget() throws {
        let modules = try FileManager.default.contentsOfDirectory(atPath: Self.sources.path).filter { !$0.hasPrefix("C") && $0 != "vigil" && $0 != "vigil-hdf5-reader" }
        for module in modules {
            XCTAssertTrue(FileManager.default.fileExists(atPath: Self.root.appendingPathComponent("Tests/\(module)Tests").path),
                          "\(module) has no test target Tests/\(module)Tests")
        }
    }

    /// No function in Sources/ is longer than 80 lines, except SIMD kernels and generated code, which
    /// say why in a comment starting `// Long function:` right above them.
    func testNoFunctionIsLongerThan80Lines() throws {
        var long: [String] = []
        for file in try Self.sourceFiles() {
            let lines = try String(contentsOf: file, encoding: .utf8).components(separatedBy: "\n")
            for (start, length) in FunctionScanner(lines: lines, isSwift: file.pathExtension == "swift").functions() where length > 80 {
                let above = lines[max(0, start - 4)..<start]
                if above.contains(where: { $0.trimmingCharacters(in: .whitespaces).hasPrefix("// Long function:") }) { continue }
                long.append("\(file.path.replacingOccurrences(of: Self.root.path + "/", with: "")):\(start + 1) (\(length) lines)")
            }
        }
        XCTAssertTrue(long.isEmpty, "functions longer than 80 lines:\n" + long.joined(separator: "\n"))
    }

    /// The default domain's long name is spelled only in `VigilIR/Domain.swift` (everything else asks
    /// `Domain`), so that no comparison forgets the alias.
    func testDefaultDomainAliasIsSpelledInOnePlace() throws {
        var places: [String] = []
        for file in try Self.sourceFiles() where file.pathExtension == "swift" {
            let lines = try String(contentsOf: file, encoding: .utf8).components(separatedBy: "\n")
            for (index, line) in lines.enumerated() where line.contains("\"ai.onnx\"") {
                places.append("\(file.lastPathComponent):\(index + 1)")
            }
        }
        XCTAssertLessThanOrEqual(places.count, 2, "\"ai.onnx\" is spelled in: \(places.joined(separator: ", "))")
        XCTAssertTrue(places.allSatisfy { $0.hasPrefix("Domain.swift:") }, places.joined(separator: ", "))
    }

    /// Swift and C source files under Sources/.
    static func sourceFiles() throws -> [URL] {
        guard let enumerator = FileManager.default.enumerator(at: sources, includingPropertiesForKeys: nil) else { return [] }
        return enumerator.compactMap { $0 as? URL }.filter { ["swift", "c", "h"].contains($0.pathExtension) }
    }

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

/// Finds function bodies in Swift or C source text: a declaration line (`func`, `init`, `deinit`,
/// `subscript` in Swift; a C definition starting at column 0 with a parenthesis) and the lines up to
/// the brace that closes the body it opens.
struct FunctionScanner {
    let lines: [String]
    let isSwift: Bool

    func isDeclaration(_ line: String) -> Bool {
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        if trimmed.hasPrefix("//") || trimmed.hasPrefix("*") || trimmed.hasPrefix("#") { return false }
        if isSwift {
            let words = trimmed.split(whereSeparator: { $0 == " " || $0 == "(" || $0 == "<" })
            return words.contains { ["func", "init", "init?", "deinit", "subscript"].contains(String($0)) }
        }
        return !line.hasPrefix(" ") && !line.hasPrefix("\t") && line.contains("(") && !trimmed.hasSuffix(";")
            && !trimmed.hasPrefix("typedef") && !trimmed.hasPrefix("}") && !trimmed.hasPrefix("static const")
    }

    /// (first line index, line count) of each function body.
    func functions() -> [(Int, Int)] {
        var result: [(Int, Int)] = []
        var index = 0
        while index < lines.count {
            guard isDeclaration(lines[index]), let end = bodyEnd(from: index) else { index += 1; continue }
            result.append((index, end - index + 1))
            index = end + 1
        }
        return result
    }

    /// The line closing the body that the declaration at `start` opens, or `nil` when it opens none
    /// within a few lines (a protocol requirement, a prototype).
    func bodyEnd(from start: Int) -> Int? {
        var depth = 0, opened = false
        for index in start..<lines.count {
            for character in lines[index] {
                if character == "{" { depth += 1; opened = true } else if character == "}" { depth -= 1 }
            }
            if opened && depth <= 0 { return index }
            if !opened && (index - start > 8 || lines[index].hasSuffix(";")) { return nil }
        }
        return nil
    }
}
