import ArgumentParser
import Foundation
import VigilDetector
import VigilIR

extension Vigil.Detect {
    /// `vigil detect score`: OOD scores (higher = more OOD) for a set of images.
    struct Score: ParsableCommand, ExampleProviding {
        static let configuration = CommandConfiguration(
            abstract: "Score images with a fitted detector (higher = more out-of-distribution).",
            discussion: """
                Embedding scorers (mean_distance, mahalanobis, knn) run MODEL, which must be the network the \
                detector was fitted on (checked by SHA-256). Logit scorers (max_softmax, max_logit, energy, odin) \
                treat MODEL as a classifier and use its first output as logits. Images are preprocessed by the \
                rule recorded in the detector (see `vigil detect fit --help`).
                """)

        static let examples = [
            Example(what: "Class-mean distance scores, saved as float64 .npy", command:
                        "vigil detect score detector.h5 embedding.onnx --data new.npy -o scores.npy"),
            Example(what: "Mahalanobis scores as JSON", command: "vigil detect score detector.h5 embedding.onnx --data new.npy --scorer mahalanobis --json"),
            Example(what: "The energy baseline on a classifier", command: "vigil detect score detector.h5 classifier.onnx --data new.npy --scorer energy"),
        ]

        @Argument(help: "The detector file (HDF5) written by `vigil detect fit`.")
        var detector: String

        @Argument(help: "The network (.onnx).")
        var model: String

        @Option(name: .long, help: "Images to score (.npy, [N, …], uint8 or float32).")
        var data: String

        @Option(name: .long, help: "mean_distance, mahalanobis, knn, max_softmax, max_logit, energy or odin.")
        var scorer: String = Scorer.meanDistance.rawValue

        @Option(name: .shortAndLong, help: "Write the scores to this .npy (float64).")
        var output: String?

        @Flag(name: .customLong("allow-model-mismatch"), help: "Use the detector even if MODEL is not the model it was fitted on.")
        var allowModelMismatch = false

        @OptionGroup var execution: ExecutionOptions

        @OptionGroup var outputOptions: OutputOptions

        func validate() throws { _ = try DetectSupport.scorer(scorer) }

        func run() throws {
            try CommandFiles.checkOutputs([output], inputs: [detector, model, data])
            let scorer = try DetectSupport.scorer(scorer)
            let fitted = try DetectSupport.detector(detector)
            _ = try DetectScoring.verifyNetworks(
                detector: fitted, detectorFile: detector, embedding: scorer.usesEmbedding ? model : nil,
                classifier: scorer.usesEmbedding ? nil : model, allowMismatch: allowModelMismatch)
            let images = try DetectSupport.images(data)
            let progress = Progress("scoring \(data)", total: images.shape[0], unit: "images")
            let values = try DetectScoring.scores(
                scorer, detector: fitted, detectorFile: detector, model: model, images: images, imagesFile: data,
                allowModelMismatch: allowModelMismatch, execution: execution, progress: progress)
            progress.finish()
            if let output { try DetectSupport.writeScores(values, to: output) }
            let mean = values.reduce(0, +) / Double(max(values.count, 1))
            let threshold = fitted.thresholds[scorer.rawValue]
            let outOfDistribution = threshold.map { t in values.filter { $0 > t }.count }
            if outputOptions.json {
                var object: [String: Any] = [
                    "scorer": scorer.rawValue, "count": values.count, "min": JSONOutput.number(values.min() ?? .nan),
                    "max": JSONOutput.number(values.max() ?? .nan), "mean": JSONOutput.number(mean),
                    "preprocessing": DetectSupport.preprocessingJSON(fitted.model?.preprocessing ?? Preprocessing()),
                ]
                if let threshold, let outOfDistribution {
                    object["threshold"] = threshold
                    object["out_of_distribution"] = outOfDistribution
                }
                if let output { object["output"] = output } else { object["scores"] = values.map(JSONOutput.number) }
                try outputOptions.printJSON(object)
                return
            }
            if let output {
                print("wrote \(output) (\(values.count) \(scorer.rawValue) scores)")
                return
            }
            print(String(format: "%@  %d scores  min %.6g  max %.6g  mean %.6g", scorer.rawValue, values.count,
                         values.min() ?? .nan, values.max() ?? .nan, mean))
            if let threshold, let out = outOfDistribution {
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
    /// model's first output (logits), on images preprocessed by the detector's rule; `progress` advances
    /// by the images done. The networks are checked by ``verifyNetworks(detector:detectorFile:embedding:classifier:allowMismatch:)`` first.
    static func outputs(
        embedding: Bool, detector: Detector, detectorFile: String, model: String, images: Tensor, imagesFile: String,
        allowModelMismatch: Bool, execution: ExecutionOptions, progress: Progress? = nil
    ) throws -> Embeddings {
        let preprocessing = detector.model?.preprocessing ?? Preprocessing()
        let embedder = try DetectSupport.embedder(
            model, output: embedding ? detector.model?.outputName : nil, preprocessing: preprocessing, execution: execution)
        var reported = 0
        return try DetectSupport.naming(imagesFile) {
            try embedder.embed(images, progress: { done, _ in
                progress?.advance(by: done - reported)
                reported = done
            })
        }
    }

    /// Scores `images` with one scorer.
    static func scores(
        _ scorer: Scorer, detector: Detector, detectorFile: String, model: String, images: Tensor, imagesFile: String,
        allowModelMismatch: Bool, execution: ExecutionOptions, progress: Progress? = nil
    ) throws -> [Double] {
        let values = try outputs(
            embedding: scorer.usesEmbedding, detector: detector, detectorFile: detectorFile, model: model, images: images,
            imagesFile: imagesFile, allowModelMismatch: allowModelMismatch, execution: execution, progress: progress)
        return try DetectSupport.naming(imagesFile) { try detector.scores(scorer, values) }
    }
}
