import VigilDetector
import VigilTestSupport
import XCTest

/// The five metrics against scikit-learn (`roc_curve`, `roc_auc_score`, `average_precision_score`) to 1e-9.
final class MetricsTests: XCTestCase {
    private func assertMetrics(_ m: DetectionMetrics, _ expected: [String: Any], _ context: String) {
        let actual = [m.fprAt95TPR, m.detectionError, m.auroc, m.auprIn, m.auprOut]
        let keys = ["fpr_at_95_tpr", "detection_error", "auroc", "aupr_in", "aupr_out"]
        assertClose(actual, keys.map { DetectorFixtures.double(expected[$0]!) }, atol: 1e-9, rtol: 0, context)
    }

    func testMetricsOnReferenceScoresMatchScikitLearn() throws {
        let table = DetectorFixtures.section("metrics")
        XCTAssertEqual(table.count, Scorer.allCases.count)
        for scorer in Scorer.allCases {
            let inScores = DetectorFixtures.scores(scorer.rawValue, "test")
            for set in DetectorFixtures.oodSets {
                let expected = (table[scorer.rawValue] as! [String: Any])[set] as! [String: Any]
                let m = try DetectionMetrics(inScores: inScores, oodScores: DetectorFixtures.scores(scorer.rawValue, set))
                assertMetrics(m, expected, "\(scorer.rawValue)/\(set)")
            }
        }
    }

    /// Integer scores with many ties, and tiny sets, exercise sklearn's tie handling.
    func testMetricsWithTiesMatchScikitLearn() throws {
        let cases = DetectorFixtures.reference["metric_cases"] as! [[String: Any]]
        XCTAssertEqual(cases.count, 4)
        for (i, c) in cases.enumerated() {
            let m = try DetectionMetrics(
                inScores: DetectorFixtures.doubles(c["in_scores"]!), oodScores: DetectorFixtures.doubles(c["ood_scores"]!))
            assertMetrics(m, c["metrics"] as! [String: Any], "case \(i)")
        }
    }

    func testPerfectSeparationAndReversal() throws {
        let perfect = try DetectionMetrics(inScores: [0, 1, 2], oodScores: [3, 4])
        XCTAssertEqual(perfect.auroc, 1)
        XCTAssertEqual(perfect.fprAt95TPR, 0)
        XCTAssertEqual(perfect.detectionError, 0)
        let reversed = try DetectionMetrics(inScores: [3, 4], oodScores: [0, 1, 2])
        XCTAssertEqual(reversed.auroc, 0)
        XCTAssertEqual(reversed.fprAt95TPR, 1)
    }

    func testEmptyOrNaNScoresAreErrors() {
        XCTAssertThrowsError(try DetectionMetrics(inScores: [], oodScores: [1]))
        XCTAssertThrowsError(try DetectionMetrics(inScores: [.nan], oodScores: [1]))
    }
}
