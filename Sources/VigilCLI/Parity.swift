import ArgumentParser
import Foundation
import VigilExecutor
import VigilIR
import VigilParity

extension Vigil {
    /// `vigil parity`: compare a model's outputs (and optionally every intermediate) with reference outputs.
    struct Parity: ParsableCommand, ExampleProviding {
        static let configuration = CommandConfiguration(
            abstract: "Compare a model's outputs with reference outputs (onnxruntime, Keras); exit 1 on mismatch.",
            discussion: """
                The reference is an ONNX test-data folder (input_N.pb / output_N.pb, or test_data_set_* \
                folders of them) or an .npz keyed by output name (inputs from --input, or from arrays \
                named like the model's inputs). An element fails when |a-b| > atol + rtol*|b|. --junit writes \
                a report in every case: a model that cannot be loaded or run is a failing test case. --html needs \
                --layerwise.
                """)

        static let examples = [
            Example(what: "Compare with an ONNX test-data folder", command: "vigil parity model.onnx --reference test_data_set_0"),
            Example(what: "Compare with onnxruntime outputs saved as .npz, for CI", command:
                        "vigil parity model.onnx --reference ort_outputs.npz --input x.npy --junit parity.xml"),
            Example(what: "Find the first diverging node and draw the graph coloured by error", command:
                        "vigil parity model.onnx --reference ort_outputs.npz --input x.npy --layerwise ort_intermediates.npz --html parity.html"),
        ]

        @OptionGroup var modelOptions: ModelOptions

        var model: String { modelOptions.model }

        @Option(help: "A test-data folder or an .npz of reference outputs.")
        var reference: String

        @OptionGroup var inputs: InputOptions

        @Option(help: "Absolute tolerance.")
        var atol: Double = 1e-5

        @Option(help: "Relative tolerance.")
        var rtol: Double = 1e-4

        @Option(help: "Also write a JUnit XML report to this file (always, even when the model cannot be loaded).")
        var junit: String?

        @Option(help: "An .npz of reference intermediates (keyed by value name): name the first node that diverges.")
        var layerwise: String?

        @Option(help: "With --layerwise, write a self-contained HTML page drawing the graph, each node coloured by its error.")
        var html: String?

        @OptionGroup var execution: ExecutionOptions

        @OptionGroup var output: OutputOptions

        func validate() throws {
            guard atol >= 0, rtol >= 0 else { throw ValidationError("--atol and --rtol must be 0 or more") }
            if html != nil && layerwise == nil { throw ValidationError("--html needs --layerwise (the intermediates colour the graph)") }
        }

        func run() throws {
            try CommandFiles.checkOutputs([junit, html], inputs: [model, modelOptions.config, reference, layerwise] + inputs.files)
            do {
                try compare()
            } catch let exit as ExitCode {
                throw exit
            } catch {
                let failure = CommandFailure(error)
                if let junit { try ParityReport.writeFailureJUnit(model: model, message: failure.description, to: junit) }
                throw failure
            }
        }

        private func compare() throws {
            let loaded = try modelOptions.load()
            let cases = try ReferenceCases.load(reference, model: loaded.model, extraFeeds: try inputs.feeds(for: loaded.model))
            // Layer-wise comparison needs every intermediate of the graph as given.
            let session = try execution.session(for: loaded.model, file: model, optimize: layerwise == nil)
            var report = ParityReport(model: model, reference: reference, atol: atol, rtol: rtol)
            let progress = Progress("comparing \(model)", total: cases.count, unit: "cases")
            defer { progress.finish() }
            for item in cases {
                defer { progress.advance() }
                let outputs: [String: Tensor]
                do { outputs = try session.run(item.feeds) } catch { throw CommandFailure("\(model): \(error)") }
                for (name, expected) in item.expected {
                    guard let actual = outputs[name] else {
                        throw CommandFailure("\(item.label): reference '\(name)' is not an output of the model (outputs: \(session.outputNames.joined(separator: ", ")))")
                    }
                    report.outputs.append(.init(case: item.label, name: name, shape: expected.shape,
                                                comparison: ParityComparison.compare(actual, expected, atol: atol, rtol: rtol)))
                }
            }
            if let layerwise {
                report.layers = try compareLayers(loaded.model, session: session, feeds: cases[0].feeds, file: layerwise)
            }
            progress.finish()
            if let junit { try report.writeJUnit(to: junit) }
            if let html { try GraphPage.write(model: loaded.model, file: model, parity: report, to: html) }
            if output.json {
                try JSONOutput.print(report.json)
            } else {
                print(report.text)
            }
            if !report.passed { throw ExitCode(Vigil.Exit.failure) }
        }

        /// Compares every intermediate the reference holds, in execution order.
        private func compareLayers(_ model: Model, session: InferenceSession, feeds: [String: Tensor], file: String) throws -> [ParityReport.Layer] {
            let references = Dictionary(try TensorFiles.read(file).compactMap { item in item.name.map { ($0, item.tensor) } }, uniquingKeysWith: { a, _ in a })
            let values: [String: Tensor]
            do { values = try session.runCapturingIntermediates(feeds) } catch { throw CommandFailure("\(model): \(error)") }
            var graph = model.graph
            try? graph.sortTopologically()
            var layers: [ParityReport.Layer] = []
            for (index, node) in graph.nodes.enumerated() {
                for output in node.outputs where !output.isEmpty {
                    guard let expected = references[output], let actual = values[output] else { continue }
                    layers.append(.init(index: index, node: node.name, opType: node.opType, value: output,
                                        comparison: ParityComparison.compare(actual, expected, atol: atol, rtol: rtol)))
                }
            }
            if layers.isEmpty {
                throw CommandFailure("\(file): none of its arrays is named like a value of the model")
            }
            return layers
        }
    }
}

/// One run to compare: its feeds and expected outputs.
struct ReferenceCase {
    var label: String
    var feeds: [String: Tensor]
    var expected: [(String, Tensor)]
}

enum ReferenceCases {
    /// The names in a folder, sorted; an unreadable folder is a one-line failure naming it.
    static func listing(_ folder: String) throws -> [String] {
        do {
            return try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
        } catch {
            var isDirectory: ObjCBool = false
            let exists = FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory)
            let cause = !exists ? "no such file or folder" : isDirectory.boolValue ? "the folder cannot be listed (permission denied)" : "not a folder"
            throw CommandFailure("\(folder): \(cause)")
        }
    }

    /// Reads a test-data folder (or a folder of them) or an .npz of outputs.
    static func load(_ reference: String, model: Model, extraFeeds: [String: Tensor]) throws -> [ReferenceCase] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: reference, isDirectory: &isDirectory) else {
            throw CommandFailure("\(reference): no such file or folder")
        }
        let inputNames = model.graph.runtimeInputs.map(\.name)
        let outputNames = model.graph.outputs.map(\.name)
        if !isDirectory.boolValue {
            var feeds: [String: Tensor] = [:]
            var expected: [(String, Tensor)] = []
            for (name, tensor) in try TensorFiles.read(reference) {
                guard let name else { throw CommandFailure("\(reference): a reference must be an .npz keyed by output name or a test-data folder") }
                if outputNames.contains(name) { expected.append((name, tensor)) } else if inputNames.contains(name) { feeds[name] = tensor }
            }
            guard !expected.isEmpty else {
                throw CommandFailure("\(reference): no array is named like an output of the model (outputs: \(outputNames.joined(separator: ", ")))")
            }
            feeds.merge(extraFeeds) { _, new in new }
            return [ReferenceCase(label: reference, feeds: feeds, expected: expected)]
        }
        let entries = try listing(reference)
        let sets = entries.filter { $0.hasPrefix("test_data_set_") }
        let folders = sets.isEmpty ? [reference] : sets.map { reference + "/" + $0 }
        return try folders.map { folder in
            func numbered(_ prefix: String) throws -> [String] {
                try listing(folder)
                    .filter { $0.hasPrefix(prefix) && $0.hasSuffix(".pb") }
                    .sorted { Int($0.dropFirst(prefix.count).dropLast(3)) ?? 0 < Int($1.dropFirst(prefix.count).dropLast(3)) ?? 0 }
                    .map { folder + "/" + $0 }
            }
            var feeds: [String: Tensor] = [:]
            for (index, file) in try numbered("input_").enumerated() {
                guard let (name, tensor) = try TensorFiles.read(file).first else { continue }
                let key = name.flatMap { inputNames.contains($0) ? $0 : nil } ?? (index < inputNames.count ? inputNames[index] : nil)
                guard let key else { throw CommandFailure("\(file): the model has no input for it") }
                feeds[key] = tensor
            }
            feeds.merge(extraFeeds) { _, new in new }
            var expected: [(String, Tensor)] = []
            for (index, file) in try numbered("output_").enumerated() {
                guard let (name, tensor) = try TensorFiles.read(file).first else { continue }
                let key = name.flatMap { outputNames.contains($0) ? $0 : nil } ?? (index < outputNames.count ? outputNames[index] : nil)
                guard let key else { throw CommandFailure("\(file): the model has no output for it") }
                expected.append((key, tensor))
            }
            guard !expected.isEmpty else { throw CommandFailure("\(folder): no output_N.pb reference files") }
            return ReferenceCase(label: folder, feeds: feeds, expected: expected)
        }
    }
}
