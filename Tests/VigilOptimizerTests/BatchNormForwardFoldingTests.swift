import Foundation
import VigilExecutor
import VigilIR
import VigilONNX
import VigilOptimizer
import VigilTestSupport
import XCTest

/// `fold-batchnorm-forward` on the `bn_then_conv` fixture: BatchNorms before an unpadded Conv, a
/// grouped unpadded Conv, a Gemm and a MatMul fold away; the one before the padded Conv stays (unless
/// its shift is zero); a BatchNorm whose output is read elsewhere stays. Outputs are compared with
/// onnxruntime's recorded ones (or, for edited variants without a recording, with the unoptimized model).
final class BatchNormForwardFoldingTests: XCTestCase {
    struct Fixture {
        var model: Model
        var feeds: [String: Tensor]
        var reference: [String: Tensor]
        var tolerance: FixtureManifest.Tolerance
    }

    /// The fixture (one input, one output) with its onnxruntime input and output; the test-data
    /// files carry the value names.
    func fixture() throws -> Fixture {
        let entry = try XCTUnwrap(try FixtureManifest.load().models.first { $0.name == "bn_then_conv" && $0.has_reference })
        let (inputName, input) = try ONNXReader.readTensor(at: entry.testDataSet.appendingPathComponent("input_0.pb").path)
        let (outputName, output) = try ONNXReader.readTensor(at: entry.testDataSet.appendingPathComponent("output_0.pb").path)
        let model = try ONNXReader.readModel(at: entry.url.path)
        XCTAssertEqual(model.graph.runtimeInputs.map(\.name), [inputName])
        XCTAssertEqual(model.graph.outputs.map(\.name), [outputName])
        return Fixture(model: model, feeds: [inputName: input], reference: [outputName: output], tolerance: entry.tolerance)
    }

    func optimize(_ model: Model, passes: [any OptimizationPass]) throws -> (Model, PassStats) {
        var optimized = model
        let steps = try PassManager(passes: passes, context: .executor, check: OptimizerParityTests.verify).run(on: &optimized)
        let stats = summarize(steps).first { $0.pass == "fold-batchnorm-forward" }?.stats ?? PassStats()
        return (optimized, stats)
    }

    func run(_ model: Model, _ feeds: [String: Tensor]) throws -> [String: Tensor] {
        try InferenceSession(model: model, options: .init(threads: 1)).run(feeds)
    }

    func assertMatches(_ outputs: [String: Tensor], _ expected: [String: Tensor], _ fixture: Fixture, _ label: String,
                       file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertEqual(Set(outputs.keys), Set(expected.keys), label, file: file, line: line)
        for (name, value) in expected {
            assertClose(try XCTUnwrap(outputs[name], file: file, line: line), value, atol: fixture.tolerance.atol,
                        rtol: fixture.tolerance.rtol, "\(label) \(name)", file: file, line: line)
        }
    }

    /// The BatchNorm feeding `consumer`, if one still does.
    func batchNorm(feeding consumer: String, in model: Model) -> Node? {
        guard let node = model.graph.nodes.first(where: { $0.name == consumer }) else { return nil }
        return model.graph.nodes.first { $0.opType == "BatchNormalization" && $0.outputs.first == node.inputs.first }
    }

    func testFoldsLegalBatchNormsAndMatchesOnnxruntime() throws {
        let fixture = try fixture()
        XCTAssertEqual(fixture.tolerance.atol, 1e-5)
        XCTAssertEqual(fixture.tolerance.rtol, 1e-4)
        XCTAssertEqual(fixture.model.graph.opHistogram["BatchNormalization"], 5)
        let (model, stats) = try optimize(fixture.model, passes: [InitializersNotInputs(), BatchNormIntoFollowingFolding()])
        XCTAssertEqual(stats.nodesFused, 4)
        let histogram = model.graph.opHistogram
        XCTAssertEqual(histogram["BatchNormalization"], 1, "\(histogram)")
        XCTAssertNotNil(batchNorm(feeding: "conv2_padded", in: model), "the BatchNorm before the padded Conv must stay")
        XCTAssertEqual(histogram["MatMul"], nil, "\(histogram)")
        XCTAssertEqual(histogram["Gemm"], 2, "\(histogram)")
        XCTAssertEqual(histogram["Conv"], 3, "\(histogram)")
        try assertMatches(try run(model, fixture.feeds), fixture.reference, fixture, "fold-batchnorm-forward vs onnxruntime")
    }

    func testDefaultPipelineFoldsForwardAndMatchesOnnxruntime() throws {
        let fixture = try fixture()
        let (model, stats) = try optimize(fixture.model, passes: try OptimizerPipeline.passes(OptimizerPipeline.defaultPasses))
        XCTAssertEqual(stats.nodesFused, 4)
        XCTAssertEqual(model.graph.opHistogram["BatchNormalization"], 1, "\(model.graph.opHistogram)")
        // fuse-activations then absorbs the three Relus into the Convs and the Gemm they follow.
        XCTAssertEqual(model.graph.nodeCount, fixture.model.graph.nodeCount - 4 - 3)
        try assertMatches(try run(model, fixture.feeds), fixture.reference, fixture, "pipeline vs onnxruntime")
        // The BatchNorm parameters and the replaced weights are gone, not just unread.
        XCTAssertFalse(model.graph.initializerNames.contains { $0.hasPrefix("bn0_") || $0 == "conv0_W" || $0 == "head_W" },
                       "\(model.graph.initializerNames)")
    }

    func testBatchNormReadElsewhereIsNotFolded() throws {
        let fixture = try fixture()
        var model = fixture.model
        // bn0's output is also a graph output; bn1's output is also read by another node.
        let z0 = try XCTUnwrap(batchNorm(feeding: "conv0", in: model)?.outputs.first)
        let z1 = try XCTUnwrap(batchNorm(feeding: "conv1_grouped", in: model)?.outputs.first)
        model.graph.outputs.append(ValueInfo(name: z0, type: .tensor(.float32, Shape([.symbolic("N"), .fixed(4), .fixed(8), .fixed(8)]))))
        try model.graph.addNode(Node(name: "extra_reader", opType: "Relu", inputs: [z1], outputs: ["z1_relu"]))
        model.graph.outputs.append(ValueInfo(name: "z1_relu", type: .tensor(.float32, Shape([.symbolic("N"), .fixed(8), .fixed(6), .fixed(6)]))))
        let (optimized, stats) = try optimize(model, passes: [InitializersNotInputs(), BatchNormIntoFollowingFolding()])
        XCTAssertEqual(stats.nodesFused, 2)
        XCTAssertEqual(optimized.graph.opHistogram["BatchNormalization"], 3, "\(optimized.graph.opHistogram)")
        XCTAssertNotNil(batchNorm(feeding: "conv0", in: optimized))
        XCTAssertNotNil(batchNorm(feeding: "conv1_grouped", in: optimized))
        XCTAssertNotNil(batchNorm(feeding: "conv2_padded", in: optimized))
        let before = try run(model, fixture.feeds)
        let after = try run(optimized, fixture.feeds)
        try assertMatches(after, before, fixture, "read-elsewhere variant vs unoptimized")
        try assertMatches(after.filter { fixture.reference[$0.key] != nil }, fixture.reference, fixture, "read-elsewhere variant vs onnxruntime")
    }

    func testPaddedConvAbsorbsBatchNormWithoutShift() throws {
        let fixture = try fixture()
        var model = fixture.model
        // With mean 0 and bias 0 the shift t is exactly zero, so the padding sees the same zeros.
        let bn = try XCTUnwrap(batchNorm(feeding: "conv2_padded", in: model))
        for name in [bn.inputs[2], bn.inputs[3]] {
            let count = try XCTUnwrap(model.graph.initializer(name)).elementCount
            model.graph.setInitializer(name, try Tensor(float32: [Float](repeating: 0, count: count), shape: [count]))
        }
        let (optimized, stats) = try optimize(model, passes: [InitializersNotInputs(), BatchNormIntoFollowingFolding()])
        XCTAssertEqual(stats.nodesFused, 5)
        XCTAssertNil(optimized.graph.opHistogram["BatchNormalization"])
        try assertMatches(try run(optimized, fixture.feeds), try run(model, fixture.feeds), fixture, "zero-shift variant vs unoptimized")
    }

    func testTrainingModeBatchNormIsNotFolded() throws {
        var model = try fixture().model
        let id = try XCTUnwrap(model.graph.nodeIDs.first { model.graph[$0].name == "bn0" })
        var bn = model.graph[id]
        bn.setAttribute("training_mode", .int(1))
        try model.graph.replaceNode(id, with: bn)
        var optimized = model
        _ = try BatchNormIntoFollowingFolding().run(on: &optimized)
        XCTAssertNotNil(batchNorm(feeding: "conv0", in: optimized))
        XCTAssertNil(batchNorm(feeding: "conv1_grouped", in: optimized), "the inference BatchNorms still fold")
    }
}
