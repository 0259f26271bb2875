import ArgumentParser
import Foundation
import VigilDetector

extension Vigil.Detect {
    /// `vigil detect metrics`: the five OOD metrics from raw scores.
    struct Metrics: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Compute FPR at 95% TPR, detection error, AUROC, AUPR-In and AUPR-Out from raw scores (higher = more OOD).")

        @Option(name: .customLong("in-scores"), help: "In-distribution scores (.npy, 1-D float32/float64).")
        var inScores: String

        @Option(name: .customLong("ood-scores"), help: "Out-of-distribution scores (.npy, 1-D float32/float64).")
        var oodScores: String

        @OptionGroup var output: OutputOptions

        func run() throws {
            let a = try DetectSupport.scores(inScores)
            let b = try DetectSupport.scores(oodScores)
            let metrics = try DetectSupport.naming(inScores) { try DetectionMetrics(inScores: a, oodScores: b) }
            if output.json {
                try output.printJSON(Self.json(metrics))
            } else {
                print(DetectTable.header)
                print(DetectTable.row(set: "ood", scorer: "scores", metrics))
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
