import Foundation
import VigilExecutor
import VigilIR
import VigilKeras
import VigilNumpy
import VigilOptimizer
import VigilTestSupport
import XCTest

/// Keras imports wrap every convolution in NHWC↔NCHW transposes; optimizing must cancel the ones
/// around activations and keep Keras's outputs.
final class KerasLayoutTests: XCTestCase {
    func testOptimizedKerasModelsKeepKerasOutputsWithFewerTransposes() throws {
        let folder = Repository.fixtures.appendingPathComponent("keras")
        let manifest = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("manifest.json"))) as? [String: Any])
        var removedTransposes = 0
        for (name, value) in manifest.sorted(by: { $0.key < $1.key }) where !name.hasPrefix("_") {
            let facts = try XCTUnwrap(value as? [String: Any])
            let inputs = try XCTUnwrap(facts["inputs"] as? [String])
            let outputCount = try XCTUnwrap(facts["outputs"] as? Int)
            let original = try KerasImporter.importModel(at: folder.appendingPathComponent("\(name)/model.h5").path)
            var model = original
            try PassManager(passes: try OptimizerPipeline.passes(OptimizerPipeline.defaultPasses), context: .executor, check: OptimizerParityTests.verify).run(on: &model)
            var feeds: [String: Tensor] = [:]
            for (index, input) in inputs.enumerated() {
                feeds[input] = try NPY.read(at: folder.appendingPathComponent("\(name)/input_\(index).npy").path)
            }
            let outputs = try InferenceSession(model: model, options: .init(threads: 1)).run(feeds)
            for index in 0..<outputCount {
                let expected = try NPY.read(at: folder.appendingPathComponent("\(name)/output_\(index).npy").path)
                assertClose(try XCTUnwrap(outputs[model.graph.outputs[index].name]), expected, atol: 1e-5, rtol: 1e-4, "\(name) output \(index)")
            }
            removedTransposes += (original.graph.opHistogram["Transpose"] ?? 0) - (model.graph.opHistogram["Transpose"] ?? 0)
        }
        XCTAssertGreaterThan(removedTransposes, 10)
    }
}
