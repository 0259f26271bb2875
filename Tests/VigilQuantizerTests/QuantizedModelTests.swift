import Foundation
import VigilBLAS
import VigilIR
import VigilONNX
import VigilOptimizer
import VigilTestSupport
import XCTest

@testable import VigilExecutor

/// The quantized fixtures (onnxruntime's QDQ, QOperator and dynamic models, and models `vigil quantize`
/// wrote): Vigil's outputs match onnxruntime's on the same file within one quantization step of each
/// output, as written (DequantizeLinear → float op → QuantizeLinear) and optimized (the fused integer
/// kernels), at 1 and 2 threads and with every int8 kernel variant this CPU runs.
final class QuantizedModelTests: XCTestCase {
    struct Entry: Decodable {
        let name: String
        let ops: [String]
        let steps: [String: Double]
        let bytes: Int
        let float_bytes: Int?
    }

    struct Manifest: Decodable { let models: [Entry] }

    static var folder: URL { Repository.fixtures.appendingPathComponent("quantized") }

    static func manifest() throws -> [Entry] {
        try JSONDecoder().decode(Manifest.self, from: Data(contentsOf: folder.appendingPathComponent("manifest.json"))).models
    }

    /// The model, its feeds and onnxruntime's outputs.
    static func load(_ entry: Entry) throws -> (Model, [String: Tensor], [String: Tensor]) {
        let directory = folder.appendingPathComponent(entry.name)
        let model = try ONNXReader.readModel(at: directory.appendingPathComponent("model.onnx").path)
        let data = directory.appendingPathComponent("test_data_set_0")
        var feeds: [String: Tensor] = [:], expected: [String: Tensor] = [:]
        for (i, input) in model.graph.runtimeInputs.enumerated() {
            feeds[input.name] = try ONNXReader.readTensor(at: data.appendingPathComponent("input_\(i).pb").path).tensor
        }
        for (i, output) in model.graph.outputs.enumerated() {
            expected[output.name] = try ONNXReader.readTensor(at: data.appendingPathComponent("output_\(i).pb").path).tensor
        }
        return (model, feeds, expected)
    }

    static func optimized(_ model: Model) throws -> Model {
        var model = model
        try PassManager(passes: try OptimizerPipeline.passes(OptimizerPipeline.defaultPasses), context: PassContext(evaluator: KernelEvaluator()))
            .run(on: &model)
        return model
    }

    func assertMatches(_ outputs: [String: Tensor], _ expected: [String: Tensor], _ entry: Entry, _ label: String,
                       file: StaticString = #filePath, line: UInt = #line) throws {
        for (name, reference) in expected {
            let step = try XCTUnwrap(entry.steps[name], file: file, line: line)
            assertClose(try XCTUnwrap(outputs[name], file: file, line: line), reference, atol: step, rtol: 0, "\(entry.name) \(label) \(name)",
                        file: file, line: line)
        }
    }

    func testEveryFixtureMatchesOnnxruntimeAsWrittenAndOptimized() throws {
        let entries = try Self.manifest()
        XCTAssertGreaterThanOrEqual(entries.count, 12)
        for entry in entries {
            let (model, feeds, expected) = try Self.load(entry)
            let fused = try Self.optimized(model)
            for threads in [1, 2] {
                try assertMatches(try InferenceSession(model: model, options: .init(threads: threads)).run(feeds), expected, entry, "as written, \(threads) threads")
                try assertMatches(try InferenceSession(model: fused, options: .init(threads: threads)).run(feeds), expected, entry, "optimized, \(threads) threads")
            }
        }
    }

    /// The QDQ fixtures' Conv/Gemm/MatMul all become integer ops that read the int8 weights themselves.
    func testQDQConvolutionsAndMatMulsAreFused() throws {
        for entry in try Self.manifest() where entry.ops.contains("QuantizeLinear") && !entry.ops.contains(where: { $0.hasPrefix("QLinear") })
            && entry.ops.contains(where: { ["Conv", "Gemm", "MatMul"].contains($0) }) {
            let (model, _, _) = try Self.load(entry)
            let fused = try Self.optimized(model)
            let histogram = fused.graph.opHistogram
            let plain = ["Conv", "Gemm", "MatMul"].reduce(0) { $0 + (histogram[$1] ?? 0) }
            XCTAssertEqual(plain, 0, "\(entry.name): \(histogram)")
            XCTAssertGreaterThan((histogram["QConv"] ?? 0) + (histogram["QMatMul"] ?? 0), 0, entry.name)
            for node in fused.graph.nodes where node.opType == "QConv" || node.opType == "QMatMul" {
                XCTAssertTrue([.int8, .uint8].contains(fused.graph.initializer(node.inputs[3])?.dtype), "\(entry.name): \(node.label)")
            }
        }
    }

    /// Activations, MaxPool and Add between QDQ pairs run on the 8-bit values (QActivation, QMaxPool, QAdd).
    func testElementwiseOpsBetweenQDQPairsAreFused() throws {
        let entry = try XCTUnwrap(try Self.manifest().first { $0.name == "qdq_elementwise" })
        let (model, _, _) = try Self.load(entry)
        let histogram = try Self.optimized(model).graph.opHistogram
        XCTAssertEqual(histogram["QActivation"], 2, "\(histogram)")
        XCTAssertEqual(histogram["QMaxPool"], 1, "\(histogram)")
        XCTAssertEqual(histogram["QAdd"], 1, "\(histogram)")
        for op in ["HardSwish", "Sigmoid", "MaxPool", "Add", "LeakyRelu"] { XCTAssertNil(histogram[op], "\(op): \(histogram)") }
    }

    /// Add between QDQ pairs, with and without a Relu, fuses into QAdd, which gives onnxruntime's QLinearAdd
    /// output to the byte on all 65,536 pairs of bytes, for two scale sets where the separate nodes' float
    /// arithmetic rounds some pairs differently (`Fixtures/quantized/generate_qadd_exact.py`).
    func testQAddGivesOnnxruntimesBytes() throws {
        for name in ["plain", "relu"] {
            let directory = Self.folder.appendingPathComponent("qadd_exact/\(name)")
            let model = try ONNXReader.readModel(at: directory.appendingPathComponent("model.onnx").path)
            let data = directory.appendingPathComponent("test_data_set_0")
            let feeds = try Dictionary(uniqueKeysWithValues: ["a", "b"].enumerated().map { i, input in
                (input, try ONNXReader.readTensor(at: data.appendingPathComponent("input_\(i).pb").path).tensor)
            })
            let expected = try ONNXReader.readTensor(at: data.appendingPathComponent("output_0.pb").path).tensor
            let fused = try Self.optimized(model)
            XCTAssertEqual(fused.graph.opHistogram["QAdd"], 1, "\(name): \(fused.graph.opHistogram)")
            for threads in [1, 2] {
                let y = try XCTUnwrap(try InferenceSession(model: fused, options: .init(threads: threads)).run(feeds)["y"])
                let got = y.scalars(as: UInt8.self), want = expected.scalars(as: UInt8.self)
                XCTAssertEqual(zip(got, want).filter { $0 != $1 }.count, 0, "\(name), \(threads) threads: bytes that differ from onnxruntime's")
                XCTAssertEqual(got.count, want.count)
            }
        }
    }

    /// Every int8 kernel variant this CPU runs (AVX-VNNI, AVX2 and portable) gives onnxruntime's outputs.
    func testEveryKernelVariantMatchesOnnxruntime() throws {
        defer { IntegerKernels.forcedVariant = nil }
        for variant in Int8KernelVariant.allCases where variant.isAvailable {
            IntegerKernels.forcedVariant = variant
            for entry in try Self.manifest() {
                let (model, feeds, expected) = try Self.load(entry)
                try assertMatches(try InferenceSession(model: try Self.optimized(model), options: .init(threads: 2)).run(feeds), expected, entry,
                                  "\(variant)")
            }
        }
    }

    /// The quantized detector networks and squeezenet1_1 take at most 30% of their float files.
    func testQuantizedFilesAreAtMostThirtyPercent() throws {
        let sized = try Self.manifest().filter { $0.float_bytes != nil }
        XCTAssertEqual(Set(sized.map(\.name)), ["vigil_detector_embedding", "vigil_detector_classifier", "vigil_squeezenet1_1"])
        for entry in sized {
            let file = Self.folder.appendingPathComponent("\(entry.name)/model.onnx").path
            let bytes = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: file)[.size] as? Int)
            XCTAssertEqual(bytes, entry.bytes)
            XCTAssertLessThanOrEqual(Double(bytes), 0.30 * Double(entry.float_bytes!), entry.name)
        }
    }
}
