import Foundation
import VigilIR
import VigilNumpy
import VigilONNX
import VigilTestSupport
import XCTest

/// `vigil swift` end to end: the generated package's files, the recorded test data, and bad input
/// (one line, exit 1 or 2, nothing written). Building the generated packages is the job of
/// `scripts/swift_packages.py` (run by `scripts/run test`), which compiles every fixture's package.
final class SwiftCommandTests: CLITestCase {
    let awkward = Repository.fixtures.appendingPathComponent("swift/awkward_names")

    /// The awkward-names fixture with its own inputs: the recorded inputs are those, the recorded
    /// outputs match onnxruntime's, and the wrapper names every input and output.
    func testAwkwardNamesPackage() throws {
        let data = awkward.appendingPathComponent("test_data_set_0")
        let inputs = (0..<6).flatMap { ["--input", data.appendingPathComponent("input_\($0).pb").path] }
        let output = directory.appendingPathComponent("Awkward").path
        let result = try vigil(["swift", awkward.appendingPathComponent("model.onnx").path, "--name", "Awkward", "-o", output] + inputs)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.hasPrefix("wrote \(output): library Awkward, executable Awkward-run, tests AwkwardTests\n"), result.stdout)
        XCTAssertTrue(result.stdout.contains("input1_2: TypedTensor<Float> (input_1 float32 [1, 4])"), result.stdout)
        XCTAssertTrue(result.stdout.contains("class: TypedTensor<Int64> (class int64 [N])"), result.stdout)
        let files = try FileManager.default.subpathsOfDirectory(atPath: output).sorted()
        XCTAssertEqual(files.filter { !$0.hasSuffix("/") && $0.contains(".") }, [
            ".gitignore", "Package.swift", "README.md", "Sources/Awkward-run/main.swift", "Sources/Awkward/Awkward.swift",
            "Sources/Awkward/Model/model.onnx", "Tests/AwkwardTests/AwkwardTests.swift", "Tests/AwkwardTests/Recorded/inputs.npz",
            "Tests/AwkwardTests/Recorded/outputs.npz",
        ])
        let manifest = try String(contentsOfFile: output + "/Package.swift", encoding: .utf8)
        XCTAssertTrue(manifest.contains(".package(name: \"Vigil\", path: \(literal(Repository.root.standardizedFileURL.path)))"), manifest)
        let wrapper = try String(contentsOfFile: output + "/Sources/Awkward/Awkward.swift", encoding: .utf8)
        XCTAssertTrue(wrapper.contains("public var `class`: TypedTensor<Int64>"), wrapper)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: output + "/Sources/Awkward/Model/model.onnx")),
                       try Data(contentsOf: awkward.appendingPathComponent("model.onnx")))

        let recordedInputs = try NPZ.read(at: output + "/Tests/AwkwardTests/Recorded/inputs.npz")
        XCTAssertEqual(recordedInputs.map(\.name), ["input.1", "0", "images:0", "input_1", "class", "n"])
        for (index, (name, tensor)) in recordedInputs.enumerated() {
            let reference = try ONNXReader.readTensor(at: data.appendingPathComponent("input_\(index).pb").path)
            XCTAssertEqual(name, reference.name)
            XCTAssertEqual(tensor, reference.tensor, name)
        }
        let recordedOutputs = try NPZ.read(at: output + "/Tests/AwkwardTests/Recorded/outputs.npz")
        XCTAssertEqual(recordedOutputs.map(\.name), ["output:0", "default", "1", "self", "out put"])
        for (index, (name, tensor)) in recordedOutputs.enumerated() {
            let reference = try ONNXReader.readTensor(at: data.appendingPathComponent("output_\(index).pb").path)
            assertClose(tensor, reference.tensor, atol: 1e-5, rtol: 1e-4, name)
        }
    }

    /// Without --input, seeded random inputs are recorded (symbolic dims from --dim, default 1), the
    /// same on every run; a Keras model is bundled with its config; --vigil-url gives a URL dependency.
    func testRandomInputsKerasAndURLDependency() throws {
        let keras = Repository.fixtures.appendingPathComponent("keras/dense_mlp")
        var recorded: [[(name: String, tensor: Tensor)]] = []
        for name in ["First", "Second"] {
            let output = directory.appendingPathComponent(name).path
            let result = try vigil("swift", keras.appendingPathComponent("model.weights.h5").path, "--config", keras.appendingPathComponent("config.json").path,
                                   "--name", name, "-o", output, "--dim", "batch=3", "--vigil-url", "https://example.com/vigil.git", "--vigil-version", "0.1.0")
            XCTAssertEqual(result.status, 0, result.stderr)
            recorded.append(try NPZ.read(at: output + "/Tests/\(name)Tests/Recorded/inputs.npz"))
            XCTAssertTrue(FileManager.default.fileExists(atPath: output + "/Sources/\(name)/Model/config.json"))
            let manifest = try String(contentsOfFile: output + "/Package.swift", encoding: .utf8)
            XCTAssertTrue(manifest.contains(#".package(url: "https://example.com/vigil.git", from: "0.1.0")"#), manifest)
            let wrapper = try String(contentsOfFile: output + "/Sources/\(name)/\(name).swift", encoding: .utf8)
            XCTAssertTrue(wrapper.contains("public init(modelURL: URL, kerasConfigURL: URL? = nil, options: Network.Options = .init())"), wrapper)
        }
        XCTAssertEqual(recorded[0].map(\.tensor), recorded[1].map(\.tensor))
        let values = recorded[0][0].tensor.scalars(as: Float.self)
        XCTAssertEqual(recorded[0][0].tensor.shape.first, 3, "--dim batch=3")
        XCTAssertTrue(values.allSatisfy { $0 >= -1 && $0 < 1 } && Set(values).count > values.count / 2, "\(values)")
    }

    /// --force replaces a folder a previous run wrote; without it, a non-empty folder is refused.
    func testExistingFolders() throws {
        let model = fixture("gemm_mlp")
        let output = directory.appendingPathComponent("Net")
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: false)
        try Data("mine".utf8).write(to: output.appendingPathComponent("notes.txt"))
        let refused = try vigil("swift", model, "--name", "Net", "-o", output.path)
        XCTAssertEqual(refused.status, 1)
        XCTAssertEqual(refused.stderr, "vigil: error: \(output.path): exists and is not empty; use --force to replace it\n")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: output.path), ["notes.txt"])
        let forced = try vigil("swift", model, "--name", "Net", "-o", output.path, "--force")
        XCTAssertEqual(forced.status, 0, forced.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: output.appendingPathComponent("notes.txt").path))
        XCTAssertTrue(FileManager.default.fileExists(atPath: output.appendingPathComponent("Package.swift").path))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), ["Net"], "no staging folders left")
        // Never the folder holding the model, nor the working folder, even with --force.
        try FileManager.default.copyItem(atPath: model, toPath: output.appendingPathComponent("model.onnx").path)
        let holdsModel = try vigil("swift", output.appendingPathComponent("model.onnx").path, "--name", "Net", "-o", output.path, "--force")
        XCTAssertEqual(holdsModel.status, 1)
        XCTAssertTrue(holdsModel.stderr.contains("contains \(output.appendingPathComponent("model.onnx").path); --force would delete it"), holdsModel.stderr)
        let working = try vigil("swift", model, "--name", "Net", "-o", "/", "--force")
        XCTAssertEqual(working.status, 1, working.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: output.appendingPathComponent("model.onnx").path))
    }

    func testBadInputGivesOneLineAndWritesNothing() throws {
        let output = directory.appendingPathComponent("Out").path
        let model = fixture("gemm_mlp")
        let file = directory.appendingPathComponent("file.txt")
        try Data("x".utf8).write(to: file)
        let cases: [([String], Int32, String)] = [
            (["swift", "/nonexistent/model.onnx", "--name", "Net", "-o", output], 1, "vigil: error: /nonexistent/model.onnx: "),
            (["swift", model, "--name", "my-net", "-o", output], 2, "'my-net' is not a Swift identifier"),
            (["swift", model, "--name", "struct", "-o", output], 2, "'struct' is not a Swift identifier"),
            (["swift", model, "--name", "VigilRuntime", "-o", output], 2, "the name of a module the generated code imports"),
            (["swift", model, "--name", "Net", "-o", file.path], 1, "vigil: error: \(file.path): exists and is not a folder"),
            (["swift", model, "--name", "Net", "-o", directory.appendingPathComponent("a/b").path], 1, "does not exist"),
            (["swift", fixture("control_flow_if"), "--name", "Net", "-o", output], 1, "unsupported ops: If"),
            (["swift", fixture("attribute_kinds"), "--name", "Net", "-o", output], 1, "unsupported ops: com.vigil.test::AllAttributeKinds"),
            (["swift", model, "--name", "Net", "-o", output, "--vigil-url", "https://example.com/v.git"], 2, "--vigil-url and --vigil-version go together"),
            (["swift", model, "--name", "Net", "-o", output, "--vigil-path", directory.path], 1, "not a Vigil checkout"),
            (["swift", model, "--name", "Net", "-o", output, "--dim", "batch"], 2, "--dim batch: expected SYMBOL=SIZE"),
            (["swift", fixture("cnn_embedding"), "--name", "Net", "-o", output, "--input", "Y=\(file.path)"], 1, "vigil: error: \(file.path): "),
        ]
        for (arguments, status, message) in cases {
            let result = try vigil(arguments)
            XCTAssertEqual(result.status, status, "\(arguments): \(result.stderr)")
            XCTAssertEqual(result.stderrLines.count, 1, "\(arguments): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains(message), "\(arguments): '\(result.stderr)' should contain '\(message)'")
            XCTAssertEqual(result.stdout, "", "\(arguments)")
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), ["file.txt"], "\(arguments) wrote something")
        }
    }

    func literal(_ text: String) -> String { "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\"" }
}
