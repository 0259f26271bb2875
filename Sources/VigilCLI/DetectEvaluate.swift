import ArgumentParser
import Foundation
import VigilDetector
import VigilFiles
import VigilIR

extension Vigil.Detect {
    /// `vigil detect evaluate`: the five metrics per OOD set and scorer.
    struct Evaluate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Evaluate a detector on in-distribution test data against novelty and anomaly sets.",
            discussion: """
                Prints FPR at 95% TPR, detection error, AUROC, AUPR-In and AUPR-Out (in-distribution positive) for \
                each OOD set and scorer. With --classifier, the softmax baselines (max_softmax, max_logit, energy, \
                odin) are evaluated on that classifier's logits too.
                """)

        @Argument(help: "The detector file (HDF5).")
        var detector: String

        @Argument(help: "The embedding network the detector was fitted on (.onnx).")
        var model: String

        @Option(name: .customLong("in"), help: "In-distribution test images (.npy).")
        var inData: String

        @Option(name: .long, help: "Novelty images (.npy): unseen classes related to the training classes.")
        var novelty: String?

        @Option(name: .long, parsing: .singleValue, help: "An anomaly set as NAME=FILE.npy; repeatable.")
        var anomaly: [String] = []

        @Option(name: .long, help: "A classifier (.onnx, logits output) for the softmax baselines.")
        var classifier: String?

        @Option(name: .long, parsing: .singleValue, help: "Scorers to evaluate (default: all that apply); repeatable.")
        var scorer: [String] = []

        @Option(name: .long, help: "Write a self-contained HTML report (ROC curves and score histograms as inline SVG).")
        var report: String?

        @Flag(name: .customLong("allow-model-mismatch"), help: "Use the detector even if MODEL is not the model it was fitted on.")
        var allowModelMismatch = false

        @OptionGroup var output: OutputOptions
        @OptionGroup var execution: ExecutionOptions

        func validate() throws {
            for name in scorer { _ = try DetectSupport.scorer(name) }
            guard novelty != nil || !anomaly.isEmpty else { throw ValidationError("give at least one --novelty or --anomaly set") }
            for item in anomaly where Self.splitAnomaly(item) == nil {
                throw ValidationError("--anomaly must be NAME=FILE, got '\(item)'")
            }
            let names = (novelty == nil ? [] : ["novelty"]) + anomaly.compactMap { Self.splitAnomaly($0)?.0 }
            if let duplicate = names.first(where: { name in names.filter { $0 == name }.count > 1 }) {
                throw ValidationError("the set name '\(duplicate)' is used twice")
            }
            if classifier == nil, let logit = try scorer.map(DetectSupport.scorer).first(where: { !$0.usesEmbedding }) {
                throw ValidationError("scorer \(logit.rawValue) needs --classifier")
            }
        }

        static func splitAnomaly(_ item: String) -> (String, String)? {
            guard let equals = item.firstIndex(of: "=") else { return nil }
            let name = String(item[..<equals]), file = String(item[item.index(after: equals)...])
            return name.isEmpty || file.isEmpty ? nil : (name, file)
        }

        func run() throws {
            try CommandFiles.checkOutputs([report], inputs: [detector, model, inData, novelty, classifier] + anomaly.map { Self.splitAnomaly($0)?.1 })
            let fitted = try DetectSupport.detector(detector)
            var sets: [(name: String, file: String)] = []
            if let novelty { sets.append(("novelty", novelty)) }
            sets += anomaly.compactMap(Self.splitAnomaly)
            var scorers = try scorer.map(DetectSupport.scorer)
            if scorers.isEmpty {
                scorers = [.meanDistance, .mahalanobis] + (fitted.normalizedTraining == nil ? [] : [.knn])
                if classifier != nil { scorers += Scorer.logitScorers }
            }
            let warnings = try DetectScoring.verifyNetworks(
                detector: fitted, detectorFile: detector, embedding: scorers.contains(where: \.usesEmbedding) ? model : nil,
                classifier: scorers.contains(where: { !$0.usesEmbedding }) ? classifier : nil, allowMismatch: allowModelMismatch)
            let inImages = try DetectSupport.images(inData)
            let oodImages = try sets.map { try DetectSupport.images($0.file) }

            // Each network runs once per image set; scores[scorer][set] has the in-distribution set first.
            let files = [inData] + sets.map(\.file)
            let allImages = [inImages] + oodImages
            var scores: [Scorer: [[Double]]] = [:]
            var networkImages = 0, scored = 0, scoringSeconds = 0.0
            let start = DispatchTime.now().uptimeNanoseconds
            for embedding in [true, false] {
                let group = scorers.filter { $0.usesEmbedding == embedding }
                guard !group.isEmpty else { continue }
                let network = embedding ? model : classifier!
                let outputs = try zip(allImages, files).map { images, file in
                    try DetectScoring.outputs(
                        embedding: embedding, detector: fitted, detectorFile: detector, model: network, images: images,
                        imagesFile: file, allowModelMismatch: allowModelMismatch, execution: execution)
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
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9

            var table: [(set: String, scorer: Scorer, metrics: DetectionMetrics)] = []
            for (index, set) in sets.enumerated() {
                for s in scorers {
                    let m = try DetectSupport.naming(set.file) { try DetectionMetrics(inScores: scores[s]![0], oodScores: scores[s]![index + 1]) }
                    table.append((set.name, s, m))
                }
            }
            if let report {
                let html = DetectReport.html(
                    title: "Vigil novelty and anomaly detection", inName: "in-distribution",
                    setNames: sets.map(\.name), scorers: scorers, scores: scores, table: table, warnings: warnings)
                do { try OutputFile.write(Array(html.utf8), to: report, protecting: CommandFiles.inputs) } catch {
                    throw CommandFiles.failure(error)
                }
            }
            if output.json {
                var bySet: [String: Any] = [:]
                for row in table {
                    var entry = bySet[row.set] as? [String: Any] ?? [:]
                    entry[row.scorer.rawValue] = Metrics.json(row.metrics)
                    bySet[row.set] = entry
                }
                var counts = ["in": inImages.shape[0]]
                for (set, images) in zip(sets, oodImages) { counts[set.name] = images.shape[0] }
                try output.printJSON(["metrics": bySet, "counts": counts, "seconds": seconds])
            } else {
                print(DetectTable.header)
                for row in table { print(DetectTable.row(set: row.set, scorer: row.scorer.rawValue, row.metrics)) }
                let networkSeconds = seconds - scoringSeconds
                print(String(format: "networks: %d images in %.2f s (%.0f images/s); scorers: %d embeddings in %.2f s (%.0f embeddings/s)",
                             networkImages, networkSeconds, Double(networkImages) / max(networkSeconds, 1e-9),
                             scored, scoringSeconds, Double(scored) / max(scoringSeconds, 1e-9)))
                if let report { print("wrote \(report)") }
            }
        }
    }
}
