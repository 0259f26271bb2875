import Foundation
import VigilIR
import VigilONNX
import VigilTestSupport
import XCTest

/// Every command that writes a file refuses, with one line, exit 1 and nothing touched, an output
/// path that is a symlink, a directory, a FIFO, a device node, or the same file as an input (by
/// name or hard link); an interrupted write leaves no temporary file.
final class OutputSafetyTests: CLITestCase {
    /// A writing command: its arguments for an output path, and the input it reads (copied here).
    struct Writer {
        var name: String
        var arguments: (String) -> [String]
        var input: String
    }

    var model: String { directory.appendingPathComponent("model.onnx").path }

    /// Copies of the fixtures the commands read, so that a failure cannot damage the repository.
    func writers() throws -> [Writer] {
        let files: [(String, URL)] = [
            ("model.onnx", Repository.onnxFixtures.appendingPathComponent("gemm_mlp/model.onnx")),
            ("embedding.onnx", Repository.fixtures.appendingPathComponent("detector/embedding.onnx")),
            ("images.npy", Repository.fixtures.appendingPathComponent("detector/val_images.npy")),
            ("labels.npy", Repository.fixtures.appendingPathComponent("detector/val_labels.npy")),
            ("detector.h5", Repository.fixtures.appendingPathComponent("hostile/detector/valid.h5")),
            ("input.npy", Repository.fixtures.appendingPathComponent("numpy/float32_2x3.npy")),
        ]
        for (name, source) in files where !FileManager.default.fileExists(atPath: path(name)) {
            try FileManager.default.copyItem(at: source, to: directory.appendingPathComponent(name))
        }
        let reference = Repository.onnxFixtures.appendingPathComponent("gemm_mlp/test_data_set_0").path
        return [
            Writer(name: "convert", arguments: { ["convert", self.model, "-o", $0] }, input: model),
            Writer(name: "optimize", arguments: { ["optimize", self.model, "-o", $0] }, input: model),
            Writer(name: "run", arguments: { ["run", self.model, "--input", self.path("input.npy"), "-o", $0] }, input: path("input.npy")),
            Writer(name: "check --sarif", arguments: { ["check", self.model, "--sarif", $0] }, input: model),
            Writer(name: "parity --junit", arguments: { ["parity", self.model, "--reference", reference, "--junit", $0] }, input: model),
            Writer(name: "detect fit", arguments: {
                ["detect", "fit", self.path("embedding.onnx"), "--data", self.path("images.npy"), "--labels", self.path("labels.npy"), "-o", $0]
            }, input: path("embedding.onnx")),
            Writer(name: "detect score", arguments: {
                ["detect", "score", self.path("detector.h5"), self.path("embedding.onnx"), "--data", self.path("images.npy"), "-o", $0]
            }, input: path("images.npy")),
            Writer(name: "detect evaluate --report", arguments: {
                ["detect", "evaluate", self.path("detector.h5"), self.path("embedding.onnx"), "--in", self.path("images.npy"),
                 "--novelty", self.path("images.npy"), "--report", $0]
            }, input: path("detector.h5")),
            Writer(name: "quantize", arguments: {
                ["quantize", self.path("embedding.onnx"), "--detector", self.path("detector.h5"), "--calibration", self.path("images.npy"), "-o", $0]
            }, input: path("images.npy")),
            Writer(name: "detect export", arguments: { ["detect", "export", self.path("detector.h5"), self.path("embedding.onnx"), "-o", $0] },
                   input: path("detector.h5")),
        ]
    }

    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// Digests of every entry of the folder (kind and content), to prove nothing changed.
    func snapshot() throws -> [String: String] {
        var result: [String: String] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: directory.path) {
            var info = stat()
            lstat(path(name), &info)
            let kind = info.st_mode & S_IFMT
            result[name] = kind == S_IFREG ? "file \(try Data(contentsOf: URL(fileURLWithPath: path(name))).hashValue) ino \(info.st_ino)" : "kind \(kind)"
        }
        return result
    }

    func assertRefused(_ writer: Writer, output: String, cause: String, line: UInt = #line) throws {
        let before = try snapshot()
        let result = try vigil(writer.arguments(output))
        XCTAssertEqual(result.status, 1, "\(writer.name): \(result.stderr)", line: line)
        XCTAssertEqual(result.stderrLines.count, 1, "\(writer.name): \(result.stderr)", line: line)
        XCTAssertTrue(result.stderr.hasPrefix("vigil: error: \(output): "), "\(writer.name): \(result.stderr)", line: line)
        XCTAssertTrue(result.stderr.contains(cause), "\(writer.name): '\(result.stderr)' should mention '\(cause)'", line: line)
        XCTAssertEqual(try snapshot(), before, "\(writer.name) changed the folder", line: line)
    }

    func testEveryWriterRefusesSpecialFilesAndInputs() throws {
        let writers = try writers()
        try Data("the user's file".utf8).write(to: URL(fileURLWithPath: path("precious.txt")))
        try FileManager.default.createSymbolicLink(atPath: path("link"), withDestinationPath: path("precious.txt"))
        try FileManager.default.createDirectory(atPath: path("folder"), withIntermediateDirectories: false)
        XCTAssertEqual(mkfifo(path("fifo"), 0o644), 0)
        let device = mknod(path("null"), S_IFCHR | 0o666, dev_t((1 << 8) | 3)) == 0
        for writer in writers {
            try assertRefused(writer, output: path("link"), cause: "is a symbolic link")
            try assertRefused(writer, output: path("folder"), cause: "is a directory")
            try assertRefused(writer, output: path("fifo"), cause: "is a FIFO")
            if device { try assertRefused(writer, output: path("null"), cause: "is a character device") }
            try assertRefused(writer, output: writer.input, cause: "is also an input of this command")
            let hardLink = path("hard-link-\(writer.name.replacingOccurrences(of: " ", with: "-"))")
            XCTAssertEqual(link(writer.input, hardLink), 0)
            try assertRefused(writer, output: hardLink, cause: "same device and inode")
            try FileManager.default.removeItem(atPath: hardLink)
        }
        XCTAssertEqual(try String(contentsOfFile: path("precious.txt"), encoding: .utf8), "the user's file")
    }

    func testExternalDataFileOfTheInputIsProtected() throws {
        let folder = directory.appendingPathComponent("ext")
        try FileManager.default.copyItem(at: Repository.onnxFixtures.appendingPathComponent("external_data"), to: folder)
        let output = folder.appendingPathComponent("weights.bin").path
        let before = try Data(contentsOf: URL(fileURLWithPath: output))
        let result = try vigil("convert", folder.appendingPathComponent("model.onnx").path, "-o", output)
        assertFailure(result, file: output, cause: "refusing to overwrite an input")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: output)), before)
        // The external data file the output would get must not be an input either: A.onnx keeps its
        // weights in B.onnx.data, so writing B.onnx with external data would replace them.
        let staged = folder.appendingPathComponent("B.onnx").path
        XCTAssertEqual(try vigil("convert", folder.appendingPathComponent("model.onnx").path, "-o", staged, "--external-data-threshold", "0").status, 0)
        let renamed = folder.appendingPathComponent("A.onnx").path
        try FileManager.default.moveItem(atPath: staged, toPath: renamed)
        let data = try Data(contentsOf: URL(fileURLWithPath: staged + ".data"))
        let second = try vigil("convert", renamed, "-o", staged, "--external-data-threshold", "0")
        assertFailure(second, file: staged + ".data", cause: "refusing to overwrite an input")
        XCTAssertFalse(FileManager.default.fileExists(atPath: staged))
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: staged + ".data")), data)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasPrefix(".") }, [])
    }

    func testMissingFolderIsOnePlainLine() throws {
        let writers = try writers()
        let output = path("missing/out.file")
        for writer in writers {
            try assertRefused(writer, output: output, cause: "cannot write: the folder '\(path("missing"))' does not exist")
        }
    }

    /// Ctrl-C (SIGINT) or SIGTERM while a large model is being written: the temporary file is
    /// removed, the process ends by that signal, and the destination is untouched.
    func testInterruptedWriteLeavesNoTemporaryFile() throws {
        let input = try writeLargeModel()
        let output = path("out.onnx")
        try Data("previous".utf8).write(to: URL(fileURLWithPath: output))
        for signal in [SIGINT, SIGTERM] {
            XCTAssertTrue(try interrupt(input: input, output: output, with: signal), "signal \(signal) never arrived mid-write in eight attempts")
        }
    }

    /// Ctrl-C or SIGTERM while `vigil swift` fills its staging folder (copying a 128 MB model into it):
    /// the folder is removed with everything in it, the process ends by that signal, and an existing
    /// package folder is untouched.
    func testInterruptedPackageLeavesNoStagingFolder() throws {
        let input = try writeLargeModel()
        let package = path("Package")
        try FileManager.default.createDirectory(atPath: package, withIntermediateDirectories: false)
        try Data("previous".utf8).write(to: URL(fileURLWithPath: package + "/kept.txt"))
        var caught = 0
        for signal in [SIGINT, SIGTERM] {
            for _ in 0..<4 {
                let (process, sent) = try run(["swift", input, "--name", "Large", "-o", package, "--force"], signal: signal) { names in
                    // Interrupted once the staging folder has contents.
                    names.contains { $0.hasPrefix(".Package.vigil-new-") && (try? FileManager.default.contentsOfDirectory(atPath: self.path($0)))?.isEmpty == false }
                }
                XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasPrefix(".") }, [])
                guard sent, process.terminationReason == .uncaughtSignal else { continue }
                XCTAssertEqual(process.terminationStatus, signal)
                if FileManager.default.fileExists(atPath: package + "/kept.txt") {
                    caught += 1
                    break
                }
                // Too late: the package was in place before the signal. Put the old folder back.
                try FileManager.default.removeItem(atPath: package)
                try FileManager.default.createDirectory(atPath: package, withIntermediateDirectories: false)
                try Data("previous".utf8).write(to: URL(fileURLWithPath: package + "/kept.txt"))
            }
        }
        XCTAssertEqual(caught, 2, "a signal never arrived while the staging folder was being filled")
    }

    /// Converts `input` to `output` and sends `signal` as soon as the temporary file appears. Every
    /// time: no temporary file is left, and the destination is the previous file or, when the signal
    /// came after the rename, the whole new model. Returns whether one attempt caught the write
    /// itself (the destination kept its previous content).
    private func interrupt(input: String, output: String, with signal: Int32) throws -> Bool {
        for _ in 0..<8 {
            let (process, sent) = try run(["convert", input, "-o", output], signal: signal) { names in
                names.contains { $0.hasPrefix(".out.onnx.tmp-") }
            }
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasPrefix(".") }, [])
            guard sent, process.terminationReason == .uncaughtSignal else { continue }
            XCTAssertEqual(process.terminationStatus, signal)
            if try Data(contentsOf: URL(fileURLWithPath: output)) == Data("previous".utf8) { return true }
            // Too late: the signal came after the rename. The new model is complete.
            XCTAssertEqual(try ONNXReader.readModel(at: output).graph.initializers.first?.tensor.elementCount, 1 << 25)
            try Data("previous".utf8).write(to: URL(fileURLWithPath: output))
        }
        return false
    }

    /// Runs vigil with `arguments` and sends `signal` as soon as the names in the test folder satisfy
    /// `ready`; returns the ended process and whether the signal was sent.
    private func run(_ arguments: [String], signal: Int32, ready: ([String]) -> Bool) throws -> (Process, Bool) {
        let process = Process()
        process.executableURL = Repository.vigilBinary
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        var sent = false
        while process.isRunning {
            if ready(try FileManager.default.contentsOfDirectory(atPath: directory.path)) {
                kill(process.processIdentifier, signal)
                sent = true
                break
            }
            usleep(200)
        }
        process.waitUntilExit()
        return (process, sent)
    }

    /// A 128 MB model (one constant of 2^25 floats), slow enough to write that a signal can arrive meanwhile.
    private func writeLargeModel() throws -> String {
        let input = path("large.onnx")
        var graph = Graph(name: "large", outputs: [ValueInfo(name: "y", type: .tensor(.float32, Shape([.fixed(1 << 25)])))])
        graph.setInitializer("w", try Tensor(float32: [Float](repeating: 0.5, count: 1 << 25), shape: [1 << 25]))
        _ = try graph.addNode(Node(opType: "Identity", inputs: ["w"], outputs: ["y"]))
        try ONNXWriter.write(Model(irVersion: 8, opsetImports: [OpsetImport(domain: "", version: 17)], graph: graph), to: input)
        return input
    }
}
