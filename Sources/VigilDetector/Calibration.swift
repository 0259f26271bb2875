import Foundation

/// Thresholds for the in/out decision, calibrated on in-distribution validation scores.
public enum Calibration {
    /// The smallest threshold t such that at least `tpr` of `validationScores` are ≤ t
    /// (a sample is in-distribution when its score ≤ t). With n scores that is the k-th smallest,
    /// k = ⌈tpr · n⌉ (computed with a 1e-9 slack so that 0.95 · 500 gives 475, not 476).
    public static func threshold(validationScores: [Double], tpr: Double = 0.95) throws(DetectorError) -> Double {
        guard tpr > 0, tpr <= 1 else { throw .invalidArgument("TPR must be in (0, 1], got \(tpr)") }
        guard !validationScores.isEmpty else { throw .invalidArgument("no validation scores to calibrate on") }
        guard validationScores.allSatisfy({ !$0.isNaN }) else { throw .invalidArgument("validation scores contain NaN") }
        let sorted = validationScores.sorted()
        let k = max(1, Int((tpr * Double(sorted.count) - 1e-9).rounded(.up)))
        return sorted[min(k, sorted.count) - 1]
    }
}

extension Detector {
    /// Calibrates a threshold per scorer at `tpr` on in-distribution validation outputs.
    ///
    /// - Parameters:
    ///   - outputs: per scorer, the validation embeddings (or logits for the logit scorers).
    ///   - tpr: the share of validation samples at or below each threshold.
    ///   - classifierSHA256: the SHA-256 of the classifier file the logits came from, recorded so that
    ///     scoring with another classifier is caught (``verifyClassifier(sha256:allowMismatch:)``).
    public mutating func calibrate(_ outputs: [Scorer: Embeddings], tpr: Double = 0.95, classifierSHA256: String? = nil) throws(DetectorError) {
        for (scorer, values) in outputs.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            thresholds[scorer.rawValue] = try Calibration.threshold(validationScores: scores(scorer, values), tpr: tpr)
        }
        calibrationTPR = tpr
        if let classifierSHA256 { self.classifierSHA256 = classifierSHA256.lowercased() }
    }
}

extension Detector {
    /// Whether each sample is out of distribution for `scorer`: its score is above the calibrated
    /// threshold (see ``calibrate(_:tpr:classifierSHA256:)``).
    ///
    /// - Throws: ``DetectorError/scorerUnavailable(scorer:reason:)`` when the scorer has no threshold.
    public func isOutOfDistribution(_ scorer: Scorer, _ outputs: Embeddings) throws(DetectorError) -> [Bool] {
        guard let threshold = thresholds[scorer.rawValue] else {
            throw .scorerUnavailable(scorer: scorer.rawValue, reason: "no calibrated threshold (calibrate the detector first)")
        }
        return try scores(scorer, outputs).map { $0 > threshold }
    }
}
