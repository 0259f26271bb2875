import Foundation
import VigilDetector
import VigilIR
import VigilONNX
import VigilTestSupport
import XCTest

final class DetectorFileTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws { directory = try Repository.temporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    /// Fit through the executor with calibration, write, read back: statistics survive (arrays as
    /// float32), scalars exactly, and the reloaded detector still scores like numpy.
    func testRoundTripAndScoresAfterReload() throws {
        let model = try ONNXReader.readModel(at: DetectorFixtures.path("embedding.onnx"))
        let embedder = try Embedder(model: model, threads: 1)
        let hash = try SHA256.hex(fileAt: DetectorFixtures.path("embedding.onnx"))
        let fitted = try Detector.fit(
            embedder: embedder, modelSHA256: hash, images: DetectorFixtures.tensor("train_images.npy"),
            labels: DetectorFixtures.labels("train"), validation: DetectorFixtures.tensor("val_images.npy"),
            settings: DetectorFixtures.settings())
        let thresholds = DetectorFixtures.section("thresholds")
        for name in ["mean_distance", "mahalanobis", "knn"] {
            assertClose([fitted.thresholds[name]!], [DetectorFixtures.double(thresholds[name]!)], atol: 1e-4, rtol: 1e-5, name)
        }
        let path = directory.appendingPathComponent("detector.h5").path
        try DetectorFile.write(fitted, to: path)
        let loaded = try DetectorFile.read(at: path)
        XCTAssertEqual(loaded.thresholds, fitted.thresholds)
        XCTAssertEqual(loaded.model, fitted.model)
        XCTAssertEqual(loaded.settings, fitted.settings)
        XCTAssertEqual(loaded.counts, [300, 300, 300, 300, 300])
        XCTAssertEqual(loaded.ridge, fitted.ridge)
        XCTAssertEqual(loaded.calibrationTPR, 0.95)
        assertClose(loaded.means.flatMap { $0 }, fitted.means.flatMap { $0 }, atol: 1e-6, rtol: 1e-6, "means")
        assertClose(loaded.precision, fitted.precision, atol: 1e-6, rtol: 1e-6, "precision")
        XCTAssertEqual(loaded.normalizedTraining, fitted.normalizedTraining)
        let novelty = try DetectorFixtures.embeddings("novelty_embedding.npy")
        for scorer in Scorer.embeddingScorers {
            assertClose(try loaded.scores(scorer, novelty), DetectorFixtures.scores(scorer.rawValue, "novelty"),
                        atol: 1e-4, rtol: 1e-5, scorer.rawValue)
        }
        // No temporary files are left next to the output.
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), ["detector.h5"])
    }

    func testErrorsComeBeforeAnyOutput() throws {
        let model = try ONNXReader.readModel(at: DetectorFixtures.path("embedding.onnx"))
        let embedder = try Embedder(model: model, threads: 1)
        let images = try DetectorFixtures.tensor("val_images.npy")
        let labels = try DetectorFixtures.labels("val")
        XCTAssertThrowsError(try Detector.fit(embedder: embedder, modelSHA256: "", images: images, labels: Array(labels.prefix(10)))) {
            XCTAssertEqual($0 as? DetectorError, .lengthMismatch(images: 500, labels: 10))
        }
        XCTAssertThrowsError(try Detector.fit(embedder: embedder, modelSHA256: "", images: images, labels: labels.map { $0 == 3 ? 4 : $0 })) {
            XCTAssertEqual($0 as? DetectorError, .emptyClass(label: 3))
        }
    }

    func testReadingSomethingElseIsAnError() throws {
        XCTAssertThrowsError(try DetectorFile.read(at: DetectorFixtures.path("embedding.h5"))) { error in
            guard case DetectorError.invalidFile(_, let reason) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(reason.contains("not a Vigil detector file"), reason)
        }
        XCTAssertThrowsError(try DetectorFile.read(at: DetectorFixtures.path("embedding.onnx")))
    }

    func testValidationSplitIsPerClassAndDeterministic() throws {
        let labels = try DetectorFixtures.labels("train")
        let split = try ValidationSplit.split(labels: labels, fraction: 0.2)
        XCTAssertEqual(split.validation.count, 300)
        XCTAssertEqual(Set(split.train).union(split.validation), Set(labels.indices))
        XCTAssertTrue(Set(split.train).isDisjoint(with: split.validation))
        for c in 0..<5 { XCTAssertEqual(split.validation.filter { labels[$0] == c }.count, 60) }
        XCTAssertEqual(try ValidationSplit.split(labels: labels, fraction: 0.2).validation, split.validation)
        let images = try DetectorFixtures.tensor("train_images.npy")
        let selected = try ValidationSplit.select(images, [3, 0])
        XCTAssertEqual(selected.shape, [2, 28, 28])
        let all = images.scalars(as: UInt8.self)
        XCTAssertEqual(selected.scalars(as: UInt8.self), Array(all[(3 * 784)..<(4 * 784)] + all[0..<784]))
        XCTAssertThrowsError(try ValidationSplit.split(labels: labels, fraction: 1))
    }
}
