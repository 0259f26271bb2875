import Foundation
import VigilDetector
import VigilIR
import VigilONNX
import XCTest

/// Each bad input is a clear, typed error.
final class ErrorTests: XCTestCase {
    func testDataAndLabelsOfDifferentLengths() throws {
        let train = try DetectorFixtures.embeddings("train_embedding.npy")
        let labels = try DetectorFixtures.labels("train")
        XCTAssertThrowsError(try Detector.fit(embeddings: train, labels: Array(labels.dropLast()))) { error in
            XCTAssertEqual(error as? DetectorError, .lengthMismatch(images: 1500, labels: 1499))
        }
    }

    func testClassWithNoSamples() throws {
        let train = try DetectorFixtures.embeddings("train_embedding.npy")
        // Relabel class 2 as 5: classes 2, 3 (kept), 4 … — class 2 is now empty.
        let labels = try DetectorFixtures.labels("train").map { $0 == 2 ? 5 : $0 }
        XCTAssertThrowsError(try Detector.fit(embeddings: train, labels: labels)) { error in
            XCTAssertEqual(error as? DetectorError, .emptyClass(label: 2))
        }
        XCTAssertThrowsError(try Detector.fit(embeddings: train, labels: labels.map { $0 == 0 ? -1 : $0 })) { error in
            guard case DetectorError.negativeLabel = error else { return XCTFail("\(error)") }
        }
    }

    func testWrongImageShape() throws {
        let model = try ONNXReader.readModel(at: DetectorFixtures.path("embedding.onnx"))
        let embedder = try Embedder(model: model, threads: 1)
        let wrong = try Tensor(.uint8, shape: [2, 32, 32], scalars: [UInt8](repeating: 0, count: 2 * 32 * 32))
        XCTAssertThrowsError(try embedder.embed(wrong)) { error in
            XCTAssertEqual(error as? DetectorError, .imageShape(expected: [28, 28, 1], actual: [32, 32]))
        }
        let ints = try Tensor(int64: [Int64](repeating: 0, count: 28 * 28), shape: [1, 28, 28])
        XCTAssertThrowsError(try embedder.embed(ints)) { error in
            XCTAssertEqual(error as? DetectorError, .unsupportedImageType(.int64))
        }
    }

    /// A NaN pixel propagates through the real network to a NaN embedding, which is reported by sample.
    func testNaNEmbeddings() throws {
        let model = try ONNXReader.readModel(at: DetectorFixtures.path("embedding.onnx"))
        let embedder = try Embedder(model: model, batchSize: 2, threads: 1)
        var pixels = [Float](repeating: 0.5, count: 3 * 28 * 28)
        pixels[2 * 28 * 28 + 100] = .nan
        let images = try Tensor(float32: pixels, shape: [3, 28, 28])
        XCTAssertThrowsError(try embedder.embed(images)) { error in
            XCTAssertEqual(error as? DetectorError, .nonFiniteEmbedding(sample: 2))
        }
        var values = try DetectorFixtures.embeddings("train_embedding.npy").values
        values[37 * 10 + 3] = .nan
        let bad = try Embeddings(values: values, count: 1500, dimension: 10)
        XCTAssertThrowsError(try Detector.fit(embeddings: bad, labels: DetectorFixtures.labels("train"))) { error in
            XCTAssertEqual(error as? DetectorError, .nonFiniteEmbedding(sample: 37))
        }
        let detector = try DetectorFixtures.fittedOnReference()
        XCTAssertThrowsError(try detector.scores(.meanDistance, bad)) { error in
            XCTAssertEqual(error as? DetectorError, .nonFiniteEmbedding(sample: 37))
        }
    }

    func testDetectorForAnotherModel() throws {
        var detector = try DetectorFixtures.fittedOnReference()
        let embeddingHash = try SHA256.hex(fileAt: DetectorFixtures.path("embedding.onnx"))
        let classifierHash = try SHA256.hex(fileAt: DetectorFixtures.path("classifier.onnx"))
        detector.model = ModelBinding(sha256: embeddingHash, inputName: "input", outputName: "embedding", preprocessing: .init())
        XCTAssertNoThrow(try detector.verifyModel(sha256: embeddingHash))
        XCTAssertThrowsError(try detector.verifyModel(sha256: classifierHash)) { error in
            XCTAssertEqual(error as? DetectorError, .modelMismatch(expected: embeddingHash, actual: classifierHash))
        }
        XCTAssertNoThrow(try detector.verifyModel(sha256: classifierHash, allowMismatch: true))
    }

    func testUnknownOutputName() throws {
        let model = try ONNXReader.readModel(at: DetectorFixtures.path("embedding.onnx"))
        XCTAssertThrowsError(try Embedder(model: model, output: "features")) { error in
            guard case DetectorError.modelInterface = error else { return XCTFail("\(error)") }
        }
    }
}
