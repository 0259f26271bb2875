import ArgumentParser
import Foundation
import VigilDetector
import VigilIR

extension Vigil.Detect {
    /// `vigil detect score`: OOD scores (higher = more OOD) for a set of images.
    struct Score: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Score images with a fitted detector (higher = more out-of-distribution).",
            discussion: """
                Embedding scorers (mean_distance, mahalanobis, knn) run MODEL, which must be the network the \
                detector was fitted on (checked by SHA-256). Logit scorers (max_softmax, max_logit, energy, odin) \
                treat MODEL as a classifier and use its first output as logits.
                """)

        @Argument(help: "The detector file (HDF5) written by `vigil detect fit`.")
        var detector: String

        @Argument(help: "The network (.onnx).")
        var model: String

        @Option(name: .long, help: "Images to score (.npy, [N, …]).")
        var data: String

        @Option(name: .long, help: "mean_distance (default), mahalanobis, knn, max_softmax, max_logit, energy or odin.")
        var scorer: String = Scorer.meanDistance.rawValue

        @Option(name: .shortAndLong, help: "Write the scores to this .npy (float64).")
        var output: String?

        @Flag(name: .customLong("allow-model-mismatch"), help: "Use the detector even if MODEL is not the model it was fitted on.")
        var allowModelMismatch = false

        @OptionGroup var execution: ExecutionOptions

        func validate() throws { _ = try DetectSupport.scorer(scorer) }

        func run() throws {
            try CommandFiles.checkOutputs([output], inputs: [detector, model, data])
            let scorer = try DetectSupport.scorer(scorer)
            let fitted = try DetectSupport.detector(detector)
            _ = try DetectScoring.verifyNetworks(
                detector: fitted, detectorFile: detector, embedding: scorer.usesEmbedding ? model : nil,
                classifier: scorer.usesEmbedding ? nil : model, allowMismatch: allowModelMismatch)
            let images = try DetectSupport.images(data)
            let values = try DetectScoring.scores(
                scorer, detector: fitted, detectorFile: detector, model: model, images: images, imagesFile: data,
                allowModelMismatch: allowModelMismatch, execution: execution)
            if let output {
                try DetectSupport.writeScores(values, to: output)
                print("wrote \(output) (\(values.count) \(scorer.rawValue) scores)")
                return
            }
            let mean = values.reduce(0, +) / Double(max(values.count, 1))
            print(String(format: "%@  %d scores  min %.6g  max %.6g  mean %.6g", scorer.rawValue, values.count,
                         values.min() ?? .nan, values.max() ?? .nan, mean))
            if let threshold = fitted.thresholds[scorer.rawValue] {
                let out = values.filter { $0 > threshold }.count
                print("threshold \(threshold): \(values.count - out) in-distribution, \(out) out-of-distribution")
            }
        }
    }
}

/// Running a model and a scorer on images, shared by `score` and `evaluate`.
enum DetectScoring {
    /// Checks that the networks are the ones the detector was fitted and calibrated with (by SHA-256
    /// of the file): a mismatch is an error, or with `allowMismatch` a warning, printed to stderr and
    /// returned (for the report).
    static func verifyNetworks(
        detector: Detector, detectorFile: String, embedding: String?, classifier: String?, allowMismatch: Bool
    ) throws -> [String] {
        var warnings: [String] = []
        if let embedding {
            let hash = try DetectSupport.sha256(embedding)
            if let warning = try DetectSupport.naming(detectorFile, { try detector.verifyModel(sha256: hash, allowMismatch: allowMismatch) }) {
                warnings.append("\(embedding): \(warning)")
            }
        }
        if let classifier {
            let hash = try DetectSupport.sha256(classifier)
            if let warning = try DetectSupport.naming(detectorFile, { try detector.verifyClassifier(sha256: hash, allowMismatch: allowMismatch) }) {
                warnings.append("\(classifier): \(warning)")
            }
        }
        for warning in warnings { DetectSupport.warn(warning) }
        return warnings
    }

    /// Runs `model` on `images`: the detector's embedding output or, for `embedding == false`, the
    /// model's first output (logits). The networks are checked by ``verifyNetworks(detector:detectorFile:embedding:classifier:allowMismatch:)`` first.
    static func outputs(
        embedding: Bool, detector: Detector, detectorFile: String, model: String, images: Tensor, imagesFile: String,
        allowModelMismatch: Bool, execution: ExecutionOptions
    ) throws -> Embeddings {
        let scale = detector.model?.preprocessing.scale ?? 1.0 / 255.0
        let embedder = try DetectSupport.embedder(model, output: embedding ? detector.model?.outputName : nil, scale: scale, execution: execution)
        return try DetectSupport.naming(imagesFile) {
            try embedder.embed(images, progress: DetectSupport.progressBar(label: "running \(URL(fileURLWithPath: model).lastPathComponent)"))
        }
    }

    /// Scores `images` with one scorer.
    static func scores(
        _ scorer: Scorer, detector: Detector, detectorFile: String, model: String, images: Tensor, imagesFile: String,
        allowModelMismatch: Bool, execution: ExecutionOptions
    ) throws -> [Double] {
        let values = try outputs(
            embedding: scorer.usesEmbedding, detector: detector, detectorFile: detectorFile, model: model, images: images,
            imagesFile: imagesFile, allowModelMismatch: allowModelMismatch, execution: execution)
        return try DetectSupport.naming(imagesFile) { try detector.scores(scorer, values) }
    }
}
