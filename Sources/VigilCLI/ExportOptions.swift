import ArgumentParser
import Foundation
import VigilExecutor
import VigilFiles
import VigilIR
import VigilONNX
import VigilOptimizer
import VigilParity

/// The output file and deployment flags shared by `vigil convert` and `vigil optimize`.
struct ExportOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: "The ONNX file to write.")
    var output: String

    @Option(help: "Move initializers of at least this many bytes into '<output>.data'.")
    var externalDataThreshold: Int?

    enum WeightPrecision: String, ExpressibleByArgument, CaseIterable {
        case fp32, fp16
    }

    @Option(help: "Store float weights as fp32 (default) or fp16 (each followed by a Cast to float32).")
    var weights: WeightPrecision = .fp32

    @Flag(help: "Drop doc strings and the value_info of intermediate values.")
    var strip = false

    @Flag(help: "Keep Vigil's fused ops (domain ai.vigil) instead of writing them as standard ONNX ops; only Vigil reads the file.")
    var keepFusedOps = false

    @OptionGroup var inputs: InputOptions

    func validate() throws {
        if let threshold = externalDataThreshold, threshold < 0 {
            throw ValidationError("--external-data-threshold must be a byte count of 0 or more")
        }
    }

    /// Refuses the output paths (the model and its external data file) before any work is done:
    /// symlinks, files that are not regular, or any of the `inputs` named on the command line.
    func checkOutputs(inputs: [String?]) throws {
        var outputs = [output]
        if externalDataThreshold != nil {
            outputs.append(OutputFile.directory(of: output) + "/" + (output.split(separator: "/").last.map(String.init) ?? output) + ".data")
        }
        try CommandFiles.checkOutputs(outputs, inputs: inputs)
    }

    /// Writes the model to `output`, whole or not at all.
    func write(_ model: Model) throws -> ONNXWriter.Report {
        do {
            return try ONNXWriter.write(
                model, to: output, options: .init(externalDataThreshold: externalDataThreshold), protecting: CommandFiles.inputs)
        } catch {
            throw CommandFailure(error)
        }
    }

    /// Applies the flags, printing the fp16 weights' max output deviation on the `--input`s (or on
    /// seeded random inputs when none are given). Fused ops become standard ONNX ops unless `--keep-fused-ops`.
    func apply(to model: inout Model, file: String) throws {
        if !keepFusedOps {
            do { try ExportTransforms.lowerFusedOps(&model) } catch { throw CommandFailure("\(file): \(error)") }
        }
        if weights == .fp16 {
            report(deviationOf: model, file: file)
            do { try ExportTransforms.storeWeightsAsFloat16(&model) } catch { throw CommandFailure("\(file): \(error)") }
        }
        if strip { ExportTransforms.strip(&model) }
    }

    private func report(deviationOf model: Model, file: String) {
        do {
            var feeds = try inputs.feeds(for: model)
            for info in model.graph.runtimeInputs where feeds[info.name] == nil {
                feeds[info.name] = try Vigil.Bench.randomInput(info, batch: 1, file: file)
            }
            var rounded = model
            try ExportTransforms.roundWeightsThroughFloat16(&rounded)
            let reference = try InferenceSession(model: model, options: .init(threads: 1)).run(feeds)
            let half = try InferenceSession(model: rounded, options: .init(threads: 1)).run(feeds)
            for output in model.graph.outputs {
                guard let a = half[output.name], let b = reference[output.name] else { continue }
                let c = ParityComparison.compare(a, b, atol: 0, rtol: 0)
                print("fp16 weights: output '\(output.name)' max abs deviation \(ParityReport.number(c.maxAbsoluteError)), max rel \(ParityReport.number(c.maxRelativeError))\(inputs.input.isEmpty ? " (random inputs)" : "")")
            }
        } catch {
            print("fp16 weights: output deviation not measured: \(error)")
        }
    }
}
