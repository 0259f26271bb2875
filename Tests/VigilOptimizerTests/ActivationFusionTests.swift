import Foundation
import VigilExecutor
import VigilIR
import VigilONNX
import VigilOps
import VigilOptimizer
import VigilTestSupport
import XCTest

/// `fuse-activations` and `ExportTransforms.lowerFusedOps`: the default pipeline fuses every Conv/Gemm
/// + activation (and Conv + residual Add) of the fixtures into `ai.vigil` ops whose outputs still match
/// onnxruntime's recorded ones; lowering writes them back as standard ONNX at the model's opset, which
/// round-trips through the writer and the reader and still matches onnxruntime.
final class ActivationFusionTests: XCTestCase {
    /// FusedConv and FusedGemm nodes the default pipeline leaves in each fixture: every Conv or Gemm
    /// followed by a fusable activation (after BatchNorm and affine folding), per Fixtures/generate_onnx.py.
    static let expectedFusions: [String: (conv: Int, gemm: Int)] = [
        "conv_bn_relu": (1, 0), "cnn_embedding": (2, 1), "residual_block": (2, 0), "gemm_mlp": (0, 1), "pooling": (0, 0),
        "external_data": (1, 0), "old_ir3_opset7": (1, 0), "new_ir10_opset21": (0, 0), "typed_fields_all_dtypes": (0, 0),
        "control_flow_if": (0, 0), "dynamic_batch_mlp": (0, 1), "optimizer_patterns": (1, 1), "vgg_like": (10, 1),
        "bn_then_conv": (2, 1), "fused_activations": (7, 1), "trait_activations": (7, 1), "mobile_patterns": (7, 0),
        "preactivation_bn": (0, 0),
    ]
    /// FusedBatchNormalization nodes the default pipeline leaves (a BatchNorm no Conv absorbs, then an activation).
    static let expectedBatchNormFusions: [String: Int] = ["preactivation_bn": 3]
    /// Quantized fixtures, whose Conv/Gemm fuse-qdq turns into integer ops first (QDQFusionTests).
    static let quantizedFixtures: Set<String> = ["qdq_patterns"]

    func optimize(_ model: Model, passes: [any OptimizationPass]? = nil) throws -> (Model, [PassManager.Step]) {
        var optimized = model
        let steps = try PassManager(passes: try passes ?? OptimizerPipeline.passes(OptimizerPipeline.defaultPasses), context: .executor,
                                    check: OptimizerParityTests.verify).run(on: &optimized)
        return (optimized, steps)
    }

    func run(_ model: Model, _ feeds: [String: Tensor]) throws -> [String: Tensor] {
        try InferenceSession(model: model, options: .init(threads: 1)).run(feeds)
    }

    func fixture(_ name: String) throws -> OptimizerParityTests.Case {
        try XCTUnwrap(try OptimizerParityTests.cases().first { $0.name == name }, name)
    }

    func fusedNodes(_ model: Model) -> [Node] { model.graph.nodes.filter { $0.domain == FusedOps.domain } }

    func activation(_ node: Node) -> String? { node.attributes.first { $0.name == "activation" }?.stringValue }

    /// Lowers, checks that only standard ops remain and that the file round-trips, and returns the model read back.
    func lowerAndRoundTrip(_ model: Model, _ label: String) throws -> Model {
        var lowered = model
        XCTAssertEqual(try ExportTransforms.lowerFusedOps(&lowered), fusedNodes(model).count, label)
        XCTAssertTrue(fusedNodes(lowered).isEmpty, label)
        XCTAssertNil(lowered.opsetVersion(for: FusedOps.domain), label)
        try OptimizerParityTests.verify(lowered)
        let directory = try Repository.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("lowered.onnx").path
        try ONNXWriter.write(lowered, to: path)
        let reread = try ONNXReader.readModel(at: path)
        XCTAssertEqual(reread, lowered, label)
        return reread
    }

    func testDefaultPipelineFusesEveryFixtureAndLowersToStandardONNX() throws {
        let cases = try OptimizerParityTests.cases()
        XCTAssertGreaterThanOrEqual(cases.count, 14)
        for item in cases where !Self.quantizedFixtures.contains(item.name) {
            let expected = try XCTUnwrap(Self.expectedFusions[item.name], "no expectation for \(item.name)")
            let (model, _) = try optimize(item.model)
            let histogram = model.graph.opHistogram
            XCTAssertEqual(histogram["FusedConv"] ?? 0, expected.conv, "\(item.name): \(histogram)")
            XCTAssertEqual(histogram["FusedGemm"] ?? 0, expected.gemm, "\(item.name): \(histogram)")
            let batchNorms = Self.expectedBatchNormFusions[item.name] ?? 0
            XCTAssertEqual(histogram["FusedBatchNormalization"] ?? 0, batchNorms, "\(item.name): \(histogram)")
            XCTAssertEqual(model.opsetVersion(for: FusedOps.domain), expected.conv + expected.gemm + batchNorms == 0 ? nil : Int64(FusedOps.version),
                           item.name)
            // No plain Conv or Gemm is left feeding an activation that only it feeds.
            for node in model.graph.nodes where node.domain.isEmpty && ["Conv", "Gemm"].contains(node.opType) {
                let readers = model.graph.users(of: node.outputs[0])
                XCTAssertFalse(readers.count == 1 && !model.graph.isGraphOutput(node.outputs[0])
                               && FusedActivation.names.contains(model.graph[readers[0].node].opType), "\(item.name): \(node.label)")
            }
            try OptimizerParityTests.assertMatchesReference(try run(model, item.feeds), item, "\(item.name) fused")

            let lowered = try lowerAndRoundTrip(model, item.name)
            // Each fused node comes back as its Conv/Gemm plus an Add for a residual and a node for an activation
            // (two for Swish below opset 24: Sigmoid and Mul).
            let opset = model.opsetVersion(for: "") ?? 0
            let added = fusedNodes(model).map { node in
                let activationNodes = activation(node).map { $0 == "Swish" && opset < 24 ? 2 : 1 } ?? 0
                return activationNodes + (node.opType == "FusedConv" && node.inputs.count > 3 ? 1 : 0)
            }.reduce(0, +)
            XCTAssertEqual(lowered.graph.nodeCount, model.graph.nodeCount + added, item.name)
            try OptimizerParityTests.assertMatchesReference(try run(lowered, item.feeds), item, "\(item.name) lowered")
        }
    }

    /// Activations fuse through their descriptors' traits, Mish and Gelu included, with their
    /// parameters; the fused model and its lowered form match onnxruntime.
    func testTraitActivationsFuseWithTheirParameters() throws {
        let item = try fixture("trait_activations")
        let (model, _) = try optimize(item.model)
        let fused = Dictionary(uniqueKeysWithValues: fusedNodes(model).map { ($0.outputs[0], $0) })
        let expected: [(output: String, activation: String, params: [Float]?)] = [
            ("a0", "Mish", nil), ("a1", "Gelu", [1]), ("a2", "HardSigmoid", [0.3, 0.4]), ("a3", "Elu", [0.7]),
            ("a4", "Selu", [1.67326319217681884765625, 1.05070102214813232421875]), ("a5", "Softplus", nil), ("a6", "Gelu", [0]),
            ("Y", "Celu", [1.3]),
        ]
        XCTAssertEqual(Set(fused.keys), Set(expected.map(\.output)))
        for entry in expected {
            let node = try XCTUnwrap(fused[entry.output], entry.output)
            XCTAssertEqual(activation(node), entry.activation, entry.output)
            XCTAssertEqual(node.attribute("activation_params"), entry.params.map { .floats($0) }, entry.output)
        }
        try OptimizerParityTests.assertMatchesReference(try run(model, item.feeds), item, "trait activations fused")
        let lowered = try lowerAndRoundTrip(model, "trait activations")
        XCTAssertEqual(lowered.graph.opHistogram["Gelu"], 2)
        XCTAssertEqual(lowered.graph.nodes.first { $0.opType == "Gelu" && $0.attributes.isEmpty == false }?.attributes.first?.stringValue, "tanh")
        try OptimizerParityTests.assertMatchesReference(try run(lowered, item.feeds), item, "trait activations lowered")
    }

    /// With a symbolic batch dim: SiLU (Sigmoid and Mul) fuses as Swish, the residual Add and the two-input
    /// Sum fuse by matching shapes symbol for symbol, and the lowered model still matches onnxruntime.
    func testSiLUAndResidualsWithASymbolicBatchFuse() throws {
        let item = try fixture("mobile_patterns")
        let (model, _) = try optimize(item.model)
        let fused = Dictionary(uniqueKeysWithValues: fusedNodes(model).map { ($0.outputs[0], $0) })
        XCTAssertEqual(activation(try XCTUnwrap(fused["a1"])), "Swish")
        XCTAssertEqual(try XCTUnwrap(fused["a1"]).attribute("activation_params"), .floats([1]))
        XCTAssertEqual(try XCTUnwrap(fused["r1"]).inputs.last, "a1")
        XCTAssertNil(activation(try XCTUnwrap(fused["r1"])))
        XCTAssertEqual(try XCTUnwrap(fused["b2"]).inputs.last, "b1")
        XCTAssertEqual(activation(try XCTUnwrap(fused["b2"])), "Relu")
        XCTAssertNil(model.graph.opHistogram["Sigmoid"], "the SE gate's Sigmoid fuses into its Conv")
        XCTAssertNil(model.graph.opHistogram["Add"])
        XCTAssertNil(model.graph.opHistogram["Sum"])
        let lowered = try lowerAndRoundTrip(model, "mobile patterns")
        XCTAssertEqual(lowered.graph.opHistogram["Sigmoid"], 2, "the stem's Swish and the SE gate")
        try OptimizerParityTests.assertMatchesReference(try run(lowered, item.feeds), item, "mobile patterns lowered")
    }

    /// DenseNet's pre-activation BatchNorms (on Concats, after an activation) fuse with the activation after
    /// them into FusedBatchNormalization, not a BatchNorm whose output has two readers; the fused model
    /// (whole and in chunks of one sample, two threads) and its lowered form match onnxruntime.
    func testPreactivationBatchNormsFuseWithTheirActivation() throws {
        let item = try fixture("preactivation_bn")
        let (model, _) = try optimize(item.model)
        let fused = Dictionary(uniqueKeysWithValues: fusedNodes(model).map { ($0.outputs[0], $0) })
        XCTAssertEqual(Set(fused.keys), ["a0", "a1", "a2"])
        XCTAssertEqual(fused.values.map(\.opType), Array(repeating: "FusedBatchNormalization", count: 3))
        XCTAssertEqual(activation(try XCTUnwrap(fused["a0"])), "Relu")
        XCTAssertEqual(activation(try XCTUnwrap(fused["a1"])), "Relu")
        XCTAssertEqual(activation(try XCTUnwrap(fused["a2"])), "Clip")
        XCTAssertEqual(try XCTUnwrap(fused["a2"]).attribute("activation_params"), .floats([0, 6]))
        XCTAssertEqual(try XCTUnwrap(fused["a1"]).inputs, ["k1", "bn1_scale", "bn1_bias", "bn1_mean", "bn1_var"])
        XCTAssertEqual(model.graph.opHistogram["BatchNormalization"], 1, "bn3's output is read twice")
        XCTAssertNil(model.graph.opHistogram["Relu"])
        try OptimizerParityTests.assertMatchesReference(try run(model, item.feeds), item, "pre-activation fused")
        let chunked = try InferenceSession(model: model, options: .init(threads: 2, batching: .chunks(of: 1)))
        XCTAssertEqual(try chunked.batchChunk(for: item.feeds), 1, "FusedBatchNormalization keeps the samples apart")
        try OptimizerParityTests.assertMatchesReference(try chunked.run(item.feeds), item, "pre-activation fused, in chunks")
        let lowered = try lowerAndRoundTrip(model, "pre-activation")
        XCTAssertEqual(lowered.graph.opHistogram["BatchNormalization"], 4)
        XCTAssertEqual(lowered.graph.opHistogram["Relu"], 2)
        try OptimizerParityTests.assertMatchesReference(try run(lowered, item.feeds), item, "pre-activation lowered")
    }

    func testResidualAddAndTheReluAfterItFuseIntoOneConv() throws {
        let (model, _) = try optimize(try fixture("residual_block").model)
        let residual = try XCTUnwrap(fusedNodes(model).first { $0.inputs.count == 4 }, "\(model.graph.nodes)")
        XCTAssertEqual(residual.opType, "FusedConv")
        XCTAssertEqual(residual.inputs[3], "X")
        XCTAssertEqual(activation(residual), "Relu")
        XCTAssertEqual(residual.outputs, ["r2"])
        XCTAssertEqual(residual.name, "r2")
        XCTAssertEqual(model.graph.opHistogram, ["FusedConv": 2, "GlobalAveragePool": 1])
    }

    func testEveryActivationKindFusesAndLowersAtEachOpset() throws {
        let item = try fixture("fused_activations")
        let (model, _) = try optimize(item.model)
        let fused = Dictionary(uniqueKeysWithValues: fusedNodes(model).map { ($0.outputs[0], $0) })
        let expected: [(output: String, op: String, activation: String, params: [Float]?)] = [
            ("a0", "FusedConv", "LeakyRelu", [0.2]), ("a1", "FusedConv", "Clip", [0, 6]), ("a2", "FusedConv", "Sigmoid", nil),
            ("a3", "FusedConv", "Tanh", nil), ("a4", "FusedConv", "HardSwish", nil), ("a5", "FusedConv", "Relu", nil),
            ("a6", "FusedConv", "Clip", [-0.5, .infinity]), ("Y", "FusedGemm", "Tanh", nil),
        ]
        XCTAssertEqual(Set(fused.keys), Set(expected.map(\.output)))
        for entry in expected {
            let node = try XCTUnwrap(fused[entry.output], entry.output)
            XCTAssertEqual(node.opType, entry.op, entry.output)
            XCTAssertEqual(activation(node), entry.activation, entry.output)
            if let params = entry.params {
                XCTAssertEqual(node.attribute("activation_params"), .floats(params), entry.output)
            } else {
                XCTAssertNil(node.attribute("activation_params"), entry.output)
            }
        }
        XCTAssertEqual(fused["a5"]?.inputs.last, "a4", "the residual Add reads the HardSwish block's output")

        // Lowering follows the default-domain opset: Clip bounds as inputs from 11 (the infinite max
        // omitted) and attributes below; HardSwish from 14, HardSigmoid · x below.
        for opset: Int64 in [17, 13, 10] {
            var versioned = model
            versioned.opsetImports = versioned.opsetImports.map { $0.domain.isEmpty ? OpsetImport(domain: "", version: opset) : $0 }
            let lowered = try lowerAndRoundTrip(versioned, "opset \(opset)")
            let histogram = lowered.graph.opHistogram
            XCTAssertEqual(histogram["HardSwish"], opset >= 14 ? 1 : nil, "opset \(opset): \(histogram)")
            XCTAssertEqual(histogram["HardSigmoid"], opset >= 14 ? nil : 1, "opset \(opset): \(histogram)")
            XCTAssertEqual(histogram["Conv"], 7)
            XCTAssertEqual(histogram["Add"], 1)
            let clips = lowered.graph.nodes.filter { $0.opType == "Clip" }
            XCTAssertEqual(clips.map(\.inputs.count), opset >= 11 ? [3, 2] : [1, 1], "opset \(opset)")
            XCTAssertEqual(clips.map { $0.attributes.map(\.name) }, opset >= 11 ? [[], []] : [["min", "max"], ["min", "max"]])
            try OptimizerParityTests.assertMatchesReference(try run(lowered, item.feeds), item, "lowered at opset \(opset)")
            guard opset == 10 else { continue }

            // Below opset 11 Clip fuses from its attributes (a missing max is the largest float).
            var attributes = lowered
            let id = try XCTUnwrap(attributes.graph.nodeIDs.first { attributes.graph[$0].opType == "Clip" && attributes.graph[$0].outputs == ["a6"] })
            var clip = attributes.graph[id]
            clip.attributes.removeAll { $0.name == "max" }
            try attributes.graph.replaceNode(id, with: clip)
            let (refused, _) = try optimize(attributes, passes: [ActivationFusion()])
            let params = fusedNodes(refused).filter { activation($0) == "Clip" }.map { $0.attribute("activation_params") }
            XCTAssertEqual(params, [.floats([0, 6]), .floats([-0.5, .greatestFiniteMagnitude])])
            XCTAssertEqual(fusedNodes(refused).count, 7, "every activation but the lowered HardSwish fuses again")
            try OptimizerParityTests.assertMatchesReference(try run(refused, item.feeds), item, "re-fused at opset 10")
        }
    }

    /// A BatchNorm that becomes foldable only after its Conv/Gemm consumer was fused still folds.
    func testBatchNormFoldsForwardIntoFusedOps() throws {
        let item = try fixture("bn_then_conv")
        let (model, steps) = try optimize(item.model, passes: [InitializersNotInputs(), ActivationFusion(), BatchNormIntoFollowingFolding()])
        XCTAssertEqual(summarize(steps).first { $0.pass == "fold-batchnorm-forward" }?.stats.nodesFused, 4)
        let histogram = model.graph.opHistogram
        XCTAssertEqual(histogram["BatchNormalization"], 1, "\(histogram)")
        XCTAssertEqual(histogram["FusedConv"], 2, "\(histogram)")
        XCTAssertEqual(histogram["FusedGemm"], 1, "\(histogram)")
        try OptimizerParityTests.assertMatchesReference(try run(model, item.feeds), item, "BatchNorm folded into fused ops")
    }

    /// A float32 tensor type of static shape.
    func type(_ sizes: Int...) -> ValueType { .tensor(.float32, Shape(sizes.map { .fixed($0) })) }

    /// A small model: input X [1, 2, 4, 4], 3×3 Convs with 2 output channels and no padding.
    func convModel(_ nodes: [Node], inputs extra: [ValueInfo] = [], outputs: [ValueInfo], weights: [String] = ["W"]) throws -> Model {
        var graph = Graph(name: "fusion", inputs: [ValueInfo(name: "X", type: type(1, 2, 4, 4))] + extra, outputs: outputs)
        let values = (0..<36).map { Float($0 % 7) / 7 - 0.4 }
        for name in weights { graph.setInitializer(name, try Tensor(float32: values, shape: [2, 2, 3, 3])) }
        graph.setInitializer("B", try Tensor(float32: [0.1, -0.2], shape: [2]))
        for node in nodes { try graph.addNode(node) }
        return Model(irVersion: 10, opsetImports: [OpsetImport(domain: "", version: 17)], graph: graph)
    }

    func testNothingFusesWhereTheGraphWouldChange() throws {
        let model = try convModel([
            // A broadcasting (non-constant) Add, a Conv output that is also a graph output, a Clip with a runtime bound.
            Node(name: "conv_a", opType: "Conv", inputs: ["X", "W"], outputs: ["ca"]),
            Node(name: "add", opType: "Add", inputs: ["ca", "bias"], outputs: ["out_a"]),
            Node(name: "conv_b", opType: "Conv", inputs: ["X", "W"], outputs: ["cb"], attributes: [Attribute(name: "strides", value: .ints([2, 2]))]),
            Node(name: "relu", opType: "Relu", inputs: ["cb"], outputs: ["out_b"]),
            Node(name: "conv_c", opType: "Conv", inputs: ["X", "W"], outputs: ["cc"], attributes: [Attribute(name: "dilations", value: .ints([1, 1]))]),
            Node(name: "clip", opType: "Clip", inputs: ["cc", "low"], outputs: ["out_c"]),
            // The control: this one fuses.
            Node(name: "conv_d", opType: "Conv", inputs: ["X", "W", "B"], outputs: ["cd"]),
            Node(name: "tanh", opType: "Tanh", inputs: ["cd"], outputs: ["out_d"]),
        ], inputs: [
            ValueInfo(name: "bias", type: type(1, 2, 1, 1)), ValueInfo(name: "low", type: type()),
        ], outputs: [("out_a", 2), ("cb", 1), ("out_b", 1), ("out_c", 2), ("out_d", 2)].map { ValueInfo(name: $0, type: type(1, 2, $1, $1)) })
        var optimized = model
        XCTAssertEqual(try ActivationFusion().run(on: &optimized), PassStats(nodesFused: 1))
        XCTAssertEqual(Array(optimized.graph.nodes.prefix(6)), Array(model.graph.nodes.prefix(6)))
        XCTAssertEqual(fusedNodes(optimized).map { [$0.name, $0.opType, activation($0)] }, [["out_d", "FusedConv", "Tanh"]])
        XCTAssertEqual(optimized.opsetVersion(for: FusedOps.domain), Int64(FusedOps.version))
    }

    /// A FusedConv with neither activation nor residual (and no bias) takes the Add after it as its
    /// residual, then the activation after that; lowered, it is a Conv without bias, an Add and a Sigmoid.
    func testFusedConvWithoutActivationTakesResidualAndActivation() throws {
        var model = try convModel([
            Node(name: "conv", opType: "FusedConv", domain: FusedOps.domain, inputs: ["X", "W"], outputs: ["c"]),
            Node(name: "add", opType: "Add", inputs: ["R", "c"], outputs: ["s"]),
            Node(name: "sigmoid", opType: "Sigmoid", inputs: ["s"], outputs: ["Y"]),
        ], inputs: [ValueInfo(name: "R", type: type(1, 2, 2, 2))], outputs: [ValueInfo(name: "Y", type: type(1, 2, 2, 2))])
        model.opsetImports.append(OpsetImport(domain: FusedOps.domain, version: Int64(FusedOps.version)))
        let (fused, steps) = try optimize(model, passes: [ActivationFusion()])
        XCTAssertEqual(steps.first?.stats, PassStats(nodesFused: 2))
        let node = try XCTUnwrap(fusedNodes(fused).first)
        XCTAssertEqual(fused.graph.nodeCount, 1)
        XCTAssertEqual(node.inputs, ["X", "W", "", "R"])
        XCTAssertEqual(activation(node), "Sigmoid")
        let lowered = try lowerAndRoundTrip(fused, "lowered")
        XCTAssertEqual(lowered.graph.nodes.map { [$0.opType] + $0.inputs }, [["Conv", "X", "W"], ["Add", "Y_conv", "R"], ["Sigmoid", "Y_sum"]])
        let feeds = ["X": try Tensor(float32: (0..<32).map { Float($0) / 16 - 1 }, shape: [1, 2, 4, 4]),
                     "R": try Tensor(float32: (0..<8).map { Float($0) / 4 - 1 }, shape: [1, 2, 2, 2])]
        let expected = try XCTUnwrap(try run(lowered, feeds)["Y"])
        for variant in [model, fused] { assertClose(try XCTUnwrap(try run(variant, feeds)["Y"]), expected, atol: 1e-6, rtol: 1e-6) }
    }

    /// Convs that `cse` can merge only after `dedupe-initializers` (identical weights under two names)
    /// are not fused first with different activations, which would keep them apart.
    func testTwinConvsAreMergedBeforeFusion() throws {
        let model = try convModel([
            Node(name: "conv_a", opType: "Conv", inputs: ["X", "W"], outputs: ["ca"]),
            Node(name: "relu", opType: "Relu", inputs: ["ca"], outputs: ["ya"]),
            Node(name: "conv_b", opType: "Conv", inputs: ["X", "W_copy"], outputs: ["cb"]),
            Node(name: "sigmoid", opType: "Sigmoid", inputs: ["cb"], outputs: ["yb"]),
        ], outputs: ["ya", "yb"].map { ValueInfo(name: $0, type: type(1, 2, 2, 2)) }, weights: ["W", "W_copy"])
        let (optimized, _) = try optimize(model)
        XCTAssertEqual(optimized.graph.opHistogram, ["Conv": 1, "Relu": 1, "Sigmoid": 1])
        let feeds = ["X": try Tensor(float32: (0..<32).map { Float($0) / 16 - 1 }, shape: [1, 2, 4, 4])]
        let (before, after) = (try run(model, feeds), try run(optimized, feeds))
        for name in ["ya", "yb"] { assertClose(try XCTUnwrap(after[name]), try XCTUnwrap(before[name]), atol: 0, rtol: 0, name) }
    }
}
