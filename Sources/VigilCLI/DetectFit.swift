import ArgumentParser
import Foundation
import VigilDetector
import VigilIR

extension Vigil.Detect {
    /// `vigil detect fit`: embed labelled in-distribution data, fit class statistics, calibrate, write the detector.
    struct Fit: ParsableCommand, ExampleProviding {
        static let configuration = CommandConfiguration(
            abstract: "Fit a detector: class means, counts, spread, tied covariance and kNN embeddings of the training data.",
            discussion: """
                Network input = (x · scale − mean) / std, reshaped to the model's input shape. By default float32 \
                data goes in unchanged and uint8 pixels are multiplied by 1/255; --scale sets the factor for data of \
                either type. --mean and --std take one value or one per channel (the input axis of that size: \
                axis 1, else the last). The rule is printed and recorded in the detector file.
                """)

        static let examples = [
            Example(what: "Fit on uint8 images (pixels · 1/255), calibrating on the last 10% of each class", command:
                        "vigil detect fit embedding.onnx --data train.npy --labels labels.npy -o detector.h5"),
            Example(what: "Separate validation images, and a classifier for the softmax baselines", command:
                        "vigil detect fit embedding.onnx --data train.npy --labels labels.npy --val val.npy --classifier classifier.onnx -o detector.h5"),
            Example(what: "ImageNet-style normalization of uint8 RGB images", command:
                        "vigil detect fit resnet.onnx --data train.npy --labels labels.npy --mean 0.485,0.456,0.406 --std 0.229,0.224,0.225 -o detector.h5"),
        ]

        @Argument(help: "The embedding network (.onnx).")
        var model: String

        @Option(name: .long, help: "In-distribution training images (.npy, [N, …], uint8 or float32).")
        var data: String

        @Option(name: .long, help: "Their integer class labels 0…C−1 (.npy, [N]).")
        var labels: String

        @Option(name: .long, help: "The value to use as the embedding: a graph output or an intermediate value (default: the first output).")
        var embedding: String?

        @Option(name: .long, help: ArgumentHelp("Multiply the data by S, whatever its type (default: 1/255 for uint8, 1 for float32); a number or a fraction like 1/255.", valueName: "S"))
        var scale: Fraction?

        @Option(name: .long, help: ArgumentHelp("Subtract after scaling: one value or one per channel, comma-separated (default: none).", valueName: "M"))
        var mean: FloatList?

        @Option(name: .long, help: ArgumentHelp("Divide after the mean: one value or one per channel, comma-separated (default: none).", valueName: "S"))
        var std: FloatList?

        @Option(name: .customLong("val-fraction"), help: "Per class, this last fraction of --data calibrates the thresholds instead of fitting (0 = no calibration; default: 0.1 unless --val).")
        var valFraction: Double?

        @Option(name: .long, help: "Separate in-distribution validation images for calibration.")
        var val: String?

        @Option(name: .long, help: "A classifier (.onnx/.h5, logits output) whose softmax-baseline thresholds are calibrated too.")
        var classifier: String?

        @Option(name: .long, help: "The TPR at which thresholds are calibrated (needs validation data).")
        var tpr: Double?

        @Option(name: .long, help: "k of the kNN scorer.")
        var k: Int = 10

        @Option(name: .long, help: "Mahalanobis ridge, relative to the covariance's mean diagonal.")
        var ridge: Double = 1e-3

        @Option(name: .shortAndLong, help: "The detector file to write (HDF5).")
        var output: String

        @OptionGroup var execution: ExecutionOptions

        @OptionGroup var outputOptions: OutputOptions

        var fraction: Double { valFraction ?? (val == nil ? 0.1 : 0) }

        func validate() throws {
            if val != nil, valFraction != nil { throw ValidationError("--val-fraction and --val exclude each other (--val gives the validation images)") }
            guard fraction >= 0, fraction < 1 else { throw ValidationError("--val-fraction must be in [0, 1)") }
            if let tpr {
                guard tpr > 0, tpr <= 1 else { throw ValidationError("--tpr must be in (0, 1]") }
                if val == nil, fraction == 0 { throw ValidationError("--tpr needs validation data (--val or a --val-fraction above 0)") }
            }
            guard k >= 1 else { throw ValidationError("--k must be at least 1") }
            guard ridge >= 0 else { throw ValidationError("--ridge must be ≥ 0") }
            if let scale, !(scale.value.isFinite && scale.value > 0) { throw ValidationError("--scale must be positive") }
            if let std, std.values.contains(where: { !($0 > 0) || !$0.isFinite }) { throw ValidationError("--std values must be positive") }
            if let mean, mean.values.contains(where: { !$0.isFinite }) { throw ValidationError("--mean values must be finite") }
            if let mean, let std, mean.values.count > 1, std.values.count > 1, mean.values.count != std.values.count {
                throw ValidationError("--mean has \(mean.values.count) values and --std \(std.values.count); give one value or one per channel")
            }
            if classifier != nil, val == nil, fraction == 0 { throw ValidationError("--classifier needs validation data (--val or --val-fraction)") }
        }

        var preprocessing: Preprocessing { Preprocessing(scale: scale?.value, mean: mean?.values ?? [], std: std?.values ?? []) }

        func run() throws {
            try CommandFiles.checkOutputs([output], inputs: [model, data, labels, val, classifier])
            let images = try DetectSupport.images(data)
            let allLabels = try DetectSupport.labels(labels)
            guard images.shape[0] == allLabels.count else {
                throw CommandFailure("\(labels): data and labels differ in length: \(images.shape[0]) images in \(data) but \(allLabels.count) labels")
            }
            let embedder = try DetectSupport.embedder(model, output: embedding, preprocessing: preprocessing, execution: execution)
            let hash = try DetectSupport.sha256(model)
            var trainImages = images, trainLabels = allLabels, validation: Tensor?
            if let val {
                validation = try DetectSupport.images(val)
            } else if fraction > 0 {
                let split = try DetectSupport.naming(labels) { try ValidationSplit.split(labels: allLabels, fraction: fraction) }
                trainImages = try DetectSupport.naming(data) { try ValidationSplit.select(images, split.train) }
                validation = try DetectSupport.naming(data) { try ValidationSplit.select(images, split.validation) }
                trainLabels = split.train.map { allLabels[$0] }
            }
            let tpr = self.tpr ?? 0.95
            let settings = ScorerSettings(knnK: k, mahalanobisRidge: ridge)
            let start = DispatchTime.now().uptimeNanoseconds
            let valCount = validation?.shape[0] ?? 0
            let progress = Progress("embedding", total: trainImages.shape[0] + valCount * (classifier == nil ? 1 : 2), unit: "images")
            let detector = try DetectSupport.naming(data) {
                try Detector.fit(
                    embedder: embedder, modelSHA256: hash, images: trainImages, labels: trainLabels, validation: validation,
                    tpr: tpr, settings: settings, progress: { done, _ in progress.update(done) })
            }
            var calibrated = detector
            if let classifier, let validation {
                let network = try DetectSupport.embedder(classifier, output: nil, preprocessing: preprocessing, execution: execution)
                let embedded = trainImages.shape[0] + valCount
                let logits = try DetectSupport.naming(val ?? data) {
                    try network.embed(validation, progress: { done, _ in progress.update(embedded + done) })
                }
                let outputs = Dictionary(uniqueKeysWithValues: Scorer.logitScorers.map { ($0, logits) })
                let hash = try DetectSupport.sha256(classifier)
                try DetectSupport.naming(classifier) { try calibrated.calibrate(outputs, tpr: tpr, classifierSHA256: hash) }
            }
            progress.finish()
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            try DetectSupport.naming(output) { try DetectorFile.write(calibrated, to: output, protecting: CommandFiles.inputs) }
            let total = trainImages.shape[0] + valCount
            let rule = calibrated.model?.preprocessing ?? embedder.preprocessing
            if outputOptions.json {
                try outputOptions.printJSON([
                    "model": model, "output": output, "classes": detector.classCount, "training_count": detector.trainingCount,
                    "validation_count": valCount, "dimension": detector.dimension, "embedding_output": embedder.outputName,
                    "preprocessing": DetectSupport.preprocessingJSON(rule), "thresholds": calibrated.thresholds,
                    "calibration_tpr": calibrated.calibrationTPR.map { $0 as Any } ?? NSNull(), "images": total, "seconds": seconds,
                ])
                return
            }
            print("fitted \(detector.classCount) classes on \(detector.trainingCount) embeddings of width \(detector.dimension)"
                + " (output '\(embedder.outputName)')")
            print("preprocessing: \(rule) (the training images are \(images.dtype))")
            print(String(format: "embedded and fitted %d images in %.2f s: %.0f images/s", total, seconds, Double(total) / max(seconds, 1e-9)))
            for (name, value) in calibrated.thresholds.sorted(by: { $0.key < $1.key }) {
                print("threshold \(name) at TPR \(tpr): \(value)")
            }
            print("wrote \(output)")
        }
    }
}

/// A positive number given as a decimal or a fraction (`1/255`).
struct Fraction: ExpressibleByArgument {
    var value: Float

    init?(argument: String) {
        let parts = argument.split(separator: "/", omittingEmptySubsequences: false)
        if parts.count == 2, let a = Double(parts[0]), let b = Double(parts[1]), b != 0 {
            value = Float(a / b)
        } else if parts.count == 1, let v = Float(argument) {
            value = v
        } else {
            return nil
        }
    }
}

/// Comma-separated numbers (`0.485,0.456,0.406`).
struct FloatList: ExpressibleByArgument {
    var values: [Float]

    init?(argument: String) {
        let items = argument.split(separator: ",").map { Float($0.trimmingCharacters(in: .whitespaces)) }
        guard !items.isEmpty, items.allSatisfy({ $0 != nil }) else { return nil }
        values = items.map { $0! }
    }
}
