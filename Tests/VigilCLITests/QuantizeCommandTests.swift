import Foundation
import VigilTestSupport
import XCTest

/// `vigil quantize` end to end: the file it writes (runs, checks clean, inspects), usage errors, the
/// budget (exit 1, nothing written) and auto-exclusion, and a quantized detector network whose novelty
/// AUROC stays within 0.01 of the float one's (`detect evaluate --baseline`), as onnxruntime measured it
/// on the committed quantized network.
final class QuantizeCommandTests: CLITestCase {
    var input: String { Repository.onnxFixtures.appendingPathComponent("cnn_embedding/test_data_set_0/input_0.pb").path }
    func temp(_ name: String) -> String { directory.appendingPathComponent(name).path }

    func testQuantizedModelRunsChecksAndShowsItsQuantization() throws {
        let out = temp("q.onnx")
        let r = try vigil("quantize", fixture("cnn_embedding"), "--calibration", input, "-o", out)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("4 of 4 Conv/Gemm/MatMul nodes"), r.stdout)
        XCTAssertTrue(r.stdout.contains("against the float model on 4 samples"), r.stdout)
        XCTAssertTrue(r.stdout.contains("wrote \(out)"), r.stdout)
        XCTAssertEqual(try vigil("check", out).status, 0)
        let inspect = try vigil("inspect", out)
        XCTAssertTrue(inspect.stdout.contains("quantization"), inspect.stdout)
        XCTAssertTrue(inspect.stdout.contains("per axis 0"), inspect.stdout)
        let run = try vigil("run", out, "--input", input)
        XCTAssertEqual(run.status, 0, run.stderr)
        let dynamic = try vigil("quantize", fixture("cnn_embedding"), "--weights-only", "--validation", input, "-o", temp("d.onnx"))
        XCTAssertEqual(dynamic.status, 0, dynamic.stderr)
        XCTAssertTrue(dynamic.stdout.contains("activations quantized at run time"), dynamic.stdout)
        XCTAssertTrue(try vigil("inspect", temp("d.onnx")).stdout.contains("dynamic"))
        // A model named through a symbolic link: the float size reported is the linked file's.
        let link = temp("linked.onnx")
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: fixture("cnn_embedding"))
        let linked = try vigil("quantize", link, "--calibration", input, "-o", temp("l.onnx"), "--json")
        XCTAssertEqual(linked.status, 0, linked.stderr)
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(linked.stdout.utf8)) as? [String: Any])
        let size = try XCTUnwrap(try FileManager.default.attributesOfItem(atPath: fixture("cnn_embedding"))[.size] as? NSNumber).intValue
        XCTAssertEqual(report["float_bytes"] as? Int, size)
    }

    func testUsageErrors() throws {
        let model = fixture("cnn_embedding"), out = temp("q.onnx")
        for arguments in [["quantize", model, "-o", out], ["quantize", model, "--calibration", input, "-o", out, "--auto-exclude"],
                          ["quantize", model, "--calibration", input, "-o", out, "--percentile", "99.9"],
                          ["quantize", model, "--weights-only", "--method", "entropy", "-o", out],
                          ["quantize", model, "--weights-only", "--max-error", "0.1", "-o", out],
                          ["quantize", model, "--calibration", input, "--exclude", "no_such_node", "-o", out]] {
            let r = try vigil(arguments)
            XCTAssertEqual(r.status, 2, "\(arguments): \(r.stderr)")
            XCTAssertTrue(r.stderr.hasPrefix("vigil: error: "), r.stderr)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
    }

    func testOverBudgetFailsAndWritesNothing() throws {
        let out = temp("q.onnx")
        let r = try vigil("quantize", fixture("cnn_embedding"), "--calibration", input, "--max-error", "0", "-o", out)
        assertFailure(r, file: fixture("cnn_embedding"), cause: "exceeds --max-error 0; nothing written")
        XCTAssertTrue(r.stdout.contains("budget: max abs error 0"), r.stdout)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
        let fitted = try vigil("quantize", fixture("cnn_embedding"), "--calibration", input, "--max-error", "0", "--auto-exclude", "-o", out)
        XCTAssertEqual(fitted.status, 0, fitted.stderr)
        XCTAssertTrue(fitted.stdout.contains("--auto-exclude"), fitted.stdout)
        XCTAssertTrue(FileManager.default.fileExists(atPath: out))
    }

    func testBadSampleFilesFailInOneLine() throws {
        let wrong = Repository.fixtures.appendingPathComponent("detector/test_labels.npy").path
        let r = try vigil("quantize", fixture("cnn_embedding"), "--calibration", wrong, "-o", temp("q.onnx"))
        assertFailure(r, file: wrong, cause: "the model cannot take it as input 'X'")
    }

    /// The bundled embedding network, quantized with its detector's preprocessing: at most 30% of the
    /// float file, and its novelty AUROC (mean distance) within 0.01 of the float network's.
    func testQuantizedDetectorNetworkKeepsItsAUROC() throws {
        func d(_ name: String) -> String { Repository.fixtures.appendingPathComponent("detector/\(name)").path }
        let detector = temp("d.h5"), quantized = temp("embedding.int8.onnx")
        XCTAssertEqual(try vigil("detect", "fit", d("embedding.onnx"), "--data", d("train_images.npy"), "--labels", d("train_labels.npy"),
                                 "-o", detector).status, 0)
        let q = try vigil("quantize", d("embedding.onnx"), "--detector", detector, "--calibration", d("train_images.npy"), "-o", quantized, "--json")
        XCTAssertEqual(q.status, 0, q.stderr)
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(q.stdout.utf8)) as? [String: Any])
        let bytes = try XCTUnwrap(report["bytes"] as? Int), floatBytes = try XCTUnwrap(report["float_bytes"] as? Int)
        XCTAssertLessThanOrEqual(Double(bytes), 0.3 * Double(floatBytes))
        let r = try vigil("detect", "evaluate", detector, quantized, "--baseline", d("embedding.onnx"), "--data", d("test_images.npy"),
                          "--novelty", d("novelty_images.npy"), "--scorer", "mean_distance", "--json")
        XCTAssertEqual(r.status, 0, r.stderr)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let auroc = try XCTUnwrap(((object["metrics"] as? [String: Any])?["novelty"] as? [String: Any])?["mean_distance"] as? [String: Any])["auroc"] as? Double
        let change = try XCTUnwrap((((object["baseline"] as? [String: Any])?["change"] as? [String: Any])?["novelty"] as? [String: Any])?["mean_distance"] as? [String: Double])
        XCTAssertLessThanOrEqual(abs(try XCTUnwrap(change["auroc"])), 0.01)
        // onnxruntime's AUROC of the committed quantized network (the generator's numpy metrics).
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: Repository.fixtures.appendingPathComponent("quantized/manifest.json"))) as? [String: Any]
        let entry = try XCTUnwrap((manifest?["models"] as? [[String: Any]])?.first { $0["name"] as? String == "vigil_detector_embedding" })
        let reference = try XCTUnwrap((((entry["mean_distance"] as? [String: Any])?["novelty"] as? [String: Any])?["quantized"] as? [String: Double])?["auroc"])
        XCTAssertEqual(try XCTUnwrap(auroc), reference, accuracy: 2e-3)
    }
}
