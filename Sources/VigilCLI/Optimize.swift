import ArgumentParser
import Foundation
import VigilIR
import VigilONNX
import VigilOptimizer

extension Vigil {
    /// `vigil optimize`: fold, fuse and prune a model, then write standard ONNX.
    struct Optimize: ParsableCommand, ExampleProviding {
        static let configuration = CommandConfiguration(
            abstract: "Optimize a model (constant folding, BatchNorm and affine folding, no-op and dead-code removal, CSE) and write it as ONNX.",
            discussion: """
                With --input, the optimized model's outputs are compared with the original's on those inputs \
                (each must fit a model input: name, element type, rank and fixed sizes).
                """)

        static let examples = [
            Example(what: "Optimize with the standard pipeline and print what each pass did",
                    command: "vigil optimize model.onnx -o model.opt.onnx --stats"),
            Example(what: "Run two passes only, and check the result on an input", command:
                        "vigil optimize model.onnx --passes fold-batchnorm,fuse-activations --input x.npy -o model.opt.onnx"),
            Example(what: "Bisect a bad rewrite: stop after 3 pass applications",
                    command: "vigil optimize model.onnx --stop-after 3 --print-after fold-constants -o step3.onnx"),
        ]

        @OptionGroup var modelOptions: ModelOptions

        var model: String { modelOptions.model }

        @OptionGroup var optimization: OptimizationOptions

        @Flag(help: "Print per-pass statistics.")
        var stats = false

        @OptionGroup var export: ExportOptions

        @OptionGroup var output: OutputOptions

        func run() throws {
            try export.checkOutputs(inputs: [model, modelOptions.config])
            var loaded = try modelOptions.load()
            let original = loaded.model
            let feeds = try export.inputs.feeds(for: original)
            let before = SizeReport(loaded.model)
            let steps = try optimization.optimize(&loaded.model, file: model, printing: !output.json)
            try export.apply(to: &loaded.model, file: model)
            let measurement = export.measuresDeviation
                ? export.deviations(original: original, final: loaded.model, feeds: feeds, file: model) : ExportOptions.Measurement()
            let report = try export.write(loaded.model)
            let after = SizeReport(loaded.model, fileBytes: report.modelBytes + report.externalDataBytes)
            let totals = summarize(steps)
            if output.json {
                var object: [String: Any] = [
                    "model": model, "output": export.output, "before": before.json, "after": after.json,
                    "passes": totals.map { ["pass": $0.pass, "applications": $0.applications, "nodes_removed": $0.stats.nodesRemoved,
                                            "nodes_fused": $0.stats.nodesFused, "bytes_saved": $0.stats.bytesSaved] as [String: Any] },
                ]
                export.deviationJSON(measurement, into: &object)
                try output.printJSON(object)
                return
            }
            if stats {
                print("pass                       runs  removed  fused  bytes saved")
                for total in totals {
                    print(total.pass.padding(27) + String(total.applications).padding(6) + String(total.stats.nodesRemoved).padding(9)
                          + String(total.stats.nodesFused).padding(7) + byteString(total.stats.bytesSaved))
                }
            }
            export.deviationText(measurement).forEach { print($0) }
            print("nodes \(before.nodes) → \(after.nodes), parameters \(byteString(before.parameterBytes)) → \(byteString(after.parameterBytes)); wrote \(export.output) (\(byteString(report.modelBytes + report.externalDataBytes)))")
        }
    }
}

/// Node count and parameter bytes of a model, for before/after reports.
struct SizeReport {
    var nodes: Int
    var initializers: Int
    var parameterBytes: Int
    var fileBytes: Int?

    init(_ model: Model, fileBytes: Int? = nil) {
        nodes = model.graph.nodeCount
        initializers = model.graph.initializers.count
        parameterBytes = model.parameterBytesByDType.values.reduce(0, +)
        self.fileBytes = fileBytes
    }

    var json: [String: Any] {
        var object: [String: Any] = ["nodes": nodes, "initializers": initializers, "parameter_bytes": parameterBytes]
        if let fileBytes { object["file_bytes"] = fileBytes }
        return object
    }
}
