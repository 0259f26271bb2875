import Foundation
import VigilExecutor
import VigilIR
import VigilONNX
import VigilOptimizer
import VigilTestSupport
import VigilVerifier
import XCTest

/// The torchvision networks committed whole in `Fixtures/zoo/` (`path` set in its manifest: SqueezeNet
/// 1.1, ShuffleNet V2 and the metric-learning head on SqueezeNet's features, each exported by both
/// torch exporters) against the onnxruntime outputs recorded next to them by
/// `Fixtures/zoo/generate_zoo.py`, at batch 1 (`test_data_set_0`) and batch 2 (`test_data_set_1`,
/// the symbolic batch bound per run), at the manifest's tolerance (atol 1e-4, rtol 1e-3 on the logits).
/// The other zoo models are materialised and checked by the interop step (`scripts/zoo-interop.sh`).
final class ZooModelTests: XCTestCase {
    struct Entry: Decodable {
        let name: String
        let path: String?
        let parameter_count: Int
        let initializer_count: Int
        let ir_version: Int64
        let tolerance: FixtureManifest.Tolerance
        let outputs: [FixtureManifest.Value]
    }

    struct Manifest: Decodable { let models: [Entry] }

    static var zoo: URL { Repository.fixtures.appendingPathComponent("zoo") }

    /// The manifest's models that are committed whole.
    static func wholeModels() throws -> [Entry] {
        let data = try Data(contentsOf: zoo.appendingPathComponent("manifest.json"))
        return try JSONDecoder().decode(Manifest.self, from: data).models.filter { $0.path != nil }
    }

    /// A whole model with its recorded (input, output) at batch 1 and 2.
    func load(_ entry: Entry) throws -> (model: Model, data: [(input: Tensor, output: Tensor)]) {
        let url = Self.zoo.appendingPathComponent(entry.path!)
        let model = try ONNXReader.readModel(at: url.path)
        let data = try (0..<2).map { index in
            let folder = url.deletingLastPathComponent().appendingPathComponent("test_data_set_\(index)")
            return (try ONNXReader.readTensor(at: folder.appendingPathComponent("input_0.pb").path).tensor,
                    try ONNXReader.readTensor(at: folder.appendingPathComponent("output_0.pb").path).tensor)
        }
        return (model, data)
    }

    func entry(_ name: String) throws -> Entry {
        try XCTUnwrap(try Self.wholeModels().first { $0.name == name }, "\(name) is not committed whole in Fixtures/zoo")
    }

    /// Reads, verifies (0 errors), counts parameters like onnx, runs at batch 1 and 2 on 1 and 2 threads
    /// without optimization, then through the default optimizer pipeline (verified after every pass)
    /// at batch 2, and reads the optimized model back from its written file.
    func check(_ name: String) throws {
        let entry = try entry(name)
        let (model, data) = try load(entry)
        XCTAssertEqual(model.parameterCount, entry.parameter_count, "\(name): parameters")
        XCTAssertEqual(model.graph.initializerNames.count, entry.initializer_count, "\(name): initializers")
        XCTAssertEqual(model.irVersion, entry.ir_version, "\(name): IR version")
        let errors = Verifier(options: .init(lint: false)).verify(model).filter { $0.severity == .error }
        XCTAssertTrue(errors.isEmpty, "\(name): \(errors)")
        let input = model.graph.runtimeInputs[0].name, output = entry.outputs[0].name
        let (atol, rtol) = (entry.tolerance.atol, entry.tolerance.rtol)
        for threads in [1, 2] {
            let session = try InferenceSession(model: model, options: .init(threads: threads))
            for (batch, item) in data.enumerated() {
                let got = try XCTUnwrap(try session.run([input: item.input])[output], "\(name): no output \(output)")
                assertClose(got, item.output, atol: atol, rtol: rtol, "\(name) batch \(batch + 1) threads \(threads)")
            }
        }
        var optimized = model
        let steps = try PassManager(passes: try OptimizerPipeline.passes(OptimizerPipeline.defaultPasses), context: .executor,
                                    check: OptimizerParityTests.verify).run(on: &optimized)
        XCTAssertFalse(steps.isEmpty, "\(name): the pipeline changes nothing")
        XCTAssertLessThan(optimized.graph.nodeCount, model.graph.nodeCount, "\(name): node count after optimize")
        let got = try InferenceSession(model: optimized, options: .init(threads: 2)).run([input: data[1].input])[output]
        assertClose(try XCTUnwrap(got), data[1].output, atol: atol, rtol: rtol, "\(name) optimized, batch 2")
        let directory = try Repository.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("optimized.onnx").path
        try ONNXWriter.write(optimized, to: path)
        XCTAssertEqual(try ONNXReader.readModel(at: path), optimized, "\(name): optimized model written and read back")
    }

    func testSqueezeNetTorchScript() throws { try check("squeezenet1_1/torchscript") }
    func testSqueezeNetDynamo() throws { try check("squeezenet1_1/dynamo") }
    func testShuffleNetTorchScript() throws { try check("shufflenet_v2_x1_0/torchscript") }
    func testShuffleNetDynamo() throws { try check("shufflenet_v2_x1_0/dynamo") }
    func testEmbeddingHeadTorchScript() throws { try checkEmbedding("squeezenet1_1_embedding/torchscript") }
    func testEmbeddingHeadDynamo() throws { try checkEmbedding("squeezenet1_1_embedding/dynamo") }

    /// The metric-learning head (global pool → 128-d linear → L2 normalisation): parity as above, and
    /// every embedding Vigil computes has unit length (an independent property of the head).
    func checkEmbedding(_ name: String) throws {
        try check(name)
        let entry = try entry(name)
        let (model, data) = try load(entry)
        let session = try InferenceSession(model: model, options: .init(threads: 1))
        let got = try XCTUnwrap(try session.run([model.graph.runtimeInputs[0].name: data[1].input])[entry.outputs[0].name])
        XCTAssertEqual(got.shape, [2, 128])
        let values = got.scalars(as: Float.self)
        for row in 0..<2 {
            let norm = values[(row * 128)..<((row + 1) * 128)].reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
            XCTAssertEqual(norm, 1, accuracy: 1e-5, "\(name): embedding \(row) has norm \(norm)")
        }
    }

    /// Every model committed whole is checked above, so a new one cannot be silently skipped.
    func testEveryWholeModelIsCovered() throws {
        let checked: Set<String> = [
            "squeezenet1_1/torchscript", "squeezenet1_1/dynamo", "shufflenet_v2_x1_0/torchscript", "shufflenet_v2_x1_0/dynamo",
            "squeezenet1_1_embedding/torchscript", "squeezenet1_1_embedding/dynamo",
        ]
        XCTAssertEqual(Set(try Self.wholeModels().map(\.name)), checked)
    }
}
