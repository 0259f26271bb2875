import ArgumentParser
import Foundation
import VigilDetector
import VigilIR
import VigilONNX

extension Vigil.Detect {
    /// `vigil detect export`: the network with the detector's preprocessing in front and the class-mean
    /// distance score appended, as ONNX ops.
    struct Export: ParsableCommand, ExampleProviding {
        static let configuration = CommandConfiguration(
            abstract: "Write the network with the class-mean distance score (and the in/out decision) as standard ONNX ops.",
            discussion: """
                The written model takes what `vigil detect score` takes: images of the type and per-sample shape \
                the detector was fitted on, preprocessed by its recorded rule (Cast, Mul, Reshape, Sub, Div in front \
                of the network, as needed). It keeps the network's outputs and adds `ood_score` (float32 [N], \
                higher = more OOD) and, when the detector has a calibrated mean_distance threshold, `is_ood` \
                (bool [N], score > threshold).
                """)

        static let examples = [
            Example(what: "One ONNX file that scores raw images", command: "vigil detect export detector.h5 embedding.onnx -o scored.onnx"),
            Example(what: "The same, printing its input, outputs and preprocessing as JSON", command:
                        "vigil detect export detector.h5 embedding.onnx -o scored.onnx --json"),
        ]

        @Argument(help: "The detector file (HDF5).")
        var detector: String

        @Argument(help: "The embedding network the detector was fitted on (.onnx).")
        var model: String

        @Option(name: .shortAndLong, help: "The ONNX file to write.")
        var output: String

        @Flag(name: .customLong("allow-model-mismatch"), help: "Export even if MODEL is not the model the detector was fitted on.")
        var allowModelMismatch = false

        @OptionGroup var outputOptions: OutputOptions

        func run() throws {
            try CommandFiles.checkOutputs([output], inputs: [detector, model])
            let fitted = try DetectSupport.detector(detector)
            let hash = try DetectSupport.sha256(model)
            if let warning = try DetectSupport.naming(detector, { try fitted.verifyModel(sha256: hash, allowMismatch: allowModelMismatch) }) {
                DetectSupport.warn("\(detector): \(warning)")
            }
            let loaded = try ModelLoading.load(model)
            let exported = try DetectSupport.naming(model) { try fitted.appendingMeanDistanceScore(to: loaded.model) }
            do {
                _ = try Progress.activity("writing \(output)") { try ONNXWriter.write(exported, to: output, protecting: CommandFiles.inputs) }
            } catch {
                throw CommandFailure(ErrorText.plain(error, path: output))
            }
            let outputs = exported.graph.outputs.map(\.name)
            let input = exported.graph.runtimeInputs[0]
            if outputOptions.json {
                try outputOptions.printJSON([
                    "output": output, "outputs": outputs, "input": ModelSummary.valueJSON(input),
                    "preprocessing": DetectSupport.preprocessingJSON(fitted.model?.preprocessing ?? Preprocessing()),
                ])
                return
            }
            print("wrote \(output) (input \(input.name) \(input.type?.description ?? "?"); outputs: \(outputs.joined(separator: ", ")))")
        }
    }
}
