import Foundation
import VigilIR
import VigilNumpy
import VigilONNX
import VigilTestSupport
import XCTest

/// The commands accept Keras files wherever they accept ONNX; outputs match Keras's recorded ones.
final class KerasCommandTests: CLITestCase {
    static let folder = Repository.fixtures.appendingPathComponent("keras/conv2d_net")

    func testRunAndConvertKerasFilesMatchKeras() throws {
        let input = Self.folder.appendingPathComponent("input_0.npy").path
        let expected = try NPY.read(at: Self.folder.appendingPathComponent("output_0.npy").path)
        for (file, extra) in [("model.h5", [String]()), ("model.keras", []), ("model.weights.h5", ["--config", Self.folder.appendingPathComponent("config.json").path])] {
            let output = directory.appendingPathComponent("out.npz").path
            let result = try vigil(["run", Self.folder.appendingPathComponent(file).path, "--input", input, "-o", output] + extra)
            XCTAssertEqual(result.status, 0, "\(file): \(result.stderr)")
            let arrays = try NPZ.read(at: output)
            XCTAssertEqual(arrays.count, 1, file)
            assertClose(arrays[0].tensor, expected, atol: 1e-5, rtol: 1e-4, file)
        }
        let onnx = directory.appendingPathComponent("model.onnx").path
        let converted = try vigil(["convert", Self.folder.appendingPathComponent("model.h5").path, "-o", onnx, "--optimize"])
        XCTAssertEqual(converted.status, 0, converted.stderr)
        let output = directory.appendingPathComponent("onnx.npz").path
        XCTAssertEqual(try vigil(["run", onnx, "--input", input, "-o", output]).status, 0)
        assertClose(try NPZ.read(at: output)[0].tensor, expected, atol: 1e-5, rtol: 1e-4, "converted ONNX")
        let inspect = try vigil(["inspect", Self.folder.appendingPathComponent("model.keras").path])
        XCTAssertTrue(inspect.stdout.contains("format       Keras"), inspect.stdout)
    }

    func testBadKerasFilesFailWithOneLine() throws {
        let notHDF5 = directory.appendingPathComponent("model.h5")
        try Data("not hdf5 at all".utf8).write(to: notHDF5)
        let result = try vigil(["inspect", notHDF5.path])
        XCTAssertEqual(result.status, 1, result.stderr)
        XCTAssertEqual(result.stderrLines.count, 1, result.stderr)
        XCTAssertTrue(result.stderr.hasPrefix("vigil: error: \(notHDF5.path)"), result.stderr)
        let weightsOnly = Self.folder.appendingPathComponent("model.weights.h5").path
        let noConfig = try vigil(["inspect", weightsOnly])
        XCTAssertEqual(noConfig.status, 1, noConfig.stderr)
        XCTAssertTrue(noConfig.stderr.contains(weightsOnly), noConfig.stderr)
    }
}
