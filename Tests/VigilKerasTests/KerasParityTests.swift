import Foundation
import VigilExecutor
import VigilIR
import VigilKeras
import VigilNumpy
import VigilTestSupport
import XCTest

/// Imports every fixture in every layout it was saved in, runs it on the executor, and compares with
/// the outputs Keras computed (atol 1e-5 + rtol 1e-4).
final class KerasParityTests: XCTestCase {
    func check(_ name: String) throws {
        let entry = try XCTUnwrap(try KerasFixtures.all().first { $0.name == name }, "no fixture \(name)")
        let inputs = try entry.inputs.indices.map { try NPY.read(at: entry.folder.appendingPathComponent("input_\($0).npy").path) }
        let expected = try (0..<entry.outputCount).map { try NPY.read(at: entry.folder.appendingPathComponent("output_\($0).npy").path) }
        for (file, config) in KerasFixtures.variants(entry) {
            let label = "\(name)/\(URL(fileURLWithPath: file).lastPathComponent)"
            let model: Model
            do {
                model = try KerasImporter.importModel(at: file, config: config)
            } catch {
                XCTFail("\(label): \(error)")
                continue
            }
            XCTAssertEqual(model.graph.inputs.map(\.name), entry.inputs, label)
            XCTAssertEqual(model.graph.outputs.count, entry.outputCount, label)
            XCTAssertTrue(model.graph.nodes.allSatisfy { $0.domain.isEmpty }, "\(label): only default-domain ONNX ops")
            let session = try InferenceSession(model: model, options: .init(threads: 1))
            var feeds: [String: Tensor] = [:]
            for (info, tensor) in zip(model.graph.inputs, inputs) { feeds[info.name] = tensor }
            let outputs = try session.run(feeds)
            for (index, info) in model.graph.outputs.enumerated() {
                let actual = try XCTUnwrap(outputs[info.name], "\(label): no output \(info.name)")
                assertClose(actual, expected[index], atol: 1e-5, rtol: 1e-4, "\(label) output \(index) (\(info.name))")
            }
        }
    }

    func testDenseMLP() throws { try check("dense_mlp") }
    func testConv2DNet() throws { try check("conv2d_net") }
    func testConv1DNet() throws { try check("conv1d_net") }
    func testActivations() throws { try check("activations") }
    func testMergeFunctional() throws { try check("merge_functional") }
    func testNormShape() throws { try check("norm_shape") }
    func testPadResize() throws { try check("pad_resize") }
    func testKeras2Legacy() throws { try check("keras2_legacy") }
    func testVolumetric() throws { try check("volumetric") }
    func testChannelsFirst() throws { try check("channels_first") }
    func testNestedFunctional() throws { try check("nested_functional") }
    func testDynamicSpatial() throws { try check("dynamic_spatial") }
    func testDictInputsAndOutputs() throws { try check("dict_io") }
    func testKeras3Operations() throws { try check("operations") }
    func testMultiHeadAttention() throws { try check("attention") }

    /// Every fixture in the manifest has a parity test above.
    func testEveryFixtureIsCovered() throws {
        let covered: Set<String> = ["dense_mlp", "conv2d_net", "conv1d_net", "activations", "merge_functional",
                                    "norm_shape", "pad_resize", "keras2_legacy", "volumetric", "channels_first",
                                    "nested_functional", "dynamic_spatial", "dict_io", "operations", "attention"]
        XCTAssertEqual(Set(try KerasFixtures.all().map(\.name)), covered)
    }
}
