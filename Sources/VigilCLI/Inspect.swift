import ArgumentParser
import Foundation
import VigilIR

extension Vigil {
    /// `vigil inspect`: what a model file holds.
    struct Inspect: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a model's producer, versions, opsets, inputs and outputs, ops and parameters.")

        @OptionGroup var modelOptions: ModelOptions

        var model: String { modelOptions.model }

        @OptionGroup var output: OutputOptions

        func run() throws {
            let loaded = try modelOptions.load()
            let summary = ModelSummary(loaded.model)
            if output.json {
                var object = summary.json
                object["file"] = model
                object["format"] = loaded.format
                object["load_seconds"] = loaded.seconds
                try JSONOutput.print(object)
            } else {
                print(summary.text(file: model, format: loaded.format))
            }
        }
    }
}
