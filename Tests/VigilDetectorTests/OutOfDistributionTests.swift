import VigilDetector
import VigilIR
import VigilTestSupport
import XCTest

/// `Embeddings(tensor)` and `isOutOfDistribution` against numpy's scores and thresholds.
final class OutOfDistributionFlagTests: XCTestCase {
    /// Calibrated on the reference validation embeddings, the flags on every set are numpy's
    /// scores compared with numpy's threshold (samples within 1e-9 of it left out, as rounding may
    /// put them on either side).
    func testFlagsFollowNumpyScoresAndThresholds() throws {
        var detector = try DetectorFixtures.fittedOnReference()
        let validation = try Embeddings(DetectorFixtures.tensor("val_embedding.npy"))
        XCTAssertEqual(validation, try DetectorFixtures.embeddings("val_embedding.npy"))
        try detector.calibrate([.meanDistance: validation], tpr: 0.95)
        let threshold = DetectorFixtures.double(DetectorFixtures.section("thresholds")["mean_distance"]!)
        var compared = 0
        for set in ["test", "uniform", "novelty"] {
            let flags = try detector.isOutOfDistribution(.meanDistance, Embeddings(DetectorFixtures.tensor("\(set)_embedding.npy")))
            let scores = DetectorFixtures.scores("mean_distance", set)
            XCTAssertEqual(flags.count, scores.count, set)
            for (flag, score) in zip(flags, scores) where abs(score - threshold) > 1e-9 * max(1, abs(threshold)) {
                XCTAssertEqual(flag, score > threshold, set)
                compared += 1
            }
        }
        XCTAssertGreaterThan(compared, 1700)
    }

    func testUncalibratedScorerAndBadTensors() throws {
        let detector = try DetectorFixtures.fittedOnReference()
        let test = try Embeddings(DetectorFixtures.tensor("test_embedding.npy"))
        XCTAssertThrowsError(try detector.isOutOfDistribution(.knn, test)) { error in
            guard case DetectorError.scorerUnavailable = error else { return XCTFail("\(error)") }
        }
        XCTAssertThrowsError(try Embeddings(try Tensor(int64: [1, 2], shape: [2])))
        XCTAssertThrowsError(try Embeddings(try Tensor(float32: [], shape: [])))
        XCTAssertEqual(try Embeddings(try Tensor(float32: [1, 2, 3, 4, 5, 6], shape: [2, 1, 3])).dimension, 3)
    }
}
