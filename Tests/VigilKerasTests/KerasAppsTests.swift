import Foundation
import VigilExecutor
import VigilIR
import VigilKeras
import VigilNumpy
import VigilTestSupport
import XCTest

/// The Keras 3 models committed whole in `Fixtures/keras_apps/` (`committed` in its manifest: a small
/// ViT with `MultiHeadAttention` and operation layers, and a model of operation layers, `keras.ops`
/// calls, preprocessing layers, depthwise/separable convolutions and squeeze-and-excitation), in `.h5`
/// and `.keras`, against the outputs Keras computed (`Fixtures/keras_apps/generate_keras_apps.py`) at the
/// manifest's tolerance, at batch 2 and 1 on 1 and 2 threads. The keras.applications families are
/// committed as skeletons and checked by the interop step (`scripts/keras_apps_interop.py`).
final class KerasAppsTests: XCTestCase {
    static var root: URL { Repository.fixtures.appendingPathComponent("keras_apps") }

    /// The manifest's whole models: name → (atol, rtol).
    static func committed() throws -> [String: (atol: Double, rtol: Double)] {
        let data = try Data(contentsOf: root.appendingPathComponent("manifest.json"))
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        var models: [String: (atol: Double, rtol: Double)] = [:]
        for (name, value) in json where !name.hasPrefix("_") {
            guard let entry = value as? [String: Any], entry["committed"] as? Bool == true,
                  let tolerance = entry["tolerance"] as? [String: Double] else { continue }
            models[name] = (tolerance["atol"]!, tolerance["rtol"]!)
        }
        return models
    }

    /// The first `rows` rows of a float32 tensor.
    func firstRows(_ tensor: Tensor, _ rows: Int) throws -> Tensor {
        let shape = [rows] + tensor.shape.dropFirst()
        return try Tensor(float32: Array(tensor.scalars(as: Float.self).prefix(shape.reduce(1, *))), shape: shape)
    }

    func check(_ name: String) throws {
        let tolerance = try XCTUnwrap(try Self.committed()[name], "\(name) is not committed whole in Fixtures/keras_apps")
        let folder = Self.root.appendingPathComponent(name)
        let input = try NPY.read(at: folder.appendingPathComponent("input_0.npy").path)
        let expected = try NPY.read(at: folder.appendingPathComponent("output_0.npy").path)
        XCTAssertEqual(input.shape.first, 2)
        for format in ["h5", "keras"] {
            let model = try KerasImporter.importModel(at: folder.appendingPathComponent("model.\(format)").path, config: nil)
            XCTAssertTrue(model.graph.nodes.allSatisfy { $0.domain.isEmpty }, "\(name).\(format): only default-domain ONNX ops")
            let inputName = model.graph.inputs[0].name, outputName = model.graph.outputs[0].name
            for threads in [1, 2] {
                let session = try InferenceSession(model: model, options: .init(threads: threads))
                for batch in [2, 1] {
                    let feed = batch == 2 ? input : try firstRows(input, 1)
                    let got = try XCTUnwrap(try session.run([inputName: feed])[outputName], "\(name).\(format): no output")
                    assertClose(got, batch == 2 ? expected : try firstRows(expected, 1), atol: tolerance.atol, rtol: tolerance.rtol,
                                "\(name).\(format) batch \(batch) threads \(threads)")
                }
            }
        }
    }

    func testViTSmall() throws { try check("vit_small") }
    func testOperationLayers() throws { try check("ops_layers") }

    /// Every whole model is checked above, so a new one cannot be silently skipped.
    func testEveryCommittedModelIsCovered() throws {
        XCTAssertEqual(Set(try Self.committed().keys), ["vit_small", "ops_layers"])
    }
}
