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

    @Option(help: "Store float weights as fp32 or fp16 (each followed by a Cast to float32).")
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
            return try Progress.activity("writing \(output)") {
                try ONNXWriter.write(model, to: output, options: .init(externalDataThreshold: externalDataThreshold), protecting: CommandFiles.inputs)
            }
        } catch {
            throw CommandFailure(ErrorText.plain(error, path: output))
        }
    }

    /// Applies the flags. Fused ops become standard ONNX ops unless `--keep-fused-ops`.
    func apply(to model: inout Model, file: String) throws {
        if !keepFusedOps {
            do { try ExportTransforms.lowerFusedOps(&model) } catch { throw CommandFailure("\(file): \(error)") }
        }
        if weights == .fp16 {
            do { try ExportTransforms.storeWeightsAsFloat16(&model) } catch { throw CommandFailure("\(file): \(error)") }
        }
        if strip { ExportTransforms.strip(&model) }
    }

    /// The largest deviation of one output of the written model from the original's.
    struct Deviation {
        var output: String
        var maxAbs: Double
        var maxRel: Double

        var json: [String: Any] {
            ["output": output, "max_abs": JSONOutput.number(maxAbs), "max_rel": JSONOutput.number(maxRel)]
        }
    }

    /// The JSON keys of a measurement: `deviations`, and `deviations_not_measured` when it failed.
    func deviationJSON(_ measurement: Measurement, into object: inout [String: Any]) {
        object["deviations"] = measurement.deviations.map(\.json)
        if let reason = measurement.notMeasured { object["deviations_not_measured"] = reason }
    }

    /// Whether the written model's outputs are compared with the original's: with `--input`, or with
    /// fp16 weights (then on seeded random inputs when no `--input` is given).
    var measuresDeviation: Bool { !inputs.input.isEmpty || weights == .fp16 }

    /// The comparison of the written model with the original: each output's largest deviation, or why
    /// it could not be measured (an op the executor does not run, an input without declared type, …;
    /// the file is written all the same).
    struct Measurement {
        var deviations: [Deviation] = []
        var notMeasured: String?
    }

    /// Runs `original` and `final` (both on one thread) on the `--input`s, validated against the model,
    /// or on random inputs, and returns each output's largest deviation.
    func deviations(original: Model, final: Model, feeds given: [String: Tensor], file: String) -> Measurement {
        var feeds = given
        let reference: [String: Tensor], written: [String: Tensor]
        do {
            for info in original.graph.runtimeInputs where feeds[info.name] == nil {
                feeds[info.name] = try Vigil.Bench.randomInput(info, batch: 1, file: file, memoryLimit: MemoryLimit.available)
            }
            reference = try InferenceSession(model: original, options: .init(threads: 1)).run(feeds)
            written = try InferenceSession(model: final, options: .init(threads: 1)).run(feeds)
        } catch {
            return Measurement(notMeasured: ErrorText.plain(error).replacingOccurrences(of: "\(file): ", with: ""))
        }
        return Measurement(deviations: original.graph.outputs.compactMap { output in
            guard let a = written[output.name], let b = reference[output.name] else { return nil }
            let c = ParityComparison.compare(a, b, atol: 0, rtol: 0)
            return Deviation(output: output.name, maxAbs: c.maxAbsoluteError, maxRel: c.maxRelativeError)
        })
    }

    /// `output 'y' against the original on FILE: max abs deviation 1e-7, max rel 2e-6` lines.
    func deviationText(_ measurement: Measurement) -> [String] {
        if let reason = measurement.notMeasured { return ["outputs against the original: not measured (\(reason))"] }
        let on = inputs.input.isEmpty ? "random inputs" : inputs.input.joined(separator: ", ")
        return measurement.deviations.map {
            "output '\($0.output)' against the original on \(on): max abs deviation \(ParityReport.number($0.maxAbs)), max rel \(ParityReport.number($0.maxRel))"
        }
    }
}
