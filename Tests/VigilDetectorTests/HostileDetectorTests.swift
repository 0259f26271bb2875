import Foundation
import VigilDetector
import VigilHDF5
import VigilTestSupport
import XCTest

/// Detector files Vigil did not write (Fixtures/hostile/detector, Fixtures/generate_hostile.py):
/// a valid one reads as numpy wrote it; NaN or infinite statistics, attributes that are not
/// bounded integers, huge declared datasets, external storage, external links and virtual datasets
/// are refused with one line.
final class HostileDetectorTests: XCTestCase {
    static let folder = Repository.fixtures.appendingPathComponent("hostile/detector")

    func file(_ name: String) -> String { Self.folder.appendingPathComponent(name).path }

    func assertRefused(_ name: String, _ cause: String, line: UInt = #line) {
        XCTAssertThrowsError(try DetectorFile.read(at: file(name)), line: line) { error in
            XCTAssertTrue("\(error)".hasPrefix(file(name) + ": "), "\(error)", line: line)
            XCTAssertTrue("\(error)".contains(cause), "'\(error)' should mention '\(cause)'", line: line)
            XCTAssertFalse("\(error)".contains("\n"), line: line)
        }
    }

    func testValidFileReadsAsNumpyWroteIt() throws {
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: Self.folder.appendingPathComponent("../expected.json"))) as? [String: Any])
        let expected = try XCTUnwrap(json["detector/valid"] as? [String: Any])
        func doubles(_ key: String) -> [Double] { (expected[key] as! [String]).map { Double($0)! } }
        let detector = try DetectorFile.read(at: file("valid.h5"))
        XCTAssertEqual(detector.means.flatMap { $0 }, doubles("means"))
        XCTAssertEqual(detector.spread, doubles("spread"))
        XCTAssertEqual(detector.covariance, doubles("covariance"))
        XCTAssertEqual(detector.precision, doubles("precision"))
        XCTAssertEqual(detector.ridge, Double(expected["ridge"] as! String))
        XCTAssertEqual(detector.counts, expected["counts"] as? [Int])
        XCTAssertEqual(detector.normalizedTraining?.map(Double.init), doubles("training"))
        XCTAssertEqual(detector.model?.sha256, expected["model_sha256"] as? String)
        XCTAssertEqual(detector.classifierSHA256, expected["classifier_sha256"] as? String)
        XCTAssertEqual(detector.settings.knnK, 2)
        XCTAssertEqual(detector.thresholds, ["mean_distance": 0.25, "max_softmax": -0.5])
    }

    func testNonFiniteStatisticsAreRefused() {
        assertRefused("nan_means.h5", "dataset 'means' holds NaN or infinite values")
        assertRefused("inf_precision.h5", "dataset 'precision' holds NaN or infinite values")
    }

    func testAttributesMustBeBoundedIntegers() {
        for (attribute, bound) in [("class_count", "1…1048576"), ("dimension", "1…65536"), ("knn_k", "1…5")] {
            for (label, text) in [("nan", "nan"), ("1e400", "1e400"), ("int64max", "9223372036854775807")] {
                assertRefused("\(attribute)_\(label).h5", "attribute '\(attribute)' must be an integer in \(bound), not '\(text)'")
            }
        }
    }

    func testHugeDeclaredDatasetIsRefusedBeforeAllocating() {
        assertRefused("huge_means.h5", "/means: declares [1048576, 1048576] elements (8796093022208 bytes as float64)")
    }

    func testStorageElsewhereIsRefused() {
        assertRefused("external_dev_zero.h5", "/means: keeps its elements in external files")
        assertRefused("external_passwd.h5", "/means: keeps its elements in external files")
        assertRefused("external_link.h5", "/thresholds: is an external link to another file")
        assertRefused("virtual_precision.h5", "/precision: is a virtual dataset")
    }

    func testClassifierBindingRoundTripsAndIsChecked() throws {
        let directory = try Repository.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var detector = try DetectorFile.read(at: file("valid.h5"))
        let expected = try XCTUnwrap(detector.classifierSHA256)
        detector.classifierSHA256 = String(repeating: "ab", count: 32)
        let path = directory.appendingPathComponent("d.h5").path
        try DetectorFile.write(detector, to: path)
        let loaded = try DetectorFile.read(at: path)
        XCTAssertEqual(loaded.classifierSHA256, String(repeating: "ab", count: 32))
        XCTAssertThrowsError(try loaded.verifyClassifier(sha256: expected)) { error in
            XCTAssertEqual(error as? DetectorError, .classifierMismatch(expected: String(repeating: "ab", count: 32), actual: expected))
        }
        let warning = try loaded.verifyClassifier(sha256: expected, allowMismatch: true)
        XCTAssertTrue(warning?.contains("the classifier is not the one the detector was calibrated with") ?? false, warning ?? "")
        XCTAssertNil(try loaded.verifyClassifier(sha256: String(repeating: "AB", count: 32)))
        XCTAssertNil(try loaded.verifyModel(sha256: try XCTUnwrap(loaded.model?.sha256)))
    }
}
