import Foundation
import VigilIR
import VigilNumpy
import VigilONNX
import VigilTestSupport
import XCTest

/// `vigil run` end to end: outputs equal onnxruntime's recorded outputs; bad inputs fail by name.
final class RunCommandTests: CLITestCase {
    func testRunWritesOutputsMatchingOnnxruntime() throws {
        let entry = try XCTUnwrap(try FixtureManifest.load().models.first { $0.name == "cnn_embedding" })
        let input = entry.testDataSet.appendingPathComponent("input_0.pb").path
        let output = directory.appendingPathComponent("out.npz").path
        let result = try vigil("run", entry.url.path, "--input", input, "-o", output, "--threads", "1")
        XCTAssertEqual(result.status, 0, result.stderr)
        let arrays = try NPZ.read(at: output)
        XCTAssertEqual(arrays.map(\.name), ["embedding"])
        let expected = try ONNXReader.readTensor(at: entry.testDataSet.appendingPathComponent("output_0.pb").path).tensor
        assertClose(arrays[0].tensor, expected, atol: entry.tolerance.atol, rtol: entry.tolerance.rtol, "embedding")
        // The same through a named .npy input, without -o: a summary line per output.
        let npy = directory.appendingPathComponent("x.npy").path
        try NPY.write(try ONNXReader.readTensor(at: input).tensor, to: npy)
        let printed = try vigil("run", entry.url.path, "--input", "X=\(npy)")
        XCTAssertEqual(printed.status, 0, printed.stderr)
        XCTAssertTrue(printed.stdout.hasPrefix("embedding  float32[4, 10]  min "), printed.stdout)
    }

    /// `--max-memory`: a model needing more fails before allocating, naming the node; a bad size is a usage error.
    func testMemoryLimitFailsNamingTheNode() throws {
        let entry = try XCTUnwrap(try FixtureManifest.load().models.first { $0.name == "cnn_embedding" })
        let input = entry.testDataSet.appendingPathComponent("input_0.pb").path
        let output = directory.appendingPathComponent("out.npz").path
        let result = try vigil("run", entry.url.path, "--input", input, "-o", output, "--max-memory", "1K")
        XCTAssertEqual(result.status, 1, result.stderr)
        XCTAssertEqual(result.stderrLines.count, 1, result.stderr)
        XCTAssertTrue(result.stderr.contains("more than the limit of 1 KB") && result.stderr.contains("node "), result.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: output))
        XCTAssertEqual(try vigil("run", entry.url.path, "--input", input, "--max-memory", "lots").status, 2)
        XCTAssertEqual(try vigil("run", entry.url.path, "--input", input, "--max-memory", "64M").status, 0)
    }

    func testBadInputsFailByNameAndWriteNothing() throws {
        let model = fixture("cnn_embedding")
        let output = directory.appendingPathComponent("out.npz").path
        let good = try ONNXReader.readTensor(at: Repository.onnxFixtures.appendingPathComponent("cnn_embedding/test_data_set_0/input_0.pb").path).tensor
        func npy(_ name: String, _ tensor: Tensor) throws -> String {
            let path = directory.appendingPathComponent(name).path
            try NPY.write(tensor, to: path)
            return path
        }
        let wrongShape = try npy("shape.npy", try Tensor(float32: [Float](repeating: 0, count: 4 * 28 * 28), shape: [4, 28, 28]))
        let wrongType = try npy("type.npy", try Tensor(int64: [Int64](repeating: 0, count: 28 * 28), shape: [1, 1, 28, 28]))
        let goodFile = try npy("good.npy", good)
        let notNPY = directory.appendingPathComponent("text.npy")
        try Data("hello".utf8).write(to: notNPY)

        // Inputs are checked against the model's declared inputs before it runs; the failure names the input file.
        assertFailure(try vigil("run", model, "--input", "Y=\(goodFile)", "-o", output), file: goodFile, cause: "the model has no input named 'Y' (inputs: 'X')")
        assertFailure(try vigil("run", model, "--input", wrongShape, "-o", output), file: wrongShape,
                      cause: "cannot take it as input 'X': it has rank 3 ([4, 28, 28]), the input is float32[N, 1, 28, 28]")
        assertFailure(try vigil("run", model, "--input", wrongType, "-o", output), file: wrongType, cause: "it is int64[1, 1, 28, 28], the input is float32")
        assertFailure(try vigil("run", model, "-o", output), file: model, cause: "missing input 'X'")
        assertFailure(try vigil("run", model, "--input", notNPY.path, "-o", output), file: notNPY.path, cause: "not a .npy file")
        let unsupported = fixture("attribute_kinds")
        assertFailure(try vigil("run", unsupported, "-o", output), file: unsupported, cause: "unsupported ops: com.vigil.test::AllAttributeKinds")
        XCTAssertFalse(FileManager.default.fileExists(atPath: output))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasPrefix(".") }, [])
    }
}
