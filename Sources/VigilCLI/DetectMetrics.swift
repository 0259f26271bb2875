import ArgumentParser
import Foundation
import VigilDetector

extension Vigil.Detect {
    /// `vigil detect metrics`: the five OOD metrics from raw scores.
    struct Metrics: ParsableCommand, ExampleProviding {
        static let configuration = CommandConfiguration(
            abstract: "Compute FPR at 95% TPR, detection error, AUROC, AUPR-In and AUPR-Out from raw scores (higher = more OOD).",
            discussion: "Scores are 1-D float32/float64 .npy files; sets are [NAME=]FILE as in `vigil detect evaluate`.")

        static let examples = [
            Example(what: "Metrics of scores computed elsewhere", command: "vigil detect metrics --data in_scores.npy --anomaly ood=ood_scores.npy"),
            Example(what: "Several sets at once, as JSON", command:
                        "vigil detect metrics --data test.npy --novelty unseen.npy --anomaly noise=noise.npy --json"),
        ]

        @Option(name: .long, help: "In-distribution scores (.npy, 1-D float32/float64).")
        var data: String

        @Option(name: .long, parsing: .singleValue, help: "Scores of a novelty set as [NAME=]FILE; repeatable.")
        var novelty: [String] = []

        @Option(name: .long, parsing: .singleValue, help: "Scores of an anomaly set as [NAME=]FILE; repeatable.")
        var anomaly: [String] = []

        @OptionGroup var output: OutputOptions

        func validate() throws {
            guard !novelty.isEmpty || !anomaly.isEmpty else { throw ValidationError("give at least one --novelty or --anomaly set of scores") }
            _ = try DetectSupport.oodSets(novelty: novelty, anomaly: anomaly)
        }

        func run() throws {
            let inScores = try DetectSupport.scores(data)
            var rows: [(set: String, metrics: DetectionMetrics)] = []
            var counts = ["in": inScores.count]
            for set in try DetectSupport.oodSets(novelty: novelty, anomaly: anomaly) {
                let ood = try DetectSupport.scores(set.file)
                rows.append((set.name, try DetectSupport.naming(set.file) { try DetectionMetrics(inScores: inScores, oodScores: ood) }))
                counts[set.name] = ood.count
            }
            if output.json {
                try output.printJSON(["metrics": Dictionary(uniqueKeysWithValues: rows.map { ($0.set, Self.json($0.metrics)) }), "counts": counts])
            } else {
                print(DetectTable.header)
                for row in rows { print(DetectTable.row(set: row.set, scorer: "scores", row.metrics)) }
            }
        }

        /// The JSON object: `fpr_at_95_tpr`, `detection_error`, `auroc`, `aupr_in`, `aupr_out`.
        static func json(_ m: DetectionMetrics) -> [String: Any] {
            ["fpr_at_95_tpr": m.fprAt95TPR, "detection_error": m.detectionError, "auroc": m.auroc, "aupr_in": m.auprIn, "aupr_out": m.auprOut]
        }
    }
}

/// The text table of metrics printed by `detect metrics` and `detect evaluate`.
enum DetectTable {
    static let header = pad("set", 10) + pad("scorer", 15) + ["FPR@95TPR", "DetErr", "AUROC", "AUPR-In", "AUPR-Out"]
        .map { lpad($0, 10) }.joined()

    static func row(set: String, scorer: String, _ m: DetectionMetrics) -> String {
        pad(set, 10) + pad(scorer, 15)
            + [m.fprAt95TPR, m.detectionError, m.auroc, m.auprIn, m.auprOut].map { lpad(String(format: "%.4f", $0), 10) }.joined()
    }

    static func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s + " " : s + String(repeating: " ", count: n - s.count) }
    static func lpad(_ s: String, _ n: Int) -> String { s.count >= n ? " " + s : String(repeating: " ", count: n - s.count) + s }
}
