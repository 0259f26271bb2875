import ArgumentParser
import Foundation
import VigilIR
import VigilONNX

extension Vigil {
    /// `vigil convert`: re-serialize a model as ONNX.
    struct Convert: ParsableCommand, ExampleProviding {
        static let configuration = CommandConfiguration(
            abstract: "Write a model as standard ONNX, optionally with large tensors in an external data file.",
            discussion: """
                --passes, --print-after and --stop-after need --optimize; --input needs --optimize or --weights fp16 \
                (the written model's outputs are then compared with the original's on those inputs).
                """)

        static let examples = [
            Example(what: "Import a Keras model as ONNX", command: "vigil convert model.h5 -o model.onnx"),
            Example(what: "Optimize and store weights of 1 MiB or more in model.onnx.data",
                    command: "vigil convert model.onnx --optimize --external-data-threshold 1048576 -o slim.onnx"),
            Example(what: "fp16 weights, checked on a real input", command: "vigil convert model.onnx --weights fp16 --input x.npy -o half.onnx"),
        ]

        @OptionGroup var modelOptions: ModelOptions

        var model: String { modelOptions.model }

        @Flag(help: "Optimize the model first (the same pipeline as `vigil optimize`).")
        var optimize = false

        @OptionGroup var optimization: OptimizationOptions

        @OptionGroup var export: ExportOptions

        @OptionGroup var output: OutputOptions

        func validate() throws {
            if !optimize {
                for (flag, given) in [("--passes", optimization.passes != nil), ("--print-after", !optimization.printAfter.isEmpty),
                                      ("--stop-after", optimization.stopAfter != nil)] where given {
                    throw ValidationError("\(flag) needs --optimize")
                }
            }
            if !export.inputs.input.isEmpty && !optimize && export.weights != .fp16 {
                throw ValidationError("--input needs --optimize or --weights fp16 (it gives the inputs the written model is checked on)")
            }
        }

        func run() throws {
            try export.checkOutputs(inputs: [model, modelOptions.config])
            var loaded = try modelOptions.load()
            let original = loaded.model
            let feeds = try export.inputs.feeds(for: original)
            let nodesBefore = loaded.model.graph.nodeCount
            if optimize { _ = try optimization.optimize(&loaded.model, file: model, printing: !output.json) }
            try export.apply(to: &loaded.model, file: model)
            let measurement = export.measuresDeviation
                ? export.deviations(original: original, final: loaded.model, feeds: feeds, file: model) : ExportOptions.Measurement()
            let report = try export.write(loaded.model)
            if output.json {
                var object: [String: Any] = [
                    "model": model, "output": export.output, "bytes": report.modelBytes, "nodes_before": nodesBefore,
                    "nodes_after": loaded.model.graph.nodeCount, "optimized": optimize, "weights": export.weights.rawValue,
                ]
                export.deviationJSON(measurement, into: &object)
                if let location = report.externalDataLocation {
                    object["external_data"] = ["file": location, "bytes": report.externalDataBytes, "tensors": report.externalTensorCount]
                }
                try output.printJSON(object)
                return
            }
            export.deviationText(measurement).forEach { print($0) }
            var line = "wrote \(export.output) (\(byteString(report.modelBytes)))"
            if optimize { line += ", \(nodesBefore) → \(loaded.model.graph.nodeCount) nodes" }
            if let location = report.externalDataLocation {
                line += " and \(location) (\(byteString(report.externalDataBytes)), \(report.externalTensorCount) tensors)"
            }
            print(line)
        }
    }
}
