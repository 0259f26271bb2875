/// The five OOD detection metrics, in Double, with in-distribution as the positive class (as in
/// Masana et al. and ODIN). Inputs are scores with higher = more OOD; each metric follows
/// scikit-learn's definitions exactly (ties included).
public struct DetectionMetrics: Sendable, Equatable, Codable {
    /// FPR at the first threshold (on the full ROC, no points dropped) where TPR ≥ 0.95.
    public var fprAt95TPR: Double
    /// min over ROC points of 0.5·(1 − TPR) + 0.5·FPR.
    public var detectionError: Double
    /// Area under the ROC (`roc_auc_score`).
    public var auroc: Double
    /// Average precision with in-distribution positive (`average_precision_score`).
    public var auprIn: Double
    /// Average precision with OOD positive.
    public var auprOut: Double

    enum CodingKeys: String, CodingKey {
        case fprAt95TPR = "fpr_at_95_tpr", detectionError = "detection_error", auroc, auprIn = "aupr_in", auprOut = "aupr_out"
    }

    /// Computes all five from raw scores.
    public init(inScores: [Double], oodScores: [Double]) throws(DetectorError) {
        guard !inScores.isEmpty, !oodScores.isEmpty else {
            throw .invalidArgument("metrics need in-distribution and OOD scores (got \(inScores.count) and \(oodScores.count))")
        }
        guard (inScores + oodScores).allSatisfy({ !$0.isNaN }) else { throw .invalidArgument("scores contain NaN") }
        let inDist = ROC.curve(positive: inScores.map { -$0 }, negative: oodScores.map { -$0 })
        let idx = inDist.tpr.firstIndex { $0 >= 0.95 }!
        fprAt95TPR = inDist.fpr[idx]
        detectionError = zip(inDist.tpr, inDist.fpr).map { 0.5 * (1 - $0) + 0.5 * $1 }.min()!
        auroc = ROC.trapezoid(x: inDist.fpr, y: inDist.tpr)
        auprIn = ROC.averagePrecision(positive: inScores.map { -$0 }, negative: oodScores.map { -$0 })
        auprOut = ROC.averagePrecision(positive: oodScores, negative: inScores)
    }
}

/// ROC and precision-recall curves as scikit-learn computes them (`_binary_clf_curve`).
public enum ROC {
    /// Cumulative true/false positives at each distinct threshold, from the highest score down.
    static func counts(positive: [Double], negative: [Double]) -> (tps: [Double], fps: [Double]) {
        var items = positive.map { ($0, true) } + negative.map { ($0, false) }
        items.sort { $0.0 > $1.0 }
        var tps: [Double] = [], fps: [Double] = []
        var tp = 0.0, fp = 0.0
        for (i, item) in items.enumerated() {
            if item.1 { tp += 1 } else { fp += 1 }
            if i == items.count - 1 || items[i + 1].0 != item.0 {
                tps.append(tp)
                fps.append(fp)
            }
        }
        return (tps, fps)
    }

    /// The full ROC (`roc_curve(drop_intermediate=False)`), starting at (0, 0). Higher score = positive.
    public static func curve(positive: [Double], negative: [Double]) -> (fpr: [Double], tpr: [Double]) {
        let (tps, fps) = counts(positive: positive, negative: negative)
        let p = tps.last!, n = fps.last!
        return ([0] + fps.map { $0 / n }, [0] + tps.map { $0 / p })
    }

    /// ∫ y dx by the trapezoid rule (`numpy.trapezoid`).
    static func trapezoid(x: [Double], y: [Double]) -> Double {
        var area = 0.0
        for i in 1..<x.count { area += (x[i] - x[i - 1]) * (y[i] + y[i - 1]) / 2 }
        return area
    }

    /// Average precision: Σ (R_i − R_{i−1}) · P_i over distinct thresholds (`average_precision_score`).
    static func averagePrecision(positive: [Double], negative: [Double]) -> Double {
        let (tps, fps) = counts(positive: positive, negative: negative)
        let p = tps.last!
        var ap = 0.0, previousRecall = 0.0
        for i in tps.indices {
            let recall = tps[i] / p
            ap += (recall - previousRecall) * (tps[i] / (tps[i] + fps[i]))
            previousRecall = recall
        }
        return ap
    }
}
