import Foundation
import VigilNumpy
import VigilONNX
import VigilRuntime
import VigilTestSupport
import XCTest

/// `Network` loads ONNX and Keras files, optimizes them in memory and runs them; outputs match the
/// references recorded by onnxruntime and Keras.
final class NetworkTests: XCTestCase {
    /// An ONNX fixture's inputs and onnxruntime outputs (`test_data_set_0`, graph order).
    func onnxReference(_ name: String, folder: URL = Repository.onnxFixtures) throws -> (model: URL, inputs: [String: Tensor], outputs: [(String, Tensor)]) {
        let directory = folder.appendingPathComponent(name)
        let data = directory.appendingPathComponent("test_data_set_0")
        let files = try FileManager.default.contentsOfDirectory(atPath: data.path).sorted()
        var inputs: [String: Tensor] = [:], outputs: [(String, Tensor)] = []
        for file in files.filter({ $0.hasPrefix("input_") }) {
            let (name, tensor) = try ONNXReader.readTensor(at: data.appendingPathComponent(file).path)
            inputs[name] = tensor
        }
        for index in 0..<files.filter({ $0.hasPrefix("output_") }).count {
            outputs.append(try ONNXReader.readTensor(at: data.appendingPathComponent("output_\(index).pb").path))
        }
        return (directory.appendingPathComponent("model.onnx"), inputs, outputs)
    }

    func testONNXFixturesMatchOnnxruntime() throws {
        for name in ["cnn_embedding", "vgg_like", "external_data", "old_ir3_opset7", "constant_if", "dynamic_batch_mlp"] {
            let reference = try onnxReference(name)
            let network = try Network(contentsOf: reference.model, options: .init(threads: 2))
            let results = try network.run(reference.inputs)
            XCTAssertEqual(network.outputs.map(\.name), reference.outputs.map(\.0), name)
            for (output, expected) in reference.outputs {
                assertClose(try XCTUnwrap(results[output], name), expected, atol: 1e-5, rtol: 1e-4, "\(name).\(output)")
            }
        }
    }

    /// The awkward-names fixture: inputs of several types, a scalar, names that are not identifiers.
    func testAwkwardNamesMatchOnnxruntime() throws {
        let reference = try onnxReference("awkward_names", folder: Repository.fixtures.appendingPathComponent("swift"))
        let network = try Network(contentsOf: reference.model)
        XCTAssertEqual(network.inputs.map(\.name), ["input.1", "0", "images:0", "input_1", "class", "n"])
        let ordered = try network.runOrdered(reference.inputs)
        XCTAssertEqual(ordered.map(\.name), reference.outputs.map(\.0))
        for ((name, actual), (_, expected)) in zip(ordered, reference.outputs) {
            assertClose(actual, expected, atol: 1e-5, rtol: 1e-4, name)
        }
    }

    func testKerasFixturesMatchKeras() throws {
        for name in ["dict_io", "conv2d_net", "keras2_legacy"] {
            let folder = Repository.fixtures.appendingPathComponent("keras/\(name)")
            let file = FileManager.default.fileExists(atPath: folder.appendingPathComponent("model.keras").path) ? "model.keras" : "model.h5"
            let network = try Network(contentsOf: folder.appendingPathComponent(file))
            var feeds: [String: Tensor] = [:]
            for (index, input) in network.inputs.enumerated() {
                feeds[input.name] = try NPY.read(at: folder.appendingPathComponent("input_\(index).npy").path)
            }
            let outputs = try network.runOrdered(feeds)
            for (index, output) in outputs.enumerated() {
                let expected = try NPY.read(at: folder.appendingPathComponent("output_\(index).npy").path)
                assertClose(output.tensor, expected, atol: 1e-5, rtol: 1e-4, "\(name).\(output.name)")
            }
        }
    }

    /// The ONNX and Keras forms of the bundled embedding network both give onnxruntime's embeddings,
    /// with the batch run whole and in chunks of 5 samples (5, 5, 5 and 1).
    func testBundledEmbeddingNetworks() throws {
        let folder = Repository.fixtures.appendingPathComponent("detector")
        let images = try NPY.read(at: folder.appendingPathComponent("test_images.npy").path)
        let expected = try NPY.read(at: folder.appendingPathComponent("test_embedding.npy").path).scalars(as: Float.self)
        let batch = 16, pixels = 28 * 28
        let bytes = images.scalars(as: UInt8.self)
        let input = try TypedTensor<Float>(shape: [batch, 28, 28, 1]) { buffer in
            for i in 0..<(batch * pixels) { buffer[i] = Float(bytes[i]) / 255 }
        }
        for file in ["embedding.onnx", "embedding.h5"] {
            for batching in [Network.Batching.whole, .chunks(of: 5)] {
                let network = try Network(contentsOf: folder.appendingPathComponent(file), options: .init(batching: batching))
                XCTAssertEqual(network.inputs.count, 1, file)
                let output = try XCTUnwrap(network.run(input.tensor)[network.outputs[0].name], file)
                let embedding = try output.typed(as: Float.self)
                XCTAssertEqual(embedding.shape, [batch, 10], file)
                assertClose(embedding.scalars.map(Double.init), expected.prefix(batch * 10).map(Double.init), atol: 1e-5, rtol: 1e-4,
                            "\(file) \(batching)")
            }
        }
    }

    func testDescriptionsAndOptions() throws {
        let network = try Network(contentsOf: Repository.onnxFixtures.appendingPathComponent("cnn_embedding/model.onnx"), options: .init(threads: 1, winograd: false))
        XCTAssertEqual(network.inputs.map(\.description), ["X: float32[N, 1, 28, 28]"])
        XCTAssertEqual(network.outputs.map(\.description), ["embedding: float32[N, 10]"])
        XCTAssertEqual(network.inputs[0].symbols, ["N"])
        XCTAssertEqual(network.inputs[0].shape(binding: ["N": 3]), [3, 1, 28, 28])
        XCTAssertNil(network.inputs[0].shape(binding: [:]))
        XCTAssertEqual(network.options, .init(threads: 1, winograd: false, optimize: true))
        XCTAssertLessThan(network.model.graph.nodeCount, 12, "BatchNorm folded and activations fused in memory")
        let unoptimized = try Network(model: try ModelFile.load(Repository.onnxFixtures.appendingPathComponent("cnn_embedding/model.onnx")), options: .init(optimize: false))
        XCTAssertEqual(unoptimized.model.graph.nodeCount, 12)
        XCTAssertThrowsError(try Network(model: unoptimized.model, options: .init(threads: 0)))
        XCTAssertThrowsError(try Network(model: unoptimized.model, options: .init(batching: .chunks(of: 0)))) { error in
            XCTAssertTrue("\(error)".contains("at least 1 sample"), "\(error)")
        }
    }

    /// Runs from several threads at once on one network give the same results as one at a time.
    func testConcurrentRunsAgree() throws {
        let reference = try onnxReference("cnn_embedding")
        let network = try Network(contentsOf: reference.model, options: .init(threads: 1))
        let expected = try network.run(reference.inputs)["embedding"]!
        let results = Results()
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            results.append(Result { () throws(VigilError) -> Tensor in try network.run(reference.inputs)["embedding"]! })
        }
        XCTAssertEqual(results.values.count, 8)
        for result in results.values { XCTAssertEqual(try result.get(), expected) }
    }

    final class Results: @unchecked Sendable {
        private let lock = NSLock()
        private var items: [Result<Tensor, VigilError>] = []
        func append(_ item: Result<Tensor, VigilError>) { lock.withLock { items.append(item) } }
        var values: [Result<Tensor, VigilError>] { lock.withLock { items } }
    }
}
