import ArgumentParser
import Foundation
import VigilDetector
import VigilONNX

extension Vigil.Detect {
    /// `vigil detect export`: the network with the class-mean distance score appended as ONNX ops.
    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Append the class-mean distance score (and the in/out decision) to the network as standard ONNX ops.",
            discussion: """
                The written model keeps the network's outputs and adds `ood_score` (float32 [N], higher = more OOD) \
                and, when the detector has a calibrated mean_distance threshold, `is_ood` (bool [N], score > threshold).
                """)

        @Argument(help: "The detector file (HDF5).")
        var detector: String

        @Argument(help: "The embedding network the detector was fitted on (.onnx).")
        var model: String

        @Option(name: .shortAndLong, help: "The ONNX file to write.")
        var output: String

        @Flag(name: .customLong("allow-model-mismatch"), help: "Export even if MODEL is not the model the detector was fitted on.")
        var allowModelMismatch = false

        func run() throws {
            try CommandFiles.checkOutputs([output], inputs: [detector, model])
            let fitted = try DetectSupport.detector(detector)
            let hash = try DetectSupport.sha256(model)
            if let warning = try DetectSupport.naming(detector, { try fitted.verifyModel(sha256: hash, allowMismatch: allowModelMismatch) }) {
                DetectSupport.warn("\(detector): \(warning)")
            }
            let loaded = try ModelLoading.load(model)
            let exported = try DetectSupport.naming(model) { try fitted.appendingMeanDistanceScore(to: loaded.model) }
            do { _ = try ONNXWriter.write(exported, to: output, protecting: CommandFiles.inputs) } catch { throw CommandFailure(error) }
            let outputs = exported.graph.outputs.map(\.name).joined(separator: ", ")
            print("wrote \(output) (outputs: \(outputs))")
        }
    }
}
