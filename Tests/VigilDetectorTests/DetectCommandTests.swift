import Foundation
import VigilDetector
import VigilIR
import VigilNumpy
import VigilONNX
import VigilTestSupport
import XCTest

/// `vigil detect …` end to end: the built binary's exit code, stdout, stderr and files.
final class DetectCommandTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        try Repository.requireVigilBinary()
        directory = try Repository.temporaryDirectory()
    }

    override func tearDownWithError() throws { if let directory { try? FileManager.default.removeItem(at: directory) } }

    private struct Result { var status: Int32; var stdout: String; var stderr: String }

    private func vigil(_ arguments: [String]) throws -> Result {
        let run = try runVigil(arguments)
        return Result(status: run.status, stdout: run.stdout, stderr: run.stderr)
    }

    private func temp(_ name: String) -> String { directory.appendingPathComponent(name).path }
    private func fixture(_ name: String) -> String { DetectorFixtures.path(name) }

    private func assertFailure(_ r: Result, contains cause: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(r.status, 1, r.stderr, file: file, line: line)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr, file: file, line: line)
        XCTAssertTrue(r.stderr.hasPrefix("vigil: error: "), r.stderr, file: file, line: line)
        XCTAssertTrue(r.stderr.contains(cause), "'\(r.stderr)' should mention '\(cause)'", file: file, line: line)
    }

    private func fit(to output: String) throws {
        let r = try vigil(["detect", "fit", fixture("embedding.onnx"), "--data", fixture("train_images.npy"),
                           "--labels", fixture("train_labels.npy"), "--val", fixture("val_images.npy"), "-o", output, "--threads", "1"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("fitted 5 classes on 1500 embeddings of width 10"), r.stdout)
    }

    /// `detect metrics --json` on the numpy reference scores equals scikit-learn to 1e-9.
    func testMetricsCommandMatchesScikitLearn() throws {
        let inFile = temp("in.npy"), oodFile = temp("ood.npy")
        try NPY.write(Tensor(.float64, shape: [500], scalars: DetectorFixtures.scores("mean_distance", "test")), to: inFile)
        try NPY.write(Tensor(.float64, shape: [1000], scalars: DetectorFixtures.scores("mean_distance", "novelty")), to: oodFile)
        let r = try vigil(["detect", "metrics", "--data", inFile, "--novelty", oodFile, "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let object = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        let json = try XCTUnwrap((object?["metrics"] as? [String: [String: Double]])?["novelty"], r.stdout)
        let expected = ((DetectorFixtures.section("metrics")["mean_distance"] as! [String: Any])["novelty"] as! [String: Any])
        XCTAssertEqual(Set(json.keys), ["fpr_at_95_tpr", "detection_error", "auroc", "aupr_in", "aupr_out"])
        for (key, value) in json { assertClose([value], [DetectorFixtures.double(expected[key]!)], atol: 1e-9, rtol: 0, key) }
        XCTAssertEqual(object?["counts"] as? [String: Int], ["in": 500, "novelty": 1000])
        let text = try vigil(["detect", "metrics", "--data", inFile, "--anomaly", "ood=\(oodFile)"])
        XCTAssertTrue(text.stdout.contains("AUROC"), text.stdout)
        // The old spellings still work (hidden aliases): --in-scores is --data, --ood-scores F is --anomaly ood=F.
        let old = try vigil(["detect", "metrics", "--in-scores", inFile, "--ood-scores", oodFile])
        XCTAssertEqual(old.status, 0, old.stderr)
        XCTAssertEqual(old.stdout, text.stdout)
    }

    /// fit → score (-o) equals numpy; evaluate prints every scorer and writes the report.
    func testFitScoreEvaluate() throws {
        let detector = temp("detector.h5")
        try fit(to: detector)
        let scores = temp("scores.npy")
        let r = try vigil(["detect", "score", detector, fixture("embedding.onnx"), "--data", fixture("photos_images.npy"),
                           "--scorer", "mahalanobis", "-o", scores])
        XCTAssertEqual(r.status, 0, r.stderr)
        assertClose(try NPY.read(at: scores).scalars(as: Double.self), DetectorFixtures.scores("mahalanobis", "photos"),
                    atol: 1e-4, rtol: 1e-5, "mahalanobis")
        let logits = try vigil(["detect", "score", detector, fixture("classifier.onnx"), "--data", fixture("photos_images.npy"),
                                "--scorer", "energy", "-o", scores])
        XCTAssertEqual(logits.status, 0, logits.stderr)
        assertClose(try NPY.read(at: scores).scalars(as: Double.self), DetectorFixtures.scores("energy", "photos"),
                    atol: 1e-4, rtol: 1e-5, "energy")

        let report = temp("report.html")
        let e = try vigil(["detect", "evaluate", detector, fixture("embedding.onnx"), "--in", fixture("test_images.npy"),
                           "--novelty", fixture("novelty_images.npy"), "--anomaly", "photos=\(fixture("photos_images.npy"))",
                           "--classifier", fixture("classifier.onnx"), "--json", "--report", report])
        XCTAssertEqual(e.status, 0, e.stderr)
        let json = try JSONSerialization.jsonObject(with: Data(e.stdout.utf8)) as! [String: Any]
        let metrics = json["metrics"] as! [String: [String: [String: Double]]]
        XCTAssertEqual(Set(metrics.keys), ["novelty", "photos"])
        XCTAssertEqual(Set(metrics["novelty"]!.keys), Set(Scorer.allCases.map(\.rawValue)))
        // Scores come from Vigil's executor, not onnxruntime, so ranks may differ by a few pairs.
        let reference = DetectorFixtures.section("metrics")
        for scorer in Scorer.allCases {
            let expected = (reference[scorer.rawValue] as! [String: Any])["novelty"] as! [String: Any]
            assertClose([metrics["novelty"]![scorer.rawValue]!["auroc"]!], [DetectorFixtures.double(expected["auroc"]!)],
                        atol: 1e-3, rtol: 0, scorer.rawValue)
        }
        let html = try String(contentsOfFile: report, encoding: .utf8)
        XCTAssertTrue(html.hasPrefix("<!DOCTYPE html>"))
        XCTAssertEqual(html.components(separatedBy: "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\"").count - 1, 2 * Scorer.allCases.count)
        assertSelfContained(html)
    }

    /// With --classifier, fit also calibrates the softmax baselines on the validation images; the
    /// thresholds equal numpy's order statistics (up to the executor-vs-onnxruntime difference).
    func testFitCalibratesClassifierThresholds() throws {
        let detector = temp("both.h5")
        let r = try vigil(["detect", "fit", fixture("embedding.onnx"), "--data", fixture("train_images.npy"),
                           "--labels", fixture("train_labels.npy"), "--val", fixture("val_images.npy"),
                           "--classifier", fixture("classifier.onnx"), "-o", detector])
        XCTAssertEqual(r.status, 0, r.stderr)
        let loaded = try DetectorFile.read(at: detector)
        XCTAssertEqual(Set(loaded.thresholds.keys), Set(Scorer.allCases.map(\.rawValue)))
        let reference = DetectorFixtures.section("thresholds")
        for scorer in Scorer.allCases {
            assertClose([loaded.thresholds[scorer.rawValue]!], [DetectorFixtures.double(reference[scorer.rawValue]!)],
                        atol: 1e-4, rtol: 1e-5, scorer.rawValue)
        }
        let s = try vigil(["detect", "score", detector, fixture("classifier.onnx"), "--data", fixture("val_images.npy"),
                           "--scorer", "energy"])
        XCTAssertEqual(s.status, 0, s.stderr)
        // 95% of the validation images are in-distribution at their own threshold.
        XCTAssertTrue(s.stdout.contains("475 in-distribution, 25 out-of-distribution"), s.stdout)
    }

    func testLengthMismatchLeavesNoFile() throws {
        let output = temp("bad.h5")
        let r = try vigil(["detect", "fit", fixture("embedding.onnx"), "--data", fixture("train_images.npy"),
                           "--labels", fixture("val_labels.npy"), "-o", output])
        assertFailure(r, contains: "data and labels differ in length: 1500 images")
        XCTAssertFalse(FileManager.default.fileExists(atPath: output))
    }

    func testEmptyClassAndWrongShapeLeaveNoFile() throws {
        let output = temp("bad.h5")
        let labels = temp("labels.npy")
        let shifted = try DetectorFixtures.labels("train").map { Int64($0 == 1 ? 4 : $0) }
        try NPY.write(Tensor(int64: shifted, shape: [1500]), to: labels)
        let r = try vigil(["detect", "fit", fixture("embedding.onnx"), "--data", fixture("train_images.npy"), "--labels", labels, "-o", output])
        assertFailure(r, contains: "class 1 has no samples")
        XCTAssertFalse(FileManager.default.fileExists(atPath: output))

        let images = temp("images.npy")
        try NPY.write(Tensor(.uint8, shape: [1500, 32, 32], scalars: [UInt8](repeating: 7, count: 1500 * 32 * 32)), to: images)
        let s = try vigil(["detect", "fit", fixture("embedding.onnx"), "--data", images, "--labels", fixture("train_labels.npy"), "-o", output])
        assertFailure(s, contains: "wrong image shape")
        XCTAssertFalse(FileManager.default.fileExists(atPath: output))
    }

    func testNaNEmbeddingsLeaveNoFile() throws {
        let images = temp("nan.npy")
        var pixels = [Float](repeating: 0.5, count: 10 * 784)
        for i in (4 * 784)..<(5 * 784) { pixels[i] = .nan }  // a corrupted image
        try NPY.write(Tensor(float32: pixels, shape: [10, 28, 28]), to: images)
        let labels = temp("labels.npy")
        try NPY.write(Tensor(int64: [0, 1, 0, 1, 0, 1, 0, 1, 0, 1], shape: [10]), to: labels)
        let output = temp("nan.h5")
        let r = try vigil(["detect", "fit", fixture("embedding.onnx"), "--data", images, "--labels", labels, "--scale", "1",
                           "--val-fraction", "0", "--k", "2", "-o", output])
        assertFailure(r, contains: "NaN or infinite embedding for sample 4")
        XCTAssertFalse(FileManager.default.fileExists(atPath: output))
    }

    /// A detector refuses a different model file unless overridden; the same network re-serialized
    /// (different bytes, same function) then scores the same.
    func testModelMismatchAndOverride() throws {
        let detector = temp("detector.h5")
        try fit(to: detector)
        let other = temp("other.onnx")
        try ONNXWriter.write(ONNXReader.readModel(at: fixture("embedding.onnx")), to: other)
        XCTAssertNotEqual(try SHA256.hex(fileAt: other), try SHA256.hex(fileAt: fixture("embedding.onnx")))
        let scores = temp("scores.npy")
        let refused = try vigil(["detect", "score", detector, other, "--data", fixture("test_images.npy"), "-o", scores])
        assertFailure(refused, contains: "made for another model")
        XCTAssertFalse(FileManager.default.fileExists(atPath: scores))
        let allowed = try vigil(["detect", "score", detector, other, "--data", fixture("test_images.npy"), "-o", scores,
                                 "--allow-model-mismatch"])
        XCTAssertEqual(allowed.status, 0, allowed.stderr)
        assertClose(try NPY.read(at: scores).scalars(as: Double.self), DetectorFixtures.scores("mean_distance", "test"),
                    atol: 1e-4, rtol: 1e-5, "mean_distance")
    }

    func testUsageErrors() throws {
        let r = try vigil(["detect", "score", "d.h5", "m.onnx", "--data", "x.npy", "--scorer", "nope"])
        XCTAssertEqual(r.status, 2, r.stderr)
        XCTAssertTrue(r.stderr.contains("unknown scorer 'nope'"), r.stderr)
        let e = try vigil(["detect", "evaluate", "d.h5", "m.onnx", "--in", "x.npy"])
        XCTAssertEqual(e.status, 2, e.stderr)
        let c = try vigil(["detect", "evaluate", "d.h5", "m.onnx", "--in", "x.npy", "--novelty", "y.npy", "--scorer", "odin"])
        XCTAssertEqual(c.status, 2, c.stderr)
        XCTAssertTrue(c.stderr.contains("scorer odin needs --classifier"), c.stderr)
        let d = try vigil(["detect", "evaluate", "d.h5", "m.onnx", "--in", "x.npy", "--novelty", "y.npy", "--anomaly", "novelty=z.npy"])
        XCTAssertEqual(d.status, 2, d.stderr)
        XCTAssertTrue(d.stderr.contains("used twice"), d.stderr)
    }
}

extension DetectCommandTests {
    /// Without --val, the last 20% of each class calibrates the thresholds and is not fitted on.
    func testValidationFractionHoldsOutPerClass() throws {
        let detector = temp("split.h5")
        let r = try vigil(["detect", "fit", fixture("embedding.onnx"), "--data", fixture("train_images.npy"),
                           "--labels", fixture("train_labels.npy"), "--val-fraction", "0.2", "-o", detector])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("on 1200 embeddings"), r.stdout)
        let loaded = try DetectorFile.read(at: detector)
        XCTAssertEqual(loaded.counts, [240, 240, 240, 240, 240])
        XCTAssertEqual(Set(loaded.thresholds.keys), ["mean_distance", "mahalanobis", "knn"])
        // The held-out threshold is the 95th-percentile order statistic of the held-out scores.
        let labels = try DetectorFixtures.labels("train")
        let split = try ValidationSplit.split(labels: labels, fraction: 0.2)
        let all = try DetectorFixtures.embeddings("train_embedding.npy")
        let held = try Embeddings(values: split.validation.flatMap { i in (0..<10).map { all.values[i * 10 + $0] } },
                                  count: split.validation.count, dimension: 10)
        let expected = try Calibration.threshold(validationScores: loaded.scores(.meanDistance, held), tpr: 0.95)
        assertClose([loaded.thresholds["mean_distance"]!], [expected], atol: 1e-4, rtol: 1e-5, "threshold")
    }
}

extension DetectCommandTests {
    /// The Keras `.h5` of the embedding network, imported by Vigil, scores like numpy on
    /// onnxruntime's embeddings of the independently built ONNX (same weights, different file).
    func testKerasModelScoresMatchNumpy() throws {
        let detector = temp("detector.h5")
        try fit(to: detector)
        let scores = temp("keras.npy")
        let refused = try vigil(["detect", "score", detector, fixture("embedding.h5"), "--data", fixture("photos_images.npy"), "-o", scores])
        assertFailure(refused, contains: "made for another model")
        let r = try vigil(["detect", "score", detector, fixture("embedding.h5"), "--data", fixture("photos_images.npy"),
                           "--scorer", "knn", "-o", scores, "--allow-model-mismatch"])
        XCTAssertEqual(r.status, 0, r.stderr)
        assertClose(try NPY.read(at: scores).scalars(as: Double.self), DetectorFixtures.scores("knn", "photos"),
                    atol: 1e-4, rtol: 1e-5, "knn via Keras import")
        let logits = try vigil(["detect", "score", detector, fixture("classifier.h5"), "--data", fixture("photos_images.npy"),
                                "--scorer", "max_softmax", "-o", scores])
        XCTAssertEqual(logits.status, 0, logits.stderr)
        assertClose(try NPY.read(at: scores).scalars(as: Double.self), DetectorFixtures.scores("max_softmax", "photos"),
                    atol: 1e-5, rtol: 1e-5, "max_softmax via Keras import")
    }
}

/// The classifier is bound to the detector by SHA-256 like the embedding network.
final class ClassifierBindingTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        guard FileManager.default.isExecutableFile(atPath: Repository.vigilBinary.path) else {
            throw XCTSkip("the vigil binary is not built (swift build)")
        }
        directory = try Repository.temporaryDirectory()
    }

    override func tearDownWithError() throws { if let directory { try? FileManager.default.removeItem(at: directory) } }

    func testScoringWithAnotherClassifierIsAnErrorUnlessAllowed() throws {
        let fixture = DetectorFixtures.path
        let detector = directory.appendingPathComponent("detector.h5").path
        let fit = try runVigil(["detect", "fit", fixture("embedding.onnx"), "--data", fixture("val_images.npy"),
                                "--labels", fixture("val_labels.npy"), "--classifier", fixture("classifier.onnx"), "-o", detector])
        XCTAssertEqual(fit.status, 0, fit.stderr)
        XCTAssertEqual(try DetectorFile.read(at: detector).classifierSHA256, try SHA256.hex(fileAt: fixture("classifier.onnx")))

        // The embedding network given as the classifier: the wrong network, as in the issue.
        let evaluate = ["detect", "evaluate", detector, fixture("embedding.onnx"), "--in", fixture("test_images.npy"),
                        "--novelty", fixture("novelty_images.npy"), "--classifier", fixture("embedding.onnx")]
        let refused = try runVigil(evaluate)
        XCTAssertEqual(refused.status, 1, refused.stderr)
        XCTAssertEqual(refused.stderrLines.count, 1, refused.stderr)
        XCTAssertTrue(refused.stderr.contains("the detector was calibrated with another classifier"), refused.stderr)
        let score = try runVigil(["detect", "score", detector, fixture("embedding.onnx"), "--data", fixture("test_images.npy"), "--scorer", "energy"])
        XCTAssertEqual(score.status, 1, score.stderr)
        XCTAssertTrue(score.stderr.contains("another classifier"), score.stderr)

        let report = directory.appendingPathComponent("report.html").path
        let allowed = try runVigil(evaluate + ["--allow-model-mismatch", "--report", report])
        XCTAssertEqual(allowed.status, 0, allowed.stderr)
        XCTAssertEqual(allowed.stderrLines.filter { $0.hasPrefix("vigil: warning: ") }.count, 1, allowed.stderr)
        XCTAssertTrue(allowed.stderr.contains("the classifier is not the one the detector was calibrated with"), allowed.stderr)
        let html = try String(contentsOfFile: report, encoding: .utf8)
        XCTAssertTrue(html.contains("class=\"warning\"") && html.contains("the classifier is not the one the detector was calibrated with"))

        let right = try runVigil(["detect", "score", detector, fixture("classifier.onnx"), "--data", fixture("test_images.npy"), "--scorer", "energy"])
        XCTAssertEqual(right.status, 0, right.stderr)
        XCTAssertEqual(right.stderr, "")
    }
}
