import ArgumentParser
import Foundation
import VigilIR
import VigilONNX

extension Vigil {
    /// `vigil convert`: re-serialize a model as ONNX.
    struct Convert: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a model as standard ONNX, optionally with large tensors in an external data file.")

        @OptionGroup var modelOptions: ModelOptions

        var model: String { modelOptions.model }

        @Flag(help: "Optimize the model first (the same pipeline as `vigil optimize`).")
        var optimize = false

        @OptionGroup var optimization: OptimizationOptions

        @OptionGroup var export: ExportOptions

        func run() throws {
            try export.checkOutputs(inputs: [model, modelOptions.config])
            var loaded = try modelOptions.load()
            let nodesBefore = loaded.model.graph.nodeCount
            if optimize { _ = try optimization.optimize(&loaded.model, file: model) }
            try export.apply(to: &loaded.model, file: model)
            let report = try export.write(loaded.model)
            var line = "wrote \(export.output) (\(byteString(report.modelBytes)))"
            if optimize { line += ", \(nodesBefore) → \(loaded.model.graph.nodeCount) nodes" }
            if let location = report.externalDataLocation {
                line += " and \(location) (\(byteString(report.externalDataBytes)), \(report.externalTensorCount) tensors)"
            }
            print(line)
        }
    }
}
