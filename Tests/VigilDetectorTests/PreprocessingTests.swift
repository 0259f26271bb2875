import Foundation
import VigilDetector
import VigilExecutor
import VigilIR
import VigilNumpy
import VigilONNX
import VigilTestSupport
import XCTest

/// Preprocessing is explicit: float32 data goes to the network unchanged, uint8 by a stated rule
/// (default · 1/255) that is recorded in the detector file, printed by `fit`, and built into the
/// exported model, which takes what `detect score` takes.
final class PreprocessingTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws { directory = try Repository.temporaryDirectory() }
    override func tearDownWithError() throws { if let directory { try? FileManager.default.removeItem(at: directory) } }

    private func temp(_ name: String) -> String { directory.appendingPathComponent(name).path }
    private func fixture(_ name: String) -> String { DetectorFixtures.path(name) }

    private func vigil(_ arguments: [String]) throws -> VigilRun {
        guard FileManager.default.isExecutableFile(atPath: Repository.vigilBinary.path) else { throw XCTSkip("the vigil binary is not built") }
        return try runVigil(arguments)
    }

    /// `image.astype(float32) / 255` as numpy computes it (one correctly rounded division), as [N, 28, 28, 1].
    private func floatImages(_ set: String) throws -> String {
        let images = try DetectorFixtures.tensor("\(set)_images.npy")
        let path = temp("\(set)_float.npy")
        try NPY.write(Tensor(float32: images.scalars(as: UInt8.self).map { Float($0) / 255 }, shape: images.shape + [1]), to: path)
        return path
    }

    /// Acceptance: a float32 data set in [0, 1], fitted and scored with default flags, gives exactly the
    /// class-mean distances of the network's own outputs on that data (no factor applied) — and numpy's
    /// distances on onnxruntime's outputs within the executor-vs-onnxruntime tolerance.
    func testFloatDataInZeroOneGivesTheNetworksOwnClassMeanDistances() throws {
        let train = try floatImages("train"), val = try floatImages("val"), test = try floatImages("test")
        let detector = temp("float.h5"), scores = temp("scores.npy")
        let fit = try vigil(["detect", "fit", fixture("embedding.onnx"), "--data", train, "--labels", fixture("train_labels.npy"),
                             "--val", val, "-o", detector])
        XCTAssertEqual(fit.status, 0, fit.stderr)
        XCTAssertTrue(fit.stdout.contains("preprocessing: uint8 x · 1/255, float32 x unchanged (the training images are float32)"), fit.stdout)
        let score = try vigil(["detect", "score", detector, fixture("embedding.onnx"), "--data", test, "-o", scores])
        XCTAssertEqual(score.status, 0, score.stderr)
        let got = try NPY.read(at: scores).scalars(as: Double.self)

        // The network's own outputs: `vigil run` on the same files, in the embedder's batches of 256.
        func embeddings(_ file: String, count: Int) throws -> Embeddings {
            let all = try NPY.read(at: file)
            var values: [Float] = []
            for start in stride(from: 0, to: count, by: 256) {
                let n = min(256, count - start)
                let slice = temp("slice.npy"), out = temp("slice.npz")
                let pixels = Array(all.scalars(as: Float.self)[(start * 784)..<((start + n) * 784)])
                try NPY.write(Tensor(float32: pixels, shape: [n, 28, 28, 1]), to: slice)
                let run = try vigil(["run", fixture("embedding.onnx"), "--input", slice, "-o", out])
                XCTAssertEqual(run.status, 0, run.stderr)
                values += try XCTUnwrap(try NPZ.read(at: out).first { $0.name == "embedding" }).tensor.scalars(as: Float.self)
            }
            return try Embeddings(values: values, count: count, dimension: 10)
        }
        let own = try Detector.fit(embeddings: embeddings(train, count: 1500), labels: DetectorFixtures.labels("train"))
        XCTAssertEqual(got, try own.scores(.meanDistance, embeddings(test, count: 500)), "exactly the network's own class-mean distances")
        assertClose(got, DetectorFixtures.scores("mean_distance", "test"), atol: 1e-4, rtol: 1e-5, "numpy on onnxruntime's embeddings")
        XCTAssertGreaterThan(got.reduce(0, +) / 500, 1, "not the near-zero scores of a hidden 1/255")
    }

    /// The uint8 rule is stated and recorded: the file says 1/255 for uint8, 1 for float32, and what the
    /// training images were; uint8 and float32 data then give the same embeddings up to the 1/255 rounding.
    func testUInt8RuleIsRecordedAndApplied() throws {
        let detector = temp("uint8.h5")
        let fit = try vigil(["detect", "fit", fixture("embedding.onnx"), "--data", fixture("val_images.npy"), "--labels", fixture("val_labels.npy"),
                             "-o", detector])
        XCTAssertEqual(fit.status, 0, fit.stderr)
        XCTAssertTrue(fit.stdout.contains("preprocessing: uint8 x · 1/255, float32 x unchanged (the training images are uint8)"), fit.stdout)
        let rule = try XCTUnwrap(try DetectorFile.read(at: detector).model?.preprocessing)
        XCTAssertEqual(rule.uint8Scale, 1.0 / 255.0)
        XCTAssertEqual(rule.float32Scale, 1)
        XCTAssertEqual(rule.imageType, .uint8)
        XCTAssertEqual(rule.imageShape, [28, 28])
        XCTAssertEqual(rule.mean, [])
        XCTAssertEqual(rule.std, [])
        let a = temp("a.npy"), b = temp("b.npy")
        XCTAssertEqual(try vigil(["detect", "score", detector, fixture("embedding.onnx"), "--data", fixture("test_images.npy"), "-o", a]).status, 0)
        XCTAssertEqual(try vigil(["detect", "score", detector, fixture("embedding.onnx"), "--data", try floatImages("test"), "-o", b]).status, 0)
        assertClose(try NPY.read(at: a).scalars(as: Double.self), try NPY.read(at: b).scalars(as: Double.self), atol: 1e-3, rtol: 1e-5,
                    "uint8 · 1/255 against float32 / 255")
    }

    /// `(x · scale − mean) / std` along the channel axis: axis 1 when it has that many entries, else the last.
    func testScaleMeanAndStdPerChannel() throws {
        let images = try Tensor(.uint8, shape: [2, 3, 2], scalars: (0..<12).map { UInt8($0 * 20) })
        let nchw = try Preprocessing(scale: 0.5, mean: [1, 2, 3], std: [2, 4, 8]).resolved(sampleShape: [3, 2])
        XCTAssertEqual(nchw.channelAxis, 1)
        let expectedNCHW: [Float] = (0..<12).map { i in (Float(i * 20) * 0.5 - [1, 2, 3][(i / 2) % 3]) / [2, 4, 8][(i / 2) % 3] }
        XCTAssertEqual(try nchw.apply(images, sampleShape: [3, 2]), expectedNCHW)
        let nhwc = try Preprocessing(mean: [10, 20], std: [5]).resolved(sampleShape: [3, 2])
        XCTAssertEqual(nhwc.channelAxis, 2)
        let expectedNHWC: [Float] = (0..<12).map { i in (Float(i * 20) * (1.0 / 255.0) - [10, 20][i % 2]) / 5 }
        XCTAssertEqual(try nhwc.apply(images, sampleShape: [3, 2]), expectedNHWC)
        let float = try Tensor(float32: [0.25, 0.5], shape: [1, 2])
        XCTAssertEqual(try Preprocessing().apply(float, sampleShape: [2]), [0.25, 0.5], "float32 unchanged by default")
        XCTAssertThrowsError(try Preprocessing(mean: [1, 2, 3, 4]).resolved(sampleShape: [3, 2])) { error in
            XCTAssertTrue("\(error)".contains("no axis of 4 channels"), "\(error)")
        }
    }

    /// The exported detector takes the uint8 image file as stored ([N, 28, 28]) and computes numpy's
    /// scores; with a mean and std, its Sub/Div nodes compute what the embedder computes.
    func testExportedDetectorTakesWhatScoreTakes() throws {
        let path = fixture("embedding.onnx")
        let model = try ONNXReader.readModel(at: path)
        var detector = try DetectorFixtures.fittedOnReference()
        var rule = Preprocessing()
        rule.imageType = .uint8
        rule.imageShape = [28, 28]
        detector.model = ModelBinding(sha256: try SHA256.hex(fileAt: path), inputName: "input", outputName: "embedding", preprocessing: rule)
        let exported = try detector.appendingMeanDistanceScore(to: model)
        XCTAssertEqual(exported.graph.runtimeInputs.map(\.name), ["images"])
        XCTAssertEqual(exported.graph.runtimeInputs[0].type?.description, "uint8[N, 28, 28]")
        XCTAssertEqual(Array(exported.graph.nodes.prefix(3).map(\.opType)), ["Cast", "Mul", "Reshape"])
        let images = try DetectorFixtures.tensor("novelty_images.npy")
        let score = try InferenceSession(model: exported, options: .init(threads: 1)).run(["images": images])["ood_score"]!
        assertClose(score.scalars(as: Float.self).map(Double.init), DetectorFixtures.scores("mean_distance", "novelty"),
                    atol: 1e-4, rtol: 1e-5, "exported, fed uint8 images, vs numpy")

        var normalized = try Preprocessing(mean: [0.1], std: [0.3]).resolved(sampleShape: [28, 28, 1])
        normalized.imageType = .uint8
        normalized.imageShape = [28, 28]
        detector.model?.preprocessing = normalized
        let withStats = try detector.appendingMeanDistanceScore(to: model)
        XCTAssertEqual(withStats.graph.nodes.prefix(5).map(\.opType), ["Cast", "Mul", "Reshape", "Sub", "Div"])
        let embedded = try Embedder(model: model, output: "embedding", preprocessing: normalized, threads: 1).embed(images)
        let exportedEmbedding = try InferenceSession(model: withStats, options: .init(threads: 1)).run(["images": images])["embedding"]!
        assertClose(exportedEmbedding.scalars(as: Float.self).map(Double.init), embedded.values.map(Double.init), atol: 1e-5, rtol: 1e-5,
                    "Sub/Div in the graph vs the embedder")
    }
}
