import ArgumentParser
import Foundation
import VigilDetector
import VigilIR

extension Vigil.Detect {
    /// `vigil detect fit`: embed labelled in-distribution data, fit class statistics, calibrate, write the detector.
    struct Fit: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Fit a detector: class means, counts, spread, tied covariance and kNN embeddings of the training data.")

        @Argument(help: "The embedding network (.onnx).")
        var model: String

        @Option(name: .long, help: "In-distribution training images (.npy, [N, …], uint8 or float32).")
        var data: String

        @Option(name: .long, help: "Their integer class labels 0…C−1 (.npy, [N]).")
        var labels: String

        @Option(name: .long, help: "The value to use as the embedding: a graph output or an intermediate value (default: the first output).")
        var embedding: String?

        @Option(name: .long, help: "Input scale: network input = pixel · S (default 1/255).")
        var scale: Float = 1.0 / 255.0

        @Option(name: .customLong("val-fraction"), help: "Per class, this last fraction of --data calibrates the thresholds instead of fitting (default 0.1; 0 = no calibration).")
        var valFraction: Double = 0.1

        @Option(name: .long, help: "Separate in-distribution validation images for calibration (overrides --val-fraction).")
        var val: String?

        @Option(name: .long, help: "A classifier (.onnx/.h5, logits output) whose softmax-baseline thresholds are calibrated too.")
        var classifier: String?

        @Option(name: .long, help: "The TPR at which thresholds are calibrated.")
        var tpr: Double = 0.95

        @Option(name: .long, help: "k of the kNN scorer.")
        var k: Int = 10

        @Option(name: .long, help: "Mahalanobis ridge, relative to the covariance's mean diagonal.")
        var ridge: Double = 1e-3

        @Option(name: .shortAndLong, help: "The detector file to write (HDF5).")
        var output: String

        @OptionGroup var execution: ExecutionOptions

        func validate() throws {
            guard valFraction >= 0, valFraction < 1 else { throw ValidationError("--val-fraction must be in [0, 1)") }
            guard tpr > 0, tpr <= 1 else { throw ValidationError("--tpr must be in (0, 1]") }
            guard k >= 1 else { throw ValidationError("--k must be at least 1") }
            guard ridge >= 0 else { throw ValidationError("--ridge must be ≥ 0") }
            guard scale.isFinite, scale > 0 else { throw ValidationError("--scale must be positive") }
            if classifier != nil, val == nil, valFraction == 0 { throw ValidationError("--classifier needs validation data (--val or --val-fraction)") }
        }

        func run() throws {
            try CommandFiles.checkOutputs([output], inputs: [model, data, labels, val, classifier])
            let images = try DetectSupport.images(data)
            let allLabels = try DetectSupport.labels(labels)
            guard images.shape[0] == allLabels.count else {
                throw CommandFailure("\(labels): data and labels differ in length: \(images.shape[0]) images in \(data) but \(allLabels.count) labels")
            }
            let embedder = try DetectSupport.embedder(model, output: embedding, scale: scale, execution: execution)
            let hash = try DetectSupport.sha256(model)
            var trainImages = images, trainLabels = allLabels, validation: Tensor?
            if let val {
                validation = try DetectSupport.images(val)
            } else if valFraction > 0 {
                let split = try DetectSupport.naming(labels) { try ValidationSplit.split(labels: allLabels, fraction: valFraction) }
                trainImages = try DetectSupport.naming(data) { try ValidationSplit.select(images, split.train) }
                validation = try DetectSupport.naming(data) { try ValidationSplit.select(images, split.validation) }
                trainLabels = split.train.map { allLabels[$0] }
            }
            let settings = ScorerSettings(knnK: k, mahalanobisRidge: ridge)
            let start = DispatchTime.now().uptimeNanoseconds
            let detector = try DetectSupport.naming(data) {
                try Detector.fit(
                    embedder: embedder, modelSHA256: hash, images: trainImages, labels: trainLabels, validation: validation,
                    tpr: tpr, settings: settings, progress: DetectSupport.progressBar(label: "embedding"))
            }
            var calibrated = detector
            if let classifier, let validation {
                let network = try DetectSupport.embedder(classifier, output: nil, scale: scale, execution: execution)
                let logits = try DetectSupport.naming(val ?? data) { try network.embed(validation) }
                let outputs = Dictionary(uniqueKeysWithValues: Scorer.logitScorers.map { ($0, logits) })
                let hash = try DetectSupport.sha256(classifier)
                try DetectSupport.naming(classifier) { try calibrated.calibrate(outputs, tpr: tpr, classifierSHA256: hash) }
            }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            do { try DetectorFile.write(calibrated, to: output, protecting: CommandFiles.inputs) } catch { throw CommandFailure(error.description) }
            let total = trainImages.shape[0] + (validation?.shape[0] ?? 0)
            print("fitted \(detector.classCount) classes on \(detector.trainingCount) embeddings of width \(detector.dimension)"
                + " (output '\(embedder.outputName)')")
            print(String(format: "embedded and fitted %d images in %.2f s: %.0f images/s", total, seconds, Double(total) / max(seconds, 1e-9)))
            for (name, value) in calibrated.thresholds.sorted(by: { $0.key < $1.key }) {
                print("threshold \(name) at TPR \(tpr): \(value)")
            }
            print("wrote \(output)")
        }
    }
}
