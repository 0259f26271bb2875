import Foundation
import VigilDetector
import VigilExecutor
import VigilIR
import VigilONNX
import VigilTestSupport
import XCTest

/// The exported ONNX (network + class-mean distance) computes the library's scores and decisions.
final class ScoreExportTests: XCTestCase {
    func testExportedModelComputesTheScoreInOnePass() throws {
        let path = DetectorFixtures.path("embedding.onnx")
        let model = try ONNXReader.readModel(at: path)
        var detector = try DetectorFixtures.fittedOnReference()
        try detector.calibrate([.meanDistance: DetectorFixtures.embeddings("val_embedding.npy")])
        detector.model = ModelBinding(sha256: try SHA256.hex(fileAt: path), inputName: "input", outputName: "embedding", preprocessing: .init())
        let exported = try detector.appendingMeanDistanceScore(to: model)
        XCTAssertEqual(exported.graph.outputs.map(\.name), ["embedding", "ood_score", "is_ood"])

        // Serialize and read back, as another runtime would.
        let directory = try Repository.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("scored.onnx").path
        _ = try ONNXWriter.write(exported, to: file)
        let session = try InferenceSession(model: ONNXReader.readModel(at: file), options: .init(threads: 1))

        let images = try DetectorFixtures.tensor("novelty_images.npy")
        let pixels = images.scalars(as: UInt8.self).map { Float($0) / 255 }
        let outputs = try session.run(["input": Tensor(float32: pixels, shape: [1000, 28, 28, 1])])
        let embedding = outputs["embedding"]!.scalars(as: Float.self)
        let score = outputs["ood_score"]!.scalars(as: Float.self).map(Double.init)
        let decision = outputs["is_ood"]!.scalars(as: Bool.self)
        XCTAssertEqual(outputs["ood_score"]!.shape, [1000])
        // The score of the exported graph equals the library's score of the same embeddings (float32 graph vs Double).
        let library = try detector.meanDistanceScores(Embeddings(values: embedding, count: 1000, dimension: 10))
        assertClose(score, library, atol: 1e-5, rtol: 1e-5, "exported vs library")
        // … and numpy's on onnxruntime's embeddings, within the executor-vs-onnxruntime tolerance.
        assertClose(score, DetectorFixtures.scores("mean_distance", "novelty"), atol: 1e-4, rtol: 1e-5, "exported vs numpy")
        let threshold = detector.thresholds["mean_distance"]!
        let expected = score.map { Float($0) > Float(threshold) }
        XCTAssertEqual(decision, expected)
        XCTAssertGreaterThan(decision.filter { $0 }.count, 0)
    }

    func testExportNeedsABoundDetector() throws {
        let model = try ONNXReader.readModel(at: DetectorFixtures.path("embedding.onnx"))
        XCTAssertThrowsError(try DetectorFixtures.fittedOnReference().appendingMeanDistanceScore(to: model))
    }
}
