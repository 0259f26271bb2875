import ArgumentParser
import Foundation
import VigilDetector
import VigilFiles
import VigilIR

extension Vigil.Detect {
    /// `vigil detect evaluate`: the five metrics per OOD set and scorer.
    struct Evaluate: ParsableCommand, ExampleProviding {
        static let configuration = CommandConfiguration(
            abstract: "Evaluate a detector on in-distribution test data against novelty and anomaly sets.",
            discussion: """
                Prints FPR at 95% TPR, detection error, AUROC, AUPR-In and AUPR-Out (in-distribution positive) for \
                each OOD set and scorer. With --classifier, the softmax baselines (max_softmax, max_logit, energy, \
                odin) are evaluated on that classifier's logits too. Sets are [NAME=]FILE: --novelty is named \
                'novelty' and --anomaly after its file unless named.
                """)

        static let examples = [
            Example(what: "Novelty and two anomaly sets, every scorer that applies", command:
                        "vigil detect evaluate detector.h5 embedding.onnx --data test.npy --novelty unseen.npy --anomaly noise=noise.npy --anomaly photos.npy"),
            Example(what: "With the softmax baselines and an HTML report", command:
                        "vigil detect evaluate detector.h5 embedding.onnx --data test.npy --novelty unseen.npy --classifier classifier.onnx --html report.html"),
            Example(what: "Two scorers, as JSON", command:
                        "vigil detect evaluate detector.h5 embedding.onnx --data test.npy --anomaly noise.npy --scorer knn --scorer mahalanobis --json"),
        ]

        @Argument(help: "The detector file (HDF5).")
        var detector: String

        @Argument(help: "The embedding network the detector was fitted on (.onnx).")
        var model: String

        @Option(name: .long, help: "In-distribution test images (.npy).")
        var data: String

        @Option(name: .long, parsing: .singleValue, help: "A novelty set as [NAME=]FILE (.npy): unseen classes related to the training classes; repeatable.")
        var novelty: [String] = []

        @Option(name: .long, parsing: .singleValue, help: "An anomaly set as [NAME=]FILE (.npy); repeatable.")
        var anomaly: [String] = []

        @Option(name: .long, help: "A classifier (.onnx, logits output) for the softmax baselines.")
        var classifier: String?

        @Option(name: .long, parsing: .singleValue, help: "Scorers to evaluate (default: all that apply); repeatable.")
        var scorer: [String] = []

        @Option(name: .long, help: "Write a self-contained HTML report: metrics tables, ROC curves, score histograms, provenance.")
        var html: String?

        @Flag(name: .customLong("allow-model-mismatch"), help: "Use the detector even if MODEL is not the model it was fitted on.")
        var allowModelMismatch = false

        @OptionGroup var output: OutputOptions
        @OptionGroup var execution: ExecutionOptions

        func validate() throws {
            for name in scorer { _ = try DetectSupport.scorer(name) }
            guard !novelty.isEmpty || !anomaly.isEmpty else { throw ValidationError("give at least one --novelty or --anomaly set") }
            _ = try DetectSupport.oodSets(novelty: novelty, anomaly: anomaly)
            if classifier == nil, let logit = try scorer.map(DetectSupport.scorer).first(where: { !$0.usesEmbedding }) {
                throw ValidationError("scorer \(logit.rawValue) needs --classifier")
            }
        }

        func run() throws {
            let sets = try DetectSupport.oodSets(novelty: novelty, anomaly: anomaly)
            try CommandFiles.checkOutputs([html], inputs: [detector, model, data, classifier] + sets.map(\.file))
            let fitted = try DetectSupport.detector(detector)
            var scorers = try scorer.map(DetectSupport.scorer)
            if scorers.isEmpty {
                scorers = [.meanDistance, .mahalanobis] + (fitted.normalizedTraining == nil ? [] : [.knn])
                if classifier != nil { scorers += Scorer.logitScorers }
            }
            let warnings = try DetectScoring.verifyNetworks(
                detector: fitted, detectorFile: detector, embedding: scorers.contains(where: \.usesEmbedding) ? model : nil,
                classifier: scorers.contains(where: { !$0.usesEmbedding }) ? classifier : nil, allowMismatch: allowModelMismatch)
            let inImages = try DetectSupport.images(data)
            let oodImages = try sets.map { try DetectSupport.images($0.file) }

            // Each network runs once per image set; scores[scorer][set] has the in-distribution set first.
            let files = [data] + sets.map(\.file)
            let allImages = [inImages] + oodImages
            let networks = [true, false].filter { embedding in scorers.contains { $0.usesEmbedding == embedding } }
            let progress = Progress("running the networks", total: allImages.reduce(0) { $0 + $1.shape[0] } * networks.count, unit: "images")
            var scores: [Scorer: [[Double]]] = [:]
            var networkImages = 0, scored = 0, scoringSeconds = 0.0
            let start = DispatchTime.now().uptimeNanoseconds
            for embedding in networks {
                let group = scorers.filter { $0.usesEmbedding == embedding }
                let network = embedding ? model : classifier!
                let outputs = try zip(allImages, files).map { images, file in
                    try DetectScoring.outputs(
                        embedding: embedding, detector: fitted, detectorFile: detector, model: network, images: images,
                        imagesFile: file, allowModelMismatch: allowModelMismatch, execution: execution, progress: progress)
                }
                networkImages += outputs.reduce(0) { $0 + $1.count }
                let scoring = DispatchTime.now().uptimeNanoseconds
                for s in group {
                    scores[s] = try zip(outputs, files).map { values, file in
                        try DetectSupport.naming(file) { try fitted.scores(s, values) }
                    }
                    scored += outputs.reduce(0) { $0 + $1.count }
                }
                scoringSeconds += Double(DispatchTime.now().uptimeNanoseconds - scoring) / 1e9
            }
            progress.finish()
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9

            var table: [DetectReport.Row] = []
            for (index, set) in sets.enumerated() {
                for s in scorers {
                    let m = try DetectSupport.naming(set.file) { try DetectionMetrics(inScores: scores[s]![0], oodScores: scores[s]![index + 1]) }
                    table.append(.init(set: set.name, scorer: s, metrics: m))
                }
            }
            if let html { try writeReport(to: html, fitted: fitted, sets: sets, counts: allImages.map { $0.shape[0] }, scorers: scorers, scores: scores, table: table, warnings: warnings) }
            if output.json {
                var bySet: [String: Any] = [:]
                for row in table {
                    var entry = bySet[row.set] as? [String: Any] ?? [:]
                    entry[row.scorer.rawValue] = Metrics.json(row.metrics)
                    bySet[row.set] = entry
                }
                var counts = ["in": inImages.shape[0]]
                for (set, images) in zip(sets, oodImages) { counts[set.name] = images.shape[0] }
                var object: [String: Any] = ["metrics": bySet, "counts": counts, "seconds": seconds]
                if let html { object["html"] = html }
                try output.printJSON(object)
            } else {
                print(DetectTable.header)
                for row in table { print(DetectTable.row(set: row.set, scorer: row.scorer.rawValue, row.metrics)) }
                let networkSeconds = seconds - scoringSeconds
                print(String(format: "networks: %d images in %.2f s (%.0f images/s); scorers: %d embeddings in %.2f s (%.0f embeddings/s)",
                             networkImages, networkSeconds, Double(networkImages) / max(networkSeconds, 1e-9),
                             scored, scoringSeconds, Double(scored) / max(scoringSeconds, 1e-9)))
                if let html { print("wrote \(html)") }
            }
        }

        /// The HTML report, with the provenance of everything it shows.
        private func writeReport(
            to path: String, fitted: Detector, sets: [(name: String, file: String)], counts: [Int], scorers: [Scorer],
            scores: [Scorer: [[Double]]], table: [DetectReport.Row], warnings: [String]
        ) throws {
            var files: [DetectReport.Provenance.File] = [
                .init(role: "detector", path: detector, sha256: try DetectSupport.sha256(detector)),
                .init(role: "embedding network", path: model, sha256: try DetectSupport.sha256(model)),
            ]
            if let classifier { files.append(.init(role: "classifier", path: classifier, sha256: try DetectSupport.sha256(classifier))) }
            let names = ["in-distribution"] + sets.map(\.name)
            for (index, (name, file)) in zip(names, [data] + sets.map(\.file)).enumerated() {
                files.append(.init(role: "\(name) set (\(grouped(counts[index])) images)", path: file, sha256: try DetectSupport.sha256(file)))
            }
            let provenance = DetectReport.Provenance(
                files: files, preprocessing: (fitted.model?.preprocessing ?? Preprocessing()).description,
                detector: "\(fitted.classCount) classes, \(grouped(fitted.trainingCount)) training embeddings of width \(fitted.dimension)"
                    + (fitted.calibrationTPR.map { ", thresholds calibrated at TPR \($0)" } ?? ", no calibrated thresholds"),
                version: Vigil.configuration.version, date: ISO8601DateFormatter().string(from: Date()))
            let page = DetectReport.html(
                title: "Vigil novelty and anomaly detection", inName: "in-distribution", setNames: sets.map(\.name), scorers: scorers,
                scores: scores, thresholds: fitted.thresholds, table: table, provenance: provenance, warnings: warnings)
            do { try OutputFile.write(Array(page.utf8), to: path, protecting: CommandFiles.inputs) } catch {
                throw CommandFiles.failure(error)
            }
        }
    }
}
