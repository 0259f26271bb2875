import VigilDetector
import VigilTestSupport
import XCTest

final class CalibrationTests: XCTestCase {
    /// The 95%-TPR threshold on validation scores equals numpy's (an order statistic, so exactly).
    func testThresholdsMatchNumpy() throws {
        let thresholds = DetectorFixtures.section("thresholds")
        for scorer in Scorer.allCases {
            let t = try Calibration.threshold(validationScores: DetectorFixtures.scores(scorer.rawValue, "val"), tpr: 0.95)
            XCTAssertEqual(t, DetectorFixtures.double(thresholds[scorer.rawValue]!), scorer.rawValue)
        }
        for c in DetectorFixtures.reference["metric_cases"] as! [[String: Any]] {
            let t = try Calibration.threshold(validationScores: DetectorFixtures.doubles(c["in_scores"]!))
            XCTAssertEqual(t, DetectorFixtures.double(c["threshold_at_95"]!))
        }
    }

    /// At least the requested fraction of validation scores falls at or below the threshold, and
    /// fewer fall strictly below it.
    func testThresholdAchievesTPR() throws {
        let scores = DetectorFixtures.scores("mean_distance", "val")
        for tpr in [0.5, 0.9, 0.95, 0.99, 1.0] {
            let t = try Calibration.threshold(validationScores: scores, tpr: tpr)
            let atOrBelow = Double(scores.filter { $0 <= t }.count) / Double(scores.count)
            let below = Double(scores.filter { $0 < t }.count) / Double(scores.count)
            XCTAssertGreaterThanOrEqual(atOrBelow, tpr)
            XCTAssertLessThan(below, tpr)
        }
    }

    func testDetectorCalibrationStoresPerScorerThresholds() throws {
        var detector = try DetectorFixtures.fittedOnReference()
        let val = try DetectorFixtures.embeddings("val_embedding.npy")
        let logits = try DetectorFixtures.embeddings("val_logits.npy")
        try detector.calibrate([.meanDistance: val, .knn: val, .maxSoftmax: logits], tpr: 0.95)
        let thresholds = DetectorFixtures.section("thresholds")
        for scorer in ["mean_distance", "knn", "max_softmax"] {
            let expected = DetectorFixtures.double(thresholds[scorer]!)
            assertClose([detector.thresholds[scorer]!], [expected], atol: 0, rtol: 1e-5, scorer)
        }
        XCTAssertEqual(detector.calibrationTPR, 0.95)
    }

    func testInvalidTPRIsAnError() {
        XCTAssertThrowsError(try Calibration.threshold(validationScores: [1, 2], tpr: 0))
        XCTAssertThrowsError(try Calibration.threshold(validationScores: [1, 2], tpr: 1.5))
        XCTAssertThrowsError(try Calibration.threshold(validationScores: [], tpr: 0.95))
    }
}
