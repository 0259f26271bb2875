import ArgumentParser
import Foundation
import VigilIR
import VigilONNX
import VigilQuantizer

extension Vigil {
    /// `vigil quantize`: int8 quantization with a parity budget.
    struct Quantize: ParsableCommand, ExampleProviding {
        static let configuration = CommandConfiguration(
            abstract: "Quantize a model to int8 (standard QDQ ONNX) and measure what changed against the float model.",
            discussion: """
                Weights become int8, symmetric, one scale per output channel (Conv, Gemm, MatMul); activations uint8 \
                (or --activation-type int8), one scale per tensor, from the ranges seen on the calibration data \
                (--method minmax, percentile or entropy). --weights-only writes onnxruntime's dynamic form instead \
                (activations quantized at run time; no calibration data). Calibration and validation files are .npy \
                (a model with one input) or .npz keyed by input name, [N, …]; several are concatenated; with --detector \
                they are images, preprocessed as that detector's embedding network expects. The float and the quantized \
                model then run on the validation data (default: the calibration data): per output the max and mean \
                absolute error, cosine similarity and, for [N, C] outputs, top-1 agreement. --max-error is the largest \
                absolute output error allowed: over it, nothing is written and the exit code is 1, unless --auto-exclude \
                keeps in float, one at a time, the layers that add the most error (found by comparing every quantized \
                layer with the float model) until the model fits.
                """)

        static let examples = [
            Example(what: "Static int8 quantization, calibrated on 64 samples", command: "vigil quantize model.onnx --calibration samples.npy -o model.int8.onnx"),
            Example(what: "Entropy calibration with a budget, keeping the worst layers in float", command:
                        "vigil quantize model.onnx --calibration calib.npz --validation val.npz --method entropy --max-error 0.05 --auto-exclude -o q.onnx"),
            Example(what: "Weights only (dynamic), the classifier head kept in float", command:
                        "vigil quantize model.onnx --weights-only --exclude fc --validation val.npy -o q.onnx"),
            Example(what: "A detector's embedding network, calibrated on its training images", command:
                        "vigil quantize embedding.onnx --detector detector.h5 --calibration train.npy -o embedding.int8.onnx"),
        ]

        enum Method: String, ExpressibleByArgument, CaseIterable { case minmax, percentile, entropy }
        enum ActivationType: String, ExpressibleByArgument, CaseIterable { case uint8, int8 }

        @OptionGroup var modelOptions: ModelOptions

        var model: String { modelOptions.model }

        @Option(name: .long, parsing: .singleValue, help: "Calibration samples (.npy or .npz by input name, [N, …]); repeatable.")
        var calibration: [String] = []

        @Option(name: [.customShort("o"), .customLong("output")], help: "The quantized ONNX file to write.")
        var outputFile: String

        @Flag(help: "Quantize weights only; activations are quantized at run time (DynamicQuantizeLinear, ConvInteger, MatMulInteger).")
        var weightsOnly = false

        @Option(help: "How activation ranges are found: minmax, percentile or entropy (KL divergence).")
        var method: Method = .minmax

        @Option(help: "With --method percentile: the percentage of values kept inside the range (default 99.999).")
        var percentile: Double?

        @Option(help: "Activation type: uint8 or int8.")
        var activationType: ActivationType = .uint8

        @Option(name: .long, parsing: .singleValue, help: "A node name or op type kept in float; repeatable.")
        var exclude: [String] = []

        @Option(name: .long, parsing: .singleValue, help: "Validation samples for the parity check (default: the calibration data); repeatable.")
        var validation: [String] = []

        @Option(help: "The largest absolute output error allowed (against the float model on the validation data).")
        var maxError: Double?

        @Flag(help: "With --max-error: keep the layers that add the most error in float until the model fits.")
        var autoExclude = false

        @Option(help: "A detector file: the sample files are images, preprocessed by its recorded rule for its embedding network.")
        var detector: String?

        @Option(help: "Samples per run of the model.")
        var batch: Int = 8

        @Option(name: .long, help: "Threads for BLAS and the executor's own loops (default: all cores).")
        var threads: Int?

        @OptionGroup var output: OutputOptions

        func validate() throws {
            if weightsOnly {
                if method != .minmax || percentile != nil { throw ValidationError("--method and --percentile are for static quantization, not --weights-only") }
                if activationType == .int8 { throw ValidationError("--weights-only quantizes activations to uint8 at run time; --activation-type int8 needs static quantization") }
                if maxError != nil && calibration.isEmpty && validation.isEmpty {
                    throw ValidationError("--max-error needs --validation (or --calibration) samples to measure the error on")
                }
            } else if calibration.isEmpty {
                throw ValidationError("give --calibration FILE (or --weights-only, which needs no calibration data)")
            }
            if let percentile {
                guard method == .percentile else { throw ValidationError("--percentile needs --method percentile") }
                guard percentile > 50, percentile <= 100 else { throw ValidationError("--percentile must be in (50, 100]") }
            }
            if autoExclude && maxError == nil { throw ValidationError("--auto-exclude needs --max-error (the budget it works to)") }
            if let maxError, !(maxError >= 0) { throw ValidationError("--max-error must be 0 or more") }
            if batch < 1 { throw ValidationError("--batch must be at least 1") }
            if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        }

        var options: QuantizationOptions {
            let calibrationMethod: CalibrationMethod = switch method {
            case .minmax: .minMax
            case .percentile: .percentile(percentile ?? 99.999)
            case .entropy: .entropy
            }
            return QuantizationOptions(activationType: activationType == .int8 ? .int8 : .uint8, method: calibrationMethod, weightsOnly: weightsOnly,
                                       exclude: Set(exclude), batchSize: batch, threads: threads)
        }

        func run() throws {
            try CommandFiles.checkOutputs([outputFile], inputs: [model, modelOptions.config, detector] + calibration + validation)
            let loaded = try modelOptions.load()
            try QuantizeSupport.checkExclusions(exclude, in: loaded.model)
            let samples = QuantizeSupport.SampleReader(model: loaded.model, file: model, detector: detector)
            let calibrationSet = calibration.isEmpty ? nil : try samples.read(calibration)
            let validationSet = validation.isEmpty ? calibrationSet : try samples.read(validation)
            let outcome: Quantizer.Outcome
            let phases = QuantizeSupport.Phases(enabled: true)
            do {
                defer { phases.finish() }
                outcome = try Quantizer(options: options).quantize(
                    loaded.model, calibration: calibrationSet, validation: validationSet, maxError: maxError, autoExclude: autoExclude,
                    log: phases.start)
            } catch {
                throw CommandFailure("\(model): \(ErrorText.plain(error))")
            }
            var report = QuantizeReport(model: model, output: outputFile, options: options, outcome: outcome,
                                        calibrationSamples: calibrationSet?.count, validationSamples: validationSet?.count,
                                        validationFiles: validation.isEmpty ? calibration : validation, maxError: maxError)
            guard outcome.withinBudget else {
                if !output.json { print(report.text) }
                let worst = outcome.parity.max { $0.maxAbsoluteError < $1.maxAbsoluteError }
                throw CommandFailure("\(model): the quantized model's largest output error \(ParityReport.number(worst?.maxAbsoluteError ?? 0)) (output '\(worst?.output ?? "")') exceeds --max-error \(ParityReport.number(maxError ?? 0)); nothing written")
            }
            var quantized = outcome.model
            quantized.metadata.removeAll { $0.key.hasPrefix("vigil:quantiz") }
            quantized.metadata.append(MetadataEntry(key: "vigil:quantization", value: report.summary))
            if loaded.format == "onnx" {
                quantized.metadata.append(MetadataEntry(key: "vigil:quantized_from_sha256", value: try DetectSupport.sha256(model)))
            }
            report.floatBytes = ModelLoading.fileSize(model)
            report.bytes = try write(quantized).modelBytes
            if output.json { try output.printJSON(report.json) } else { print(report.text) }
        }

        /// Writes the model to `--output`, whole or not at all.
        func write(_ model: Model) throws -> ONNXWriter.Report {
            do {
                return try Progress.activity("writing \(outputFile)") { try ONNXWriter.write(model, to: outputFile, protecting: CommandFiles.inputs) }
            } catch {
                throw CommandFailure(ErrorText.plain(error, path: outputFile))
            }
        }
    }
}
