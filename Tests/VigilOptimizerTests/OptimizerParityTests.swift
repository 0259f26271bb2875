import Foundation
import VigilExecutor
import VigilIR
import VigilKeras
import VigilONNX
import VigilOptimizer
import VigilTestSupport
import VigilVerifier
import XCTest

/// Every pass, alone and in the default pipeline, keeps each fixture's outputs: the executor runs the
/// model before and after (max deviation 1e-5 relative to the output's largest magnitude), the
/// optimized model still matches onnxruntime's recorded outputs, and the static verifier finds no
/// error after every single pass application.
final class OptimizerParityTests: XCTestCase {
    /// Verifier errors fail the pass that caused them.
    static let verify: @Sendable (Model) throws -> Void = { model in
        let diagnostics = Verifier(options: .init(lint: false)).verify(model)
        if Verifier.hasErrors(diagnostics) {
            throw OptimizerError(pass: "verifier", message: diagnostics.filter { $0.severity == .error }.map { "\($0)" }.joined(separator: "; "))
        }
    }

    struct Case {
        var name: String
        var model: Model
        var feeds: [String: Tensor]
        var reference: [String: Tensor]
        var tolerance: FixtureManifest.Tolerance
    }

    /// Fixtures the executor runs, with their onnxruntime inputs and outputs.
    static func cases() throws -> [Case] {
        try FixtureManifest.load().models.filter { $0.has_reference }.compactMap { entry in
            let model = try ONNXReader.readModel(at: entry.url.path)
            guard InferenceSession.unsupportedOps(in: model).isEmpty else { return nil }
            var feeds: [String: Tensor] = [:]
            for (index, input) in model.graph.runtimeInputs.enumerated() {
                feeds[input.name] = try ONNXReader.readTensor(at: entry.testDataSet.appendingPathComponent("input_\(index).pb").path).tensor
            }
            var reference: [String: Tensor] = [:]
            for (index, output) in model.graph.outputs.enumerated() {
                reference[output.name] = try ONNXReader.readTensor(at: entry.testDataSet.appendingPathComponent("output_\(index).pb").path).tensor
            }
            return Case(name: entry.name, model: model, feeds: feeds, reference: reference, tolerance: entry.tolerance)
        }
    }

    func run(_ model: Model, _ feeds: [String: Tensor]) throws -> [String: Tensor] {
        try InferenceSession(model: model, options: .init(threads: 1)).run(feeds)
    }

    func assertSameOutputs(_ before: [String: Tensor], _ after: [String: Tensor], _ label: String) {
        XCTAssertEqual(Set(before.keys), Set(after.keys), label)
        for (name, expected) in before {
            guard let actual = after[name] else { continue }
            if expected.dtype == .string { XCTAssertEqual(actual, expected, label); continue }
            let scale = max(expected.doubleValues.map(abs).max() ?? 1, 1e-30)
            assertClose(actual, expected, atol: 1e-5 * scale, rtol: 0, "\(label) output \(name)")
        }
    }

    /// The outputs match onnxruntime's recorded ones within the fixture's tolerance.
    static func assertMatchesReference(_ outputs: [String: Tensor], _ item: Case, _ label: String,
                                       file: StaticString = #filePath, line: UInt = #line) throws {
        for (name, expected) in item.reference {
            if expected.dtype == .string { XCTAssertEqual(outputs[name], expected, label, file: file, line: line); continue }
            assertClose(try XCTUnwrap(outputs[name], label, file: file, line: line), expected, atol: item.tolerance.atol,
                        rtol: item.tolerance.rtol, "\(label) \(name) vs onnxruntime", file: file, line: line)
        }
    }

    func testEachPassAloneKeepsOutputs() throws {
        let cases = try Self.cases()
        XCTAssertGreaterThanOrEqual(cases.count, 10)
        for (name, pass) in OptimizerPipeline.registry.sorted(by: { $0.key < $1.key }) {
            for item in cases {
                var model = item.model
                let manager = PassManager(passes: [InitializersNotInputs(), pass], context: .executor, check: Self.verify)
                try manager.run(on: &model)
                assertSameOutputs(try run(item.model, item.feeds), try run(model, item.feeds), "\(name) on \(item.name)")
            }
        }
    }

    func testDefaultPipelineKeepsOutputsAndMatchesOnnxruntime() throws {
        for item in try Self.cases() {
            var model = item.model
            let steps = try PassManager(passes: try OptimizerPipeline.passes(OptimizerPipeline.defaultPasses), context: .executor, check: Self.verify).run(on: &model)
            XCTAssertFalse(steps.isEmpty)
            let after = try run(model, item.feeds)
            assertSameOutputs(try run(item.model, item.feeds), after, "pipeline on \(item.name)")
            try Self.assertMatchesReference(after, item, item.name)
            // The written model, fused ops included, reads back identically.
            let directory = try Repository.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: directory) }
            let path = directory.appendingPathComponent("m.onnx").path
            try ONNXWriter.write(model, to: path)
            XCTAssertEqual(try ONNXReader.readModel(at: path), model, item.name)
        }
    }

    /// Every registered pass rewrites something in the fixtures (ONNX and Keras): none is dead code.
    /// The optimizer-patterns fixture holds most patterns and is left with none of them.
    func testEveryRegisteredPassFiresOnTheFixtures() throws {
        var fired = Set<String>()
        var models = try FixtureManifest.load().models.filter { $0.has_reference }.map { try ONNXReader.readModel(at: $0.url.path) }
        let keras = Repository.fixtures.appendingPathComponent("keras")
        for name in try FileManager.default.contentsOfDirectory(atPath: keras.path).sorted()
        where FileManager.default.fileExists(atPath: keras.appendingPathComponent("\(name)/model.h5").path) {
            models.append(try KerasImporter.importModel(at: keras.appendingPathComponent("\(name)/model.h5").path))
        }
        for original in models {
            var model = original
            let steps = try PassManager(passes: try OptimizerPipeline.passes(OptimizerPipeline.defaultPasses), context: .executor, check: Self.verify).run(on: &model)
            fired.formUnion(summarize(steps).filter { $0.stats.changed }.map(\.pass))
        }
        for pass in OptimizerPipeline.passes { XCTAssertTrue(fired.contains(pass.name), "\(pass.name) fires on no fixture") }

        let entry = try XCTUnwrap(try FixtureManifest.load().models.first { $0.name == "optimizer_patterns" })
        var model = try ONNXReader.readModel(at: entry.url.path)
        try PassManager(passes: try OptimizerPipeline.passes(OptimizerPipeline.defaultPasses), context: .executor, check: Self.verify).run(on: &model)
        XCTAssertFalse(model.graph.nodes.contains { ["Shape", "Gather", "Transpose", "Dropout", "Identity", "Cast", "BatchNormalization", "MatMul", "Mul"].contains($0.opType) },
                       "\(model.graph.opHistogram)")
    }

    /// An If whose condition folds is replaced by its branch; the executor, which has no If, then
    /// runs the model and matches onnxruntime.
    func testConstantIfIsInlinedAndMatchesOnnxruntime() throws {
        let entry = try XCTUnwrap(try FixtureManifest.load().models.first { $0.name == "constant_if" })
        var model = try ONNXReader.readModel(at: entry.url.path)
        XCTAssertFalse(InferenceSession.unsupportedOps(in: model).isEmpty, "If runs only once inlined")
        try PassManager(passes: try OptimizerPipeline.passes(OptimizerPipeline.defaultPasses), context: .executor, check: Self.verify).run(on: &model)
        XCTAssertNil(model.graph.opHistogram["If"], "\(model.graph.opHistogram)")
        let feeds = ["X": try ONNXReader.readTensor(at: entry.testDataSet.appendingPathComponent("input_0.pb").path).tensor]
        let expected = try ONNXReader.readTensor(at: entry.testDataSet.appendingPathComponent("output_0.pb").path).tensor
        let outputs = try InferenceSession(model: model, options: .init(threads: 1)).run(feeds)
        assertClose(try XCTUnwrap(outputs["Y"]), expected, atol: 1e-5, rtol: 1e-4, "constant_if")
    }

    func testStopAfterBisectsAndFixedPointTerminates() throws {
        let entry = try XCTUnwrap(try FixtureManifest.load().models.first { $0.name == "optimizer_patterns" })
        let original = try ONNXReader.readModel(at: entry.url.path)
        var partial = original
        let steps = try PassManager(passes: try OptimizerPipeline.passes(OptimizerPipeline.defaultPasses), context: .executor, stopAfter: 2).run(on: &partial)
        XCTAssertEqual(steps.map(\.pass), Array(OptimizerPipeline.defaultPasses.prefix(2)))
        var full = original
        let all = try PassManager(passes: try OptimizerPipeline.passes(OptimizerPipeline.defaultPasses), context: .executor, maxRounds: 50).run(on: &full)
        // The last round changed nothing, and a second run changes nothing either.
        XCTAssertFalse(all.suffix(OptimizerPipeline.defaultPasses.count).contains { $0.stats.changed })
        var again = full
        let second = try PassManager(passes: try OptimizerPipeline.passes(OptimizerPipeline.defaultPasses), context: .executor).run(on: &again)
        XCTAssertFalse(second.contains { $0.stats.changed })
        XCTAssertEqual(again, full)
    }
}
