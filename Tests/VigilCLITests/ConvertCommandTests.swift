import Foundation
import VigilIR
import VigilONNX
import VigilTestSupport
import XCTest

final class ConvertCommandTests: CLITestCase {
    func testConvertRewritesAnIdenticalModel() throws {
        let output = directory.appendingPathComponent("out.onnx").path
        let result = try vigil("convert", fixture("cnn_embedding"), "-o", output)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.hasPrefix("wrote \(output)"), result.stdout)
        XCTAssertEqual(try ONNXReader.readModel(at: output), try ONNXReader.readModel(at: fixture("cnn_embedding")))
    }

    func testThresholdMovesLargeTensorsToExternalData() throws {
        let output = directory.appendingPathComponent("out.onnx").path
        let result = try vigil("convert", fixture("cnn_embedding"), "-o", output, "--external-data-threshold", "1024")
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("out.onnx.data"), result.stdout)
        let model = try ONNXReader.readModel(at: output)
        XCTAssertEqual(model.externalDataLocations, ["out.onnx.data"])
        XCTAssertEqual(model, try ONNXReader.readModel(at: fixture("cnn_embedding")))
        for (name, tensor) in model.graph.initializers {
            XCTAssertEqual(tensor.externalSource != nil, tensor.byteCount >= 1024, name)
        }
    }

    func testFailuresLeaveNoOutput() throws {
        let output = directory.appendingPathComponent("out.onnx")
        let broken = directory.appendingPathComponent("broken.onnx")
        try Data([0x08, 0x08, 0x3a, 0xff, 0x01]).write(to: broken)
        assertFailure(try vigil("convert", broken.path, "-o", output.path), file: broken.path, cause: "truncated")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), ["broken.onnx"])

        let nowhere = directory.appendingPathComponent("no/such/dir/out.onnx").path
        assertFailure(try vigil("convert", fixture("gemm_mlp"), "-o", nowhere), file: nowhere, cause: "the folder '\(directory.appendingPathComponent("no/such/dir").path)' does not exist")
        XCTAssertEqual(try vigil("convert", fixture("gemm_mlp"), "-o", output.path, "--external-data-threshold", "-1").status, 2)
        XCTAssertEqual(try vigil("convert", fixture("gemm_mlp")).status, 2)
        XCTAssertFalse(FileManager.default.fileExists(atPath: output.path))
    }
}
