import VigilDetector
import VigilTestSupport
import XCTest

/// Fit statistics and scores from the recorded onnxruntime embeddings/logits against numpy (float64).
final class FitAndScoreTests: XCTestCase {
    func testFitStatisticsMatchNumpy() throws {
        let detector = try DetectorFixtures.fittedOnReference()
        let fit = DetectorFixtures.section("fit")
        XCTAssertEqual(detector.counts, fit["counts"] as! [Int])
        XCTAssertEqual(detector.classCount, 5)
        XCTAssertEqual(detector.dimension, 10)
        let means = (fit["means"] as! [Any]).flatMap(DetectorFixtures.doubles)
        assertClose(detector.means.flatMap { $0 }, means, atol: 1e-12, rtol: 1e-9, "means")
        assertClose(detector.spread, DetectorFixtures.doubles(fit["spread"]!), atol: 0, rtol: 1e-9, "spread")
        let covariance = (fit["covariance"] as! [Any]).flatMap(DetectorFixtures.doubles)
        assertClose(detector.covariance, covariance, atol: 1e-12, rtol: 1e-9, "covariance")
        assertClose([detector.ridge], [DetectorFixtures.double(fit["ridge"]!)], atol: 0, rtol: 1e-9, "ridge")
        let precision = (fit["precision"] as! [Any]).flatMap(DetectorFixtures.doubles)
        assertClose(detector.precision, precision, atol: 1e-10, rtol: 1e-7, "precision")
        XCTAssertEqual(detector.normalizedTraining?.count, 1500 * 10)
    }

    func testEmbeddingScoresMatchNumpy() throws {
        let detector = try DetectorFixtures.fittedOnReference()
        for scorer in Scorer.embeddingScorers {
            for set in DetectorFixtures.scoredSets {
                let e = try DetectorFixtures.embeddings("\(set)_embedding.npy")
                let scores = try detector.scores(scorer, e)
                assertClose(scores, DetectorFixtures.scores(scorer.rawValue, set), atol: 0, rtol: 1e-5, "\(scorer.rawValue)/\(set)")
            }
        }
    }

    func testLogitScoresMatchNumpy() throws {
        let settings = DetectorFixtures.settings()
        for scorer in Scorer.logitScorers {
            for set in DetectorFixtures.scoredSets {
                let logits = try DetectorFixtures.embeddings("\(set)_logits.npy")
                let scores = LogitScores.scores(scorer, logits, settings: settings)
                assertClose(scores, DetectorFixtures.scores(scorer.rawValue, set), atol: 0, rtol: 1e-5, "\(scorer.rawValue)/\(set)")
            }
        }
    }

    /// kNN through SGEMM equals a brute-force Double computation for several k, including k = N.
    func testKNNEqualsBruteForce() throws {
        let detector = try DetectorFixtures.fittedOnReference()
        let queries = try DetectorFixtures.embeddings("photos_embedding.npy")
        let train = detector.normalizedTraining!
        let n = train.count / 10
        for k in [1, 7, n] {
            let scores = try detector.knnScores(queries, k: k)
            var expected: [Double] = []
            for i in stride(from: 0, to: queries.count, by: 3) {
                let row = queries.row(i)
                let norm = row.reduce(0) { $0 + $1 * $1 }.squareRoot()
                let q = row.map { $0 / norm }
                let d2 = (0..<n).map { t in (0..<10).reduce(0.0) { s, j in
                    let diff = q[j] - Double(train[t * 10 + j]); return s + diff * diff } }
                expected.append(d2.sorted()[k - 1].squareRoot())
            }
            let sampled = stride(from: 0, to: queries.count, by: 3).map { scores[$0] }
            assertClose(sampled, expected, atol: 1e-7, rtol: 1e-5, "k=\(k)")
        }
        XCTAssertThrowsError(try detector.knnScores(queries, k: n + 1))
        XCTAssertThrowsError(try detector.knnScores(queries, k: 0))
    }

    func testKNNNeedsTrainingEmbeddings() throws {
        let detector = try Detector.fit(
            embeddings: DetectorFixtures.embeddings("train_embedding.npy"), labels: DetectorFixtures.labels("train"),
            keepTrainingEmbeddings: false)
        XCTAssertNil(detector.normalizedTraining)
        XCTAssertThrowsError(try detector.scores(.knn, DetectorFixtures.embeddings("test_embedding.npy"))) { error in
            guard case DetectorError.scorerUnavailable = error else { return XCTFail("\(error)") }
        }
    }

    func testWrongEmbeddingWidthIsAnError() throws {
        let detector = try DetectorFixtures.fittedOnReference()
        let logits = try DetectorFixtures.embeddings("test_logits.npy")
        XCTAssertThrowsError(try detector.scores(.meanDistance, logits)) { error in
            XCTAssertEqual(error as? DetectorError, .dimensionMismatch(expected: 10, actual: 5))
        }
    }
}
