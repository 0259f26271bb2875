import ArgumentParser
import Foundation
import VigilIR

extension Vigil {
    /// `vigil inspect`: what a model file holds.
    struct Inspect: ParsableCommand, ExampleProviding {
        static let configuration = CommandConfiguration(
            abstract: "Show a model's producer, versions, opsets, inputs and outputs, ops and parameters.",
            discussion: """
                --html writes a self-contained page that draws the graph: a layered layout with op types, shapes \
                on the edges, initializer sizes, and the diagnostics of `vigil check` on their nodes.
                """)

        static let examples = [
            Example(what: "What a model holds", command: "vigil inspect model.onnx"),
            Example(what: "The same as JSON", command: "vigil inspect model.h5 --json"),
            Example(what: "Draw the graph with check diagnostics on its nodes", command: "vigil inspect model.onnx --html graph.html"),
        ]

        @OptionGroup var modelOptions: ModelOptions

        var model: String { modelOptions.model }

        @Option(help: "Also write a self-contained HTML page drawing the graph.")
        var html: String?

        @OptionGroup var output: OutputOptions

        func run() throws {
            let loaded = try modelOptions.load()
            let summary = ModelSummary(loaded.model)
            if let html { try GraphPage.write(model: loaded.model, file: model, to: html) }
            if output.json {
                var object = summary.json
                object["file"] = model
                object["format"] = loaded.format
                object["load_seconds"] = loaded.seconds
                if let html { object["html"] = html }
                try JSONOutput.print(object)
            } else {
                print(summary.text(file: model, format: loaded.format))
                if let html { print("wrote \(html)") }
            }
        }
    }
}
