import Foundation
import VigilIR
import VigilNumpy
import VigilParity
import VigilTestSupport
import XCTest

/// Parity metrics against numpy's (Fixtures/generate_numpy.py → Fixtures/numpy/parity_metrics.json).
final class ParityComparisonTests: XCTestCase {
    func testMetricsMatchNumpy() throws {
        let folder = Repository.fixtures.appendingPathComponent("numpy")
        let actual = try NPY.read(at: folder.appendingPathComponent("parity_actual.npy").path)
        let expected = try NPY.read(at: folder.appendingPathComponent("parity_expected.npy").path)
        let json = try Data(contentsOf: folder.appendingPathComponent("parity_metrics.json"))
        let cases = try XCTUnwrap(try JSONSerialization.jsonObject(with: json) as? [[String: Any]])
        XCTAssertEqual(cases.count, 4)
        for facts in cases {
            let atol = try XCTUnwrap(facts["atol"] as? Double), rtol = try XCTUnwrap(facts["rtol"] as? Double)
            let result = ParityComparison.compare(actual, expected, atol: atol, rtol: rtol)
            let label = "atol \(atol) rtol \(rtol)"
            XCTAssertEqual(result.elements, facts["elements"] as? Int, label)
            XCTAssertEqual(result.mismatches, facts["mismatches"] as? Int, label)
            XCTAssertEqual(result.nonFiniteMismatches, facts["nonfinite_mismatches"] as? Int, label)
            XCTAssertEqual(result.maxAbsoluteError, Double(facts["max_abs_error"] as? String ?? ""), label)
            XCTAssertEqual(result.maxRelativeError, Double(facts["max_rel_error"] as? String ?? ""), label)
            let mean = try XCTUnwrap(Double(facts["mean_abs_error"] as? String ?? ""))
            XCTAssertEqual(result.meanAbsoluteError, mean, accuracy: mean * 1e-12, label)
            XCTAssertFalse(result.passed, label)
        }
    }

    func testIdenticalTensorsPassAndShapesMustAgree() throws {
        let a = try Tensor(float32: [1, .nan, .infinity, -2], shape: [2, 2])
        let same = ParityComparison.compare(a, a, atol: 0, rtol: 0)
        XCTAssertTrue(same.passed)
        XCTAssertEqual(same.maxAbsoluteError, 0)
        let reshaped = try Tensor(float32: [1, .nan, .infinity, -2], shape: [4])
        let mismatch = ParityComparison.compare(a, reshaped, atol: 1, rtol: 1)
        XCTAssertFalse(mismatch.passed)
        XCTAssertEqual(mismatch.incompatibility, "shape [2, 2] but the reference is [4]")
    }
}
