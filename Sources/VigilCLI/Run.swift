import ArgumentParser
import Foundation
import VigilExecutor
import VigilIR
import VigilParity

extension Vigil {
    /// `vigil run`: execute a model on inputs.
    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run a model on .npy/.npz inputs; write the outputs to .npz or print a summary.")

        @OptionGroup var modelOptions: ModelOptions

        var model: String { modelOptions.model }

        @OptionGroup var inputs: InputOptions

        @Option(name: .shortAndLong, help: "Write the outputs to this .npz, keyed by output name.")
        var output: String?

        @OptionGroup var execution: ExecutionOptions

        func run() throws {
            try CommandFiles.checkOutputs([output], inputs: [model, modelOptions.config] + inputs.files)
            let loaded = try modelOptions.load()
            let feeds = try inputs.feeds(for: loaded.model)
            let session = try execution.session(for: loaded.model, file: model)
            let outputs: [String: Tensor]
            do { outputs = try session.run(feeds) } catch { throw CommandFailure("\(model): \(error)") }
            let ordered = session.outputNames.map { ($0, outputs[$0]!) }
            if let output {
                try TensorFiles.writeNPZ(ordered, to: output)
                print("wrote \(output) (\(ordered.map { "\($0.0) \($0.1)" }.joined(separator: ", ")))")
            } else {
                for (name, tensor) in ordered { print(Self.summary(name, tensor)) }
            }
        }

        /// `name  float32[2, 10]  min … max … mean …`.
        static func summary(_ name: String, _ tensor: Tensor) -> String {
            var line = "\(name)  \(tensor)"
            if let values = tensor.numericValues, !values.isEmpty {
                let finite = values.filter(\.isFinite)
                let mean = finite.reduce(0, +) / Double(max(finite.count, 1))
                line += String(format: "  min %.6g  max %.6g  mean %.6g", finite.min() ?? .nan, finite.max() ?? .nan, mean)
                if finite.count < values.count { line += "  non-finite \(values.count - finite.count)" }
            }
            return line
        }
    }
}
