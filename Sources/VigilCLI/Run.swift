import ArgumentParser
import Foundation
import VigilExecutor
import VigilIR
import VigilParity

extension Vigil {
    /// `vigil run`: execute a model on inputs.
    struct Run: ParsableCommand, ExampleProviding {
        static let configuration = CommandConfiguration(
            abstract: "Run a model on .npy/.npz inputs; write the outputs to .npz or print a summary.")

        static let examples = [
            Example(what: "Run on one input and print each output's shape, min, max and mean", command: "vigil run model.onnx --input x.npy"),
            Example(what: "Name the inputs and save the outputs", command: "vigil run model.onnx --input image=x.npy --input mask=m.npy -o out.npz"),
            Example(what: "Run the file as given, on one thread", command: "vigil run model.onnx --input x.npy --no-optimize --threads 1"),
        ]

        @OptionGroup var modelOptions: ModelOptions

        var model: String { modelOptions.model }

        @OptionGroup var inputs: InputOptions

        @Option(name: .shortAndLong, help: "Write the outputs to this .npz, keyed by output name.")
        var output: String?

        @OptionGroup var execution: ExecutionOptions

        @OptionGroup var outputOptions: OutputOptions

        func run() throws {
            try CommandFiles.checkOutputs([output], inputs: [model, modelOptions.config] + inputs.files)
            let loaded = try modelOptions.load()
            let feeds = try inputs.feeds(for: loaded.model)
            let session = try execution.session(for: loaded.model, file: model)
            let outputs: [String: Tensor]
            do { outputs = try session.run(feeds) } catch { throw CommandFailure("\(model): \(error)") }
            let ordered = session.outputNames.map { ($0, outputs[$0]!) }
            if let output { try TensorFiles.writeNPZ(ordered, to: output) }
            if outputOptions.json {
                var object: [String: Any] = ["model": model, "outputs": ordered.map { Self.summaryJSON($0.0, $0.1) }]
                if let output { object["output"] = output }
                try outputOptions.printJSON(object)
            } else if let output {
                print("wrote \(output) (\(ordered.map { "\($0.0) \($0.1)" }.joined(separator: ", ")))")
            } else {
                for (name, tensor) in ordered { print(Self.summary(name, tensor)) }
            }
        }

        /// Minimum, maximum and mean of the finite values, and how many are not finite.
        static func statistics(_ tensor: Tensor) -> (min: Double, max: Double, mean: Double, nonFinite: Int)? {
            guard let values = tensor.numericValues, !values.isEmpty else { return nil }
            let finite = values.filter(\.isFinite)
            let mean = finite.reduce(0, +) / Double(max(finite.count, 1))
            return (finite.min() ?? .nan, finite.max() ?? .nan, mean, values.count - finite.count)
        }

        /// `name  float32[2, 10]  min … max … mean …`.
        static func summary(_ name: String, _ tensor: Tensor) -> String {
            var line = "\(name)  \(tensor)"
            if let s = statistics(tensor) {
                line += String(format: "  min %.6g  max %.6g  mean %.6g", s.min, s.max, s.mean)
                if s.nonFinite > 0 { line += "  non-finite \(s.nonFinite)" }
            }
            return line
        }

        static func summaryJSON(_ name: String, _ tensor: Tensor) -> [String: Any] {
            var object: [String: Any] = ["name": name, "dtype": tensor.dtype.rawValue, "shape": tensor.shape]
            if let s = statistics(tensor) {
                object["min"] = JSONOutput.number(s.min)
                object["max"] = JSONOutput.number(s.max)
                object["mean"] = JSONOutput.number(s.mean)
                object["nonfinite"] = s.nonFinite
            }
            return object
        }
    }
}
