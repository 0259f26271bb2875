import Foundation
import VigilExecutor
import VigilIR
import VigilONNX
import VigilOps
import VigilOptimizer
import VigilTestSupport
import XCTest

/// `fuse-qdq` on the QDQ fixture: every Conv and Gemm becomes an integer op reading the quantized
/// tensors (the Relu, the LeakyRelu and the requantization absorbed; the Gemm's α folded into its
/// weight scale), the outputs still match onnxruntime's, and the fused ops are written back as the
/// standard QDQ pattern, which runs and matches too; `fold-constants` leaves the int8 weights alone.
final class QDQFusionTests: XCTestCase {
    func fixture() throws -> OptimizerParityTests.Case {
        try XCTUnwrap(try OptimizerParityTests.cases().first { $0.name == "qdq_patterns" })
    }

    func run(_ model: Model, _ feeds: [String: Tensor]) throws -> [String: Tensor] {
        try InferenceSession(model: model, options: .init(threads: 2)).run(feeds)
    }

    func testConvolutionsAndGemmBecomeIntegerOps() throws {
        let item = try fixture()
        var model = item.model
        try PassManager(passes: try OptimizerPipeline.passes(OptimizerPipeline.defaultPasses), context: .executor, check: OptimizerParityTests.verify)
            .run(on: &model)
        let histogram = model.graph.opHistogram
        XCTAssertEqual(histogram["QConv"], 2, "\(histogram)")
        XCTAssertEqual(histogram["QMatMul"], 1, "\(histogram)")
        for op in ["Conv", "Gemm", "Relu", "LeakyRelu"] { XCTAssertNil(histogram[op], "\(op): \(histogram)") }
        let convs = model.graph.nodes.filter { $0.opType == "QConv" }
        XCTAssertEqual(convs.map { $0.attribute("activation") }, [.string(Array("Relu".utf8)), .string(Array("LeakyRelu".utf8))])
        XCTAssertEqual(model.graph.initializer(convs[0].inputs[3])?.dtype, .int8, "the fused op reads the int8 weights")
        XCTAssertEqual(model.graph.initializer(convs[0].inputs[8])?.dtype, .int32, "and the int32 bias")
        try OptimizerParityTests.assertMatchesReference(try run(model, item.feeds), item, "fused")

        var lowered = model
        XCTAssertEqual(try ExportTransforms.lowerFusedOps(&lowered), 3)
        XCTAssertFalse(lowered.graph.nodes.contains { $0.domain == FusedOps.domain })
        XCTAssertNil(lowered.opsetVersion(for: FusedOps.domain))
        try OptimizerParityTests.verify(lowered)
        XCTAssertEqual(Set(lowered.graph.opHistogram.keys), ["QuantizeLinear", "DequantizeLinear", "Conv", "Relu", "LeakyRelu", "GlobalAveragePool",
                                                             "Flatten", "Transpose", "MatMul", "Add"])
        try OptimizerParityTests.assertMatchesReference(try run(lowered, item.feeds), item, "lowered")
    }

    /// Constant folding keeps DequantizeLinear of constant weights (it would store them as float32).
    func testFoldingKeepsQuantizedWeights() throws {
        var model = try fixture().model
        try PassManager(passes: [ConstantFolding(), DeadCodeElimination()], context: .executor).run(on: &model)
        XCTAssertEqual(model.graph.opHistogram["DequantizeLinear"], 8)
        XCTAssertFalse(model.graph.initializers.contains { $0.tensor.dtype == .float32 && $0.tensor.elementCount > 100 })
    }
}
