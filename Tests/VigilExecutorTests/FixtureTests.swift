import Foundation
import VigilExecutor
import VigilIR
import VigilONNX
import VigilTestSupport
import XCTest

/// Runs the fixture models against the onnxruntime outputs recorded next to them.
final class FixtureTests: XCTestCase {
    struct Reference {
        var model: Model
        var inputs: [String: Tensor]
        var outputs: [(name: String, tensor: Tensor)]
    }

    /// Loads `model.onnx` and `test_data_set_0`; input/output files are matched to graph order.
    static func loadFixture(_ name: String) throws -> Reference {
        let directory = fixtureDirectory(name)
        let model = try ONNXReader.readModel(at: directory.appendingPathComponent("model.onnx").path)
        let data = directory.appendingPathComponent("test_data_set_0")
        let initializers = Set(model.graph.initializerNames)
        let inputNames = model.graph.inputs.map(\.name).filter { !initializers.contains($0) }
        var inputs: [String: Tensor] = [:]
        for (i, graphName) in inputNames.enumerated() {
            let (name, tensor) = try ONNXReader.readTensor(at: data.appendingPathComponent("input_\(i).pb").path)
            inputs[name.isEmpty ? graphName : name] = tensor
        }
        var outputs: [(String, Tensor)] = []
        for (i, info) in model.graph.outputs.enumerated() {
            let (name, tensor) = try ONNXReader.readTensor(at: data.appendingPathComponent("output_\(i).pb").path)
            outputs.append((name.isEmpty ? info.name : name, tensor))
        }
        return Reference(model: model, inputs: inputs, outputs: outputs)
    }

    /// Runs a fixture at 1 and 2 threads; both must match onnxruntime at atol 1e-5, rtol 1e-4.
    func checkFixture(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let reference = try Self.loadFixture(name)
        for threads in [1, 2] {
            let session = try InferenceSession(model: reference.model, options: .init(threads: threads))
            let results = try session.run(reference.inputs)
            for (outputName, expected) in reference.outputs {
                expectClose(results[outputName], expected, atol: 1e-5, rtol: 1e-4, "\(name).\(outputName) threads=\(threads)",
                            file: file, line: line)
            }
        }
    }

    func testConvBnRelu() throws { try checkFixture("conv_bn_relu") }
    func testCnnEmbedding() throws { try checkFixture("cnn_embedding") }
    func testResidualBlock() throws { try checkFixture("residual_block") }
    func testGemmMlp() throws { try checkFixture("gemm_mlp") }
    func testPooling() throws { try checkFixture("pooling") }
    func testExternalData() throws { try checkFixture("external_data") }
    func testOldIR3Opset7() throws { try checkFixture("old_ir3_opset7") }
    func testNewIR10Opset21() throws { try checkFixture("new_ir10_opset21") }
    func testTypedFieldsAllDTypes() throws { try checkFixture("typed_fields_all_dtypes") }
    func testDynamicBatchMlp() throws { try checkFixture("dynamic_batch_mlp") }
    func testOptimizerPatterns() throws { try checkFixture("optimizer_patterns") }
    func testVGGLike() throws { try checkFixture("vgg_like") }
    func testBatchNormThenConv() throws { try checkFixture("bn_then_conv") }
    func testFusedActivations() throws { try checkFixture("fused_activations") }
    func testTraitActivations() throws { try checkFixture("trait_activations") }
    func testMobilePatterns() throws { try checkFixture("mobile_patterns") }
    /// A QDQ model as written (DequantizeLinear → float Conv/Gemm → QuantizeLinear), against onnxruntime's integer kernels.
    func testQDQPatterns() throws { try checkFixture("qdq_patterns") }
    func testPreactivationBN() throws { try checkFixture("preactivation_bn") }

    /// A model saved with the newest onnx release's defaults (IR 14, opset 28) reads and runs.
    func testModelSavedWithNewestONNXDefaults() throws {
        let directory = Repository.fixtures.appendingPathComponent("onnx-node-new/newest_defaults")
        let model = try ONNXReader.readModel(at: directory.appendingPathComponent("model.onnx").path)
        XCTAssertEqual(model.irVersion, 14)
        XCTAssertEqual(model.opsetVersion(for: ""), 28)
        let data = directory.appendingPathComponent("test_data_set_0")
        let input = try ONNXReader.readTensor(at: data.appendingPathComponent("input_0.pb").path)
        let expected = try ONNXReader.readTensor(at: data.appendingPathComponent("output_0.pb").path)
        for threads in [1, 2] {
            let outputs = try InferenceSession(model: model, options: .init(threads: threads)).run([model.graph.inputs[0].name: input.tensor])
            expectClose(outputs[model.graph.outputs[0].name], expected.tensor, atol: 1e-5, rtol: 1e-4, "newest_defaults threads=\(threads)")
        }
    }

    /// Every fixture in the manifest that has reference data is either checked above or expected to
    /// be rejected for an unsupported op, so a new fixture cannot be silently skipped.
    func testManifestIsCovered() throws {
        let manifestURL = Repository.onnxFixtures.appendingPathComponent("manifest.json")
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: manifestURL)) as! [String: Any]
        let models = manifest["models"] as! [[String: Any]]
        let checked: Set<String> = [
            "conv_bn_relu", "cnn_embedding", "residual_block", "gemm_mlp", "pooling", "external_data", "old_ir3_opset7",
            "new_ir10_opset21", "typed_fields_all_dtypes", "dynamic_batch_mlp", "optimizer_patterns", "vgg_like",
            "bn_then_conv", "fused_activations", "trait_activations", "mobile_patterns", "qdq_patterns", "preactivation_bn",
        ]
        // If runs only after the optimizer inlines a constant one (OptimizerParityTests).
        let unsupported: Set<String> = ["control_flow_if", "constant_if"]
        for entry in models where entry["has_reference"] as? Bool == true {
            let name = entry["name"] as! String
            XCTAssertTrue(checked.contains(name) || unsupported.contains(name), "fixture \(name) is not covered by FixtureTests")
        }
    }

    /// `If` is not supported: the session must refuse the model up front, naming the op and node.
    func testControlFlowIsReportedUnsupported() throws {
        let reference = try Self.loadFixture("control_flow_if")
        XCTAssertThrowsError(try InferenceSession(model: reference.model, options: .init(threads: 1))) { error in
            guard case ExecutorError.unsupportedOps(let ops) = error else { return XCTFail("unexpected error \(error)") }
            XCTAssertEqual(ops.map(\.opType), ["If"])
            XCTAssertTrue("\(error)".contains("If"))
        }
    }

    /// The symbolic batch dim N of cnn_embedding binds per run: each image of a batch gives the same
    /// embedding as when run alone.
    func testSymbolicBatchBindsPerRun() throws {
        let reference = try Self.loadFixture("cnn_embedding")
        let session = try InferenceSession(model: reference.model, options: .init(threads: 1))
        let x = reference.inputs["X"]!
        let batched = try session.run(["X": x])["embedding"]!
        let perImage = x.shape.dropFirst().reduce(1, *)
        let values = x.scalars(as: Float.self)
        let all = batched.scalars(as: Float.self)
        for n in 0..<x.shape[0] {
            let one = floatTensor(Array(values[(n * perImage)..<((n + 1) * perImage)]), [1] + Array(x.shape.dropFirst()))
            let out = try session.run(["X": one])["embedding"]!
            expectClose(out, floatTensor(Array(all[(n * 10)..<((n + 1) * 10)]), [1, 10]), atol: 1e-5, rtol: 1e-4, "image \(n)")
        }
    }

    /// Layerwise capture returns every intermediate of conv_bn_relu, and the last equals the output.
    func testIntermediatesAreCaptured() throws {
        let reference = try Self.loadFixture("conv_bn_relu")
        let session = try InferenceSession(model: reference.model, options: .init(threads: 1))
        let values = try session.runCapturingIntermediates(reference.inputs)
        for name in ["conv_out", "bn_out", "relu_out", "Y"] { XCTAssertNotNil(values[name], name) }
        expectClose(values["Y"], reference.outputs[0].tensor, "Y")
        // relu_out is max(bn_out, 0), elementwise.
        let bn = values["bn_out"]!.scalars(as: Float.self)
        expectClose(values["relu_out"], floatTensor(bn.map { max($0, 0) }, values["bn_out"]!.shape), atol: 0, rtol: 0, "relu_out")
    }
}
