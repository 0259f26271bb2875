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
                'novelty' and --anomaly after its file unless named. With --baseline, the embedding network the \
                model was made from (a quantized MODEL's float original) runs too, and the change in AUROC and \
                FPR@95 is shown. A model written by `vigil quantize` from the detector's network is accepted as \
                that network (its metadata records the original's SHA-256).
                """)

        static let examples = [
            Example(what: "Novelty and two anomaly sets, every scorer that applies", command:
                        "vigil detect evaluate detector.h5 embedding.onnx --data test.npy --novelty unseen.npy --anomaly noise=noise.npy --anomaly photos.npy"),
            Example(what: "With the softmax baselines and an HTML report", command:
                        "vigil detect evaluate detector.h5 embedding.onnx --data test.npy --novelty unseen.npy --classifier classifier.onnx --html report.html"),
            Example(what: "A quantized embedding network against the float one it was made from", command:
                        "vigil detect evaluate detector.h5 embedding.int8.onnx --baseline embedding.onnx --data test.npy --novelty unseen.npy"),
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

        @Option(help: "The float embedding network MODEL was made from (by `vigil quantize`): evaluated with the same detector, and the change in AUROC and FPR@95 shown.")
        var baseline: String?

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
            try CommandFiles.checkOutputs([html], inputs: [detector, model, data, classifier, baseline] + sets.map(\.file))
            let fitted = try DetectSupport.detector(detector)
            var scorers = try scorer.map(DetectSupport.scorer)
            if scorers.isEmpty {
                scorers = [.meanDistance, .mahalanobis] + (fitted.normalizedTraining == nil ? [] : [.knn])
                if classifier != nil { scorers += Scorer.logitScorers }
            }
            let warnings = try DetectScoring.verifyNetworks(
                detector: fitted, detectorFile: detector, embedding: scorers.contains(where: \.usesEmbedding) ? model : nil,
                classifier: scorers.contains(where: { !$0.usesEmbedding }) ? classifier : nil, allowMismatch: allowModelMismatch)
                + (baseline.map { try DetectScoring.verifyNetworks(detector: fitted, detectorFile: detector, embedding: $0, classifier: nil,
                                                                    allowMismatch: allowModelMismatch) } ?? [])
            let inImages = try DetectSupport.images(data)
            let oodImages = try sets.map { try DetectSupport.images($0.file) }
            // Each network runs once per image set; scores[scorer][set] has the in-distribution set first.
            let files = [data] + sets.map(\.file)
            let allImages = [inImages] + oodImages
            let imageCount = allImages.reduce(0) { $0 + $1.shape[0] }
            let networks = [true, false].filter { embedding in scorers.contains { $0.usesEmbedding == embedding } }
            let runs = networks.count + (baseline != nil && networks.contains(true) ? 1 : 0)
            let progress = Progress("running the networks", total: imageCount * runs, unit: "images")
            let start = DispatchTime.now().uptimeNanoseconds
            var run = ScoredRun()
            for embedding in networks {
                try score(embedding: embedding, network: embedding ? model : classifier!, scorers: scorers, fitted: fitted, images: allImages,
                          files: files, progress: progress, into: &run)
            }
            var baselineRun: ScoredRun?
            if let baseline, networks.contains(true) {
                var other = ScoredRun()
                try score(embedding: true, network: baseline, scorers: scorers, fitted: fitted, images: allImages, files: files, progress: progress,
                          into: &other)
                baselineRun = other
            }
            progress.finish()
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            let table = try metricsTable(sets: sets, scorers: scorers, scores: run.scores)
            let baselineTable = try baselineRun.map { try metricsTable(sets: sets, scorers: scorers.filter(\.usesEmbedding), scores: $0.scores) }
            if let html { try writeReport(to: html, fitted: fitted, sets: sets, counts: allImages.map { $0.shape[0] }, scorers: scorers, scores: run.scores, table: table,
                                             warnings: warnings) }
            if output.json {
                var counts = ["in": inImages.shape[0]]
                for (set, images) in zip(sets, oodImages) { counts[set.name] = images.shape[0] }
                var object: [String: Any] = ["metrics": Self.bySet(table), "counts": counts, "seconds": seconds]
                if let html { object["html"] = html }
                if let baseline, let baselineTable { object["baseline"] = Self.baselineJSON(baseline, table: table, baselineTable: baselineTable) }
                try output.printJSON(object)
                return
            }
            print(DetectTable.header)
            for row in table { print(DetectTable.row(set: row.set, scorer: row.scorer.rawValue, row.metrics)) }
            let networkSeconds = seconds - run.scoringSeconds - (baselineRun?.scoringSeconds ?? 0)
            let scored = run.scored + (baselineRun?.scored ?? 0), networkImages = run.networkImages + (baselineRun?.networkImages ?? 0)
            print(String(format: "networks: %d images in %.2f s (%.0f images/s); scorers: %d embeddings in %.2f s (%.0f embeddings/s)",
                         networkImages, networkSeconds, Double(networkImages) / max(networkSeconds, 1e-9),
                         scored, run.scoringSeconds, Double(scored) / max(run.scoringSeconds, 1e-9)))
            if let baseline, let baselineTable { Self.printChange(baseline: baseline, table: table, baselineTable: baselineTable) }
            if let html { print("wrote \(html)") }
        }

        /// The scores of one network's scorers on every image set, and how long they took.
        struct ScoredRun {
            var scores: [Scorer: [[Double]]] = [:]
            var networkImages = 0, scored = 0
            var scoringSeconds = 0.0
        }

        /// Runs one network (the embedding network or the classifier) on every set and scores its outputs.
        private func score(embedding: Bool, network: String, scorers: [Scorer], fitted: Detector, images: [Tensor], files: [String],
                           progress: Progress, into run: inout ScoredRun) throws {
            let outputs = try zip(images, files).map { images, file in
                try DetectScoring.outputs(
                    embedding: embedding, detector: fitted, detectorFile: detector, model: network, images: images,
                    imagesFile: file, allowModelMismatch: allowModelMismatch, execution: execution, progress: progress)
            }
            run.networkImages += outputs.reduce(0) { $0 + $1.count }
            let scoring = DispatchTime.now().uptimeNanoseconds
            for s in scorers where s.usesEmbedding == embedding {
                run.scores[s] = try zip(outputs, files).map { values, file in try DetectSupport.naming(file) { try fitted.scores(s, values) } }
                run.scored += outputs.reduce(0) { $0 + $1.count }
            }
            run.scoringSeconds += Double(DispatchTime.now().uptimeNanoseconds - scoring) / 1e9
        }

        /// The five metrics per OOD set and scorer.
        private func metricsTable(sets: [(name: String, file: String)], scorers: [Scorer], scores: [Scorer: [[Double]]]) throws -> [DetectReport.Row] {
            var table: [DetectReport.Row] = []
            for (index, set) in sets.enumerated() {
                for s in scorers {
                    let m = try DetectSupport.naming(set.file) { try DetectionMetrics(inScores: scores[s]![0], oodScores: scores[s]![index + 1]) }
                    table.append(.init(set: set.name, scorer: s, metrics: m))
                }
            }
            return table
        }

        /// `{set: {scorer: metrics}}`.
        static func bySet(_ table: [DetectReport.Row]) -> [String: Any] {
            var bySet: [String: [String: Any]] = [:]
            for row in table { bySet[row.set, default: [:]][row.scorer.rawValue] = Metrics.json(row.metrics) }
            return bySet
        }

        /// The baseline network's metrics and the change of AUROC and FPR@95 (model − baseline).
        static func baselineJSON(_ baseline: String, table: [DetectReport.Row], baselineTable: [DetectReport.Row]) -> [String: Any] {
            var change: [String: [String: Any]] = [:]
            for row in baselineTable {
                guard let mine = table.first(where: { $0.set == row.set && $0.scorer == row.scorer }) else { continue }
                change[row.set, default: [:]][row.scorer.rawValue] = ["auroc": mine.metrics.auroc - row.metrics.auroc,
                                                                      "fpr_at_95_tpr": mine.metrics.fprAt95TPR - row.metrics.fprAt95TPR]
            }
            return ["model": baseline, "metrics": bySet(baselineTable), "change": change]
        }

        /// The change against the baseline network, one line per set and embedding scorer.
        static func printChange(baseline: String, table: [DetectReport.Row], baselineTable: [DetectReport.Row]) {
            print("against the baseline network \(baseline) (this model − baseline):")
            print(DetectTable.pad("set", 10) + DetectTable.pad("scorer", 15) + ["AUROC", "ΔAUROC", "FPR@95TPR", "ΔFPR@95"].map { DetectTable.lpad($0, 11) }.joined())
            for row in baselineTable {
                guard let mine = table.first(where: { $0.set == row.set && $0.scorer == row.scorer }) else { continue }
                let cells = [String(format: "%.4f", row.metrics.auroc), String(format: "%+.4f", mine.metrics.auroc - row.metrics.auroc),
                             String(format: "%.4f", row.metrics.fprAt95TPR), String(format: "%+.4f", mine.metrics.fprAt95TPR - row.metrics.fprAt95TPR)]
                print(DetectTable.pad(row.set, 10) + DetectTable.pad(row.scorer.rawValue, 15) + cells.map { DetectTable.lpad($0, 11) }.joined())
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
