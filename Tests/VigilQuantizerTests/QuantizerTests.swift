import Foundation
import VigilExecutor
import VigilIR
import VigilONNX
import VigilTestSupport
import VigilVerifier
import XCTest

@testable import VigilQuantizer

/// `Quantizer` on the ONNX fixtures: the QDQ and dynamic forms it writes (valid, standard ops, int8
/// weights per channel, int32 biases), their outputs against onnxruntime's float outputs, exclusions,
/// the budget and auto-exclusion, and the parity metrics.
final class QuantizerTests: XCTestCase {
    /// A fixture model with its onnxruntime input and output.
    static func fixture(_ name: String) throws -> (model: Model, feeds: [String: Tensor], expected: [String: Tensor]) {
        let entry = try XCTUnwrap(try FixtureManifest.load().models.first { $0.name == name })
        let model = try ONNXReader.readModel(at: entry.url.path)
        var feeds: [String: Tensor] = [:], expected: [String: Tensor] = [:]
        for (i, input) in model.graph.runtimeInputs.enumerated() {
            feeds[input.name] = try ONNXReader.readTensor(at: entry.testDataSet.appendingPathComponent("input_\(i).pb").path).tensor
        }
        for (i, output) in model.graph.outputs.enumerated() {
            expected[output.name] = try ONNXReader.readTensor(at: entry.testDataSet.appendingPathComponent("output_\(i).pb").path).tensor
        }
        return (model, feeds, expected)
    }

    func testStaticQuantizationWritesValidQDQWithInt8Weights() throws {
        let (model, feeds, expected) = try Self.fixture("cnn_embedding")
        let samples = try SampleSet(feeds)
        let outcome = try Quantizer().quantize(model, calibration: samples, validation: samples)
        XCTAssertEqual(outcome.quantized.map(\.opType), ["Conv", "Conv", "Gemm", "Gemm"])
        XCTAssertFalse(Verifier.hasErrors(Verifier().verify(outcome.model)), "\(Verifier().verify(outcome.model))")
        let graph = outcome.model.graph
        XCTAssertEqual(Set(graph.opHistogram.keys).subtracting(Set(model.graph.opHistogram.keys)), ["QuantizeLinear", "DequantizeLinear"])
        for t in outcome.quantized {
            let weights = try XCTUnwrap(graph.initializer("\(t.weight)_quantized"), t.name)
            XCTAssertEqual(weights.dtype, .int8)
            XCTAssertEqual(graph.initializer("\(t.weight)_scale")?.shape, [t.channels], "one scale per output channel")
            XCTAssertNil(graph.initializer(t.weight), "the float weights are gone")
            XCTAssertEqual(graph.initializer("\(t.bias!)_quantized")?.dtype, .int32)
        }
        // The quantized model stays close to onnxruntime's float outputs (its error is the quantization's).
        let outputs = try InferenceSession(model: outcome.model, options: .init(threads: 1)).run(feeds)
        for (name, reference) in expected {
            let parity = OutputParity.compare(name, quantized: try XCTUnwrap(outputs[name]), float: reference)
            XCTAssertGreaterThan(parity.minCosine, 0.999, "\(parity)")
        }
        XCTAssertEqual(outcome.parity.count, 1)
        XCTAssertTrue(outcome.withinBudget)
    }

    func testWeightsOnlyWritesTheDynamicForm() throws {
        let (model, feeds, expected) = try Self.fixture("cnn_embedding")
        let outcome = try Quantizer(options: .init(weightsOnly: true)).quantize(model, calibration: nil, validation: try SampleSet(feeds))
        let ops = outcome.model.graph.opHistogram
        XCTAssertEqual(ops["DynamicQuantizeLinear"], 4)
        XCTAssertEqual(ops["ConvInteger"], 2)
        XCTAssertEqual(ops["MatMulInteger"], 2)
        XCTAssertNil(ops["Conv"])
        XCTAssertFalse(Verifier.hasErrors(Verifier().verify(outcome.model)))
        let outputs = try InferenceSession(model: outcome.model, options: .init(threads: 1)).run(feeds)
        for (name, reference) in expected {
            XCTAssertGreaterThan(OutputParity.compare(name, quantized: try XCTUnwrap(outputs[name]), float: reference).minCosine, 0.999)
        }
    }

    /// A Conv reading a Reshape whose target shape is computed from the input's (Shape → Gather →
    /// Concat, as torch exports a channel shuffle) with a symbolic batch: its input's type is unknown
    /// from the declared types alone, and known once the inputs take the calibration data's shapes.
    func testShapesComputedFromTheInputAreKnownFromTheSamples() throws {
        var graph = Graph(name: "shuffle", inputs: [ValueInfo(name: "X", type: .tensor(.float32, Shape([.symbolic("batch"), .fixed(4), .fixed(3), .fixed(3)])))],
                          outputs: [ValueInfo(name: "Y", type: nil)])
        graph.setInitializer("zero", try Tensor(int64: [0], shape: [1]))
        graph.setInitializer("rest", try Tensor(int64: [2, 2, 9], shape: [3]))
        graph.setInitializer("back", try Tensor(int64: [4, 3, 3], shape: [3]))
        graph.setInitializer("W", try Tensor(float32: (0..<32).map { Float($0 % 5) / 5 - 0.4 }, shape: [8, 4, 1, 1]))
        for node in [
            Node(name: "shape", opType: "Shape", inputs: ["X"], outputs: ["s"]),
            Node(name: "batch", opType: "Gather", inputs: ["s", "zero"], outputs: ["n"]),
            Node(name: "split_shape", opType: "Concat", inputs: ["n", "rest"], outputs: ["s1"], attributes: [Attribute(name: "axis", value: .int(0))]),
            Node(name: "merge_shape", opType: "Concat", inputs: ["n", "back"], outputs: ["s2"], attributes: [Attribute(name: "axis", value: .int(0))]),
            Node(name: "split", opType: "Reshape", inputs: ["X", "s1"], outputs: ["r1"]),
            Node(name: "swap", opType: "Transpose", inputs: ["r1"], outputs: ["t"], attributes: [Attribute(name: "perm", value: .ints([0, 2, 1, 3]))]),
            Node(name: "merge", opType: "Reshape", inputs: ["t", "s2"], outputs: ["r2"]),
            Node(name: "conv", opType: "Conv", inputs: ["r2", "W"], outputs: ["Y"]),
        ] { try graph.addNode(node) }
        let model = Model(irVersion: 10, opsetImports: [OpsetImport(domain: "", version: 17)], graph: graph)
        let declared = QuantizationTargets.find(in: model)
        XCTAssertEqual(declared.targets.count, 0)
        XCTAssertEqual(declared.skipped.map(\.reason), ["its input is not a float32 activation"])
        let sampled = QuantizationTargets.find(in: model, sampleShapes: ["X": [5, 4, 3, 3]])
        XCTAssertEqual(sampled.targets.map(\.name), ["conv"])
        XCTAssertEqual(sampled.targets.first?.input, "r2")
        // The quantizer takes the shapes from its calibration data.
        let samples = try SampleSet(["X": try Tensor(float32: (0..<180).map { Float($0 % 11) / 11 - 0.5 }, shape: [5, 4, 3, 3])])
        XCTAssertEqual(try Quantizer().quantize(model, calibration: samples, validation: nil).quantized.map(\.name), ["conv"])
    }

    func testExclusionsByNameAndOpType() throws {
        let (model, feeds, _) = try Self.fixture("cnn_embedding")
        let names = QuantizationTargets.find(in: model).targets.map(\.name)
        let byType = try Quantizer(options: .init(exclude: ["Gemm"])).quantize(model, calibration: try SampleSet(feeds), validation: nil)
        XCTAssertEqual(byType.quantized.map(\.opType), ["Conv", "Conv"])
        XCTAssertEqual(byType.skipped.map(\.reason), ["excluded", "excluded"])
        XCTAssertEqual(byType.model.graph.opHistogram["Gemm"], 2)
        let byName = try Quantizer(options: .init(exclude: [names[0]])).quantize(model, calibration: try SampleSet(feeds), validation: nil)
        XCTAssertEqual(byName.quantized.map(\.name), Array(names.dropFirst()))
    }

    /// Over budget without auto-exclusion: reported, not fitted; with it, layers go back to float one at
    /// a time until the largest output error fits (here, at an impossibly small budget, all of them).
    func testBudgetAndAutoExclusion() throws {
        let (model, feeds, _) = try Self.fixture("cnn_embedding")
        let samples = try SampleSet(feeds)
        let over = try Quantizer().quantize(model, calibration: samples, validation: samples, maxError: 1e-9)
        XCTAssertFalse(over.withinBudget)
        XCTAssertTrue(over.autoExcluded.isEmpty)
        let fitted = try Quantizer().quantize(model, calibration: samples, validation: samples, maxError: 1e-9, autoExclude: true)
        XCTAssertTrue(fitted.withinBudget)
        XCTAssertEqual(fitted.autoExcluded.count, 4)
        XCTAssertEqual(Set(fitted.autoExcluded.map(\.name)), Set(QuantizationTargets.find(in: model).targets.map(\.name)))
        XCTAssertEqual(fitted.parity.first?.maxAbsoluteError, 0)
        let some = try Quantizer().quantize(model, calibration: samples, validation: samples,
                                            maxError: over.parity[0].maxAbsoluteError * 0.999, autoExclude: true)
        XCTAssertTrue(some.withinBudget)
        XCTAssertGreaterThanOrEqual(some.autoExcluded.count, 1)
        XCTAssertLessThanOrEqual(some.parity[0].maxAbsoluteError, over.parity[0].maxAbsoluteError * 0.999)
    }

    /// Below opset 13 weights are quantized per tensor (DequantizeLinear has no axis there); below
    /// opset 10 there is no QuantizeLinear at all.
    func testOpsetLimits() throws {
        let (mlp, feeds, _) = try Self.fixture("gemm_mlp")
        let outcome = try Quantizer().quantize(mlp, calibration: try SampleSet(feeds), validation: nil)
        for node in outcome.model.graph.nodes where node.opType == "DequantizeLinear" {
            XCTAssertNil(node.attribute("axis"), node.name)
            XCTAssertEqual(outcome.model.graph.initializer(node.inputs[1])?.elementCount, 1, node.name)
        }
        let (old, oldFeeds, _) = try Self.fixture("old_ir3_opset7")
        XCTAssertThrowsError(try Quantizer().quantize(old, calibration: try SampleSet(oldFeeds), validation: nil)) { error in
            XCTAssertTrue("\(error)".contains("opset 10"), "\(error)")
        }
    }

    /// The metrics on tensors whose values are known: equal, scaled, negated, and top-1 on class scores.
    func testOutputParityMetrics() throws {
        let f = try Tensor(float32: [1, 2, 3, 4, -1, 0, 5, 2], shape: [2, 4])
        let same = OutputParity.compare("y", quantized: f, float: f)
        XCTAssertEqual([same.maxAbsoluteError, same.meanAbsoluteError, same.meanCosine, same.minCosine, same.top1Agreement], [0, 0, 1, 1, 1])
        let q = try Tensor(float32: [2, 4, 6, 8, 1, 0, -5, -2], shape: [2, 4])
        let p = OutputParity.compare("y", quantized: q, float: f)
        XCTAssertEqual(p.maxAbsoluteError, 10)
        XCTAssertEqual(p.meanAbsoluteError, (1 + 2 + 3 + 4 + 2 + 0 + 10 + 4) / 8)
        XCTAssertEqual(p.meanCosine, 0, accuracy: 1e-12)
        XCTAssertEqual(p.minCosine, -1, accuracy: 1e-12)
        XCTAssertEqual(p.top1Agreement, 0.5)
        XCTAssertEqual(p.top1Agreeing, 1)
        XCTAssertNil(OutputParity.compare("e", quantized: try Tensor(float32: [1, 2, 3], shape: [3]), float: try Tensor(float32: [1, 2, 3], shape: [3])).top1Agreement)
    }
}
