import Foundation
import VigilDetector
import VigilTestSupport
import XCTest

/// The HTML report of `detect evaluate --html`: labelled axes with ticks, AUROC and FPR@95 in the
/// legends, the calibrated thresholds drawn, a colour-blind-safe palette with a line style per set,
/// no silent clipping, provenance, one sortable table per scorer; one file that fetches nothing.
final class DetectReportTests: XCTestCase {
    func testReportShowsWhatItMeasuredAndWhereItCameFrom() throws {
        guard FileManager.default.isExecutableFile(atPath: Repository.vigilBinary.path) else { throw XCTSkip("the vigil binary is not built") }
        let directory = try Repository.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        func fixture(_ name: String) -> String { DetectorFixtures.path(name) }
        let detector = directory.appendingPathComponent("d.h5").path, report = directory.appendingPathComponent("r.html").path
        XCTAssertEqual(try runVigil(["detect", "fit", fixture("embedding.onnx"), "--data", fixture("train_images.npy"), "--labels",
                                     fixture("train_labels.npy"), "--val", fixture("val_images.npy"), "-o", detector]).status, 0)
        let r = try runVigil(["detect", "evaluate", detector, fixture("embedding.onnx"), "--data", fixture("test_images.npy"),
                              "--novelty", fixture("novelty_images.npy"), "--anomaly", "gaussian=\(fixture("gaussian_images.npy"))",
                              "--anomaly", fixture("photos_images.npy"), "--html", report])
        XCTAssertEqual(r.status, 0, r.stderr)
        let html = try String(contentsOfFile: report, encoding: .utf8)
        assertSelfContained(html)
        // Axes: labels and ticks on both ROC axes and on the histograms.
        for label in ["FPR: fraction of the OOD set accepted", "TPR: fraction of in-distribution accepted",
                      "score (higher = more out-of-distribution)", "fraction of the set per bin"] {
            XCTAssertEqual(html.components(separatedBy: ">\(label)</text>").count - 1, 3, label)
        }
        for tick in ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"] { XCTAssertTrue(html.contains("text-anchor=\"middle\">\(tick)</text>"), tick) }
        // Legends: AUROC and FPR@95 of every set and scorer, equal to the metrics table.
        XCTAssertEqual(html.components(separatedBy: "<th class=\"num\">AUROC</th><th class=\"num\">FPR@95</th>").count - 1, 3)
        for set in ["novelty", "gaussian", "photos_images"] {
            XCTAssertEqual(html.components(separatedBy: "<b>\(set)</b></td><td class=\"num\">0.").count - 1, 3, set)
        }
        XCTAssertTrue(html.contains("<b>novelty</b></td><td class=\"num\">0.9306</td><td class=\"num\">0.4320</td>"),
                      "mean_distance on novelty, as in the README")
        // Thresholds: a line on each histogram, a marker on each ROC curve.
        XCTAssertEqual(html.components(separatedBy: "class=\"note\">threshold ").count - 1, 3)
        XCTAssertEqual(html.components(separatedBy: "<circle ").count - 1, 3 * 3)
        // Okabe–Ito colours, and distinct dash patterns per series.
        for color in ["#0072B2", "#D55E00", "#009E73", "#CC79A7"] { XCTAssertTrue(html.contains("stroke=\"\(color)\""), color) }
        let dashes = Set(html.components(separatedBy: "stroke-dasharray=\"").dropFirst().map { $0.prefix { $0 != "\"" } })
        XCTAssertGreaterThanOrEqual(dashes.count, 3, "\(dashes)")
        // Every histogram says what range it spans; none is clipped silently.
        XCTAssertEqual(html.components(separatedBy: "spanning every score").count - 1 + html.components(separatedBy: "counted in the shaded end bins").count - 1, 3)
        // Provenance: version, files with their SHA-256, the preprocessing rule, set sizes.
        XCTAssertTrue(html.contains("Vigil 0.1.0 on "))
        XCTAssertTrue(html.contains(try SHA256.hex(fileAt: fixture("embedding.onnx"))))
        XCTAssertTrue(html.contains(try SHA256.hex(fileAt: detector)))
        XCTAssertTrue(html.contains("uint8 x · 1/255, float32 x unchanged"))
        XCTAssertTrue(html.contains("novelty set (1,000 images)"))
        // Tables: one overall and one per scorer, sortable.
        XCTAssertEqual(html.components(separatedBy: "<table class=\"sortable metrics\">").count - 1, 1 + 3)
        XCTAssertTrue(html.contains("table.sortable") && html.contains("aria-sort"))
    }
}
