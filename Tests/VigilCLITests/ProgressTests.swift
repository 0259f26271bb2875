import Foundation
import VigilTestSupport
import XCTest

@testable import VigilCLI

/// Progress on stderr: a bar with count, rate and ETA on a terminal, occasional plain lines otherwise,
/// nothing with --quiet or --json.
final class ProgressTests: CLITestCase {
    private var printed: [String] = []
    private var now = 0.0

    override func setUpWithError() throws {
        try super.setUpWithError()
        printed = []
        now = 0
        Progress.sink = { [unowned self] in printed.append($0) }
        Progress.clock = { [unowned self] in now }
    }

    override func tearDownWithError() throws {
        Progress.style = .off
        Progress.sink = { FileHandle.standardError.write(Data($0.utf8)) }
        Progress.clock = { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
        try super.tearDownWithError()
    }

    func testStyleFollowsFlagsEnvironmentAndTerminal() {
        XCTAssertEqual(Progress.resolve(quiet: true, json: false, environment: [:], terminal: true), .off)
        XCTAssertEqual(Progress.resolve(quiet: false, json: true, environment: ["VIGIL_PROGRESS": "bar"], terminal: true), .off)
        XCTAssertEqual(Progress.resolve(quiet: false, json: false, environment: [:], terminal: true), .bar)
        XCTAssertEqual(Progress.resolve(quiet: false, json: false, environment: [:], terminal: false), .lines(delay: 1, interval: 5))
        XCTAssertEqual(Progress.resolve(quiet: false, json: false, environment: ["VIGIL_PROGRESS": "off"], terminal: true), .off)
        XCTAssertEqual(Progress.resolve(quiet: false, json: false, environment: ["VIGIL_PROGRESS": "lines:0"], terminal: true), .lines(delay: 0, interval: 0))
        XCTAssertEqual(Progress.resolve(quiet: false, json: false, environment: ["VIGIL_PROGRESS": "bar"], terminal: false), .bar)
    }

    /// The bar is redrawn in place with count, rate and ETA, not before 0.1 s, and ends with its total and a newline.
    func testBarShowsCountRateAndETA() {
        Progress.style = .bar
        let progress = Progress("embedding", total: 1000, unit: "images")
        now = 0.05
        progress.update(100)
        XCTAssertTrue(printed.isEmpty, "nothing within the first 0.1 s: \(printed)")
        now = 0.5
        progress.update(250)
        XCTAssertEqual(printed.count, 1)
        XCTAssertTrue(printed[0].hasPrefix("\r\u{1B}[2Kembedding [██████··················] 250/1,000 images"), printed[0])
        XCTAssertTrue(printed[0].contains("500/s") && printed[0].contains("ETA 0:02"), printed[0])
        now = 0.55
        progress.update(260)
        XCTAssertEqual(printed.count, 1, "redrawn at most every 0.1 s")
        now = 2
        progress.update(1000)
        progress.finish()
        XCTAssertTrue(printed.last!.hasSuffix("1,000 images in 2.0 s (500/s)\n"), printed.last!)
        XCTAssertFalse(printed.dropLast().contains { $0.contains("\n") }, "only the last draw ends the line")
    }

    /// Plain lines: the first after a second, then one every 5 s, a last line with the total.
    func testLinesAreOccasional() {
        Progress.style = .lines(delay: 1, interval: 5)
        let progress = Progress("timing m.onnx at batch 1", total: 100, unit: "runs")
        for step in 1...99 {
            now = Double(step) / 10
            progress.update(step)
        }
        XCTAssertEqual(printed, ["timing m.onnx at batch 1: 10/100 runs (10%), 10.0/s, ETA 0:09\n",
                                 "timing m.onnx at batch 1: 60/100 runs (60%), 10.0/s, ETA 0:04\n"])
        now = 10
        progress.update(100)
        progress.finish()
        XCTAssertEqual(printed.last, "timing m.onnx at batch 1: 100 runs in 10.0 s (10.0/s)\n")
        XCTAssertEqual(printed.count, 3)
    }

    func testShortWorkAndOffPrintNothing() {
        Progress.style = .lines(delay: 1, interval: 5)
        let quick = Progress("quick", total: 10)
        now = 0.5
        quick.update(10)
        quick.finish()
        Progress.style = .off
        let silent = Progress("silent", total: 10)
        now = 100
        silent.update(5)
        silent.finish()
        XCTAssertEqual(printed, [])
    }

    /// Through the binary: lines with counts on stderr, and nothing with --quiet or --json.
    func testCommandsReportProgressUnlessQuietOrJSON() throws {
        let model = fixture("vgg_like")
        let lines = try runVigil(["bench", model, "--runs", "5", "--warmup", "1", "--threads", "1"], environment: ["VIGIL_PROGRESS": "lines:0"])
        XCTAssertEqual(lines.status, 0, lines.stderr)
        XCTAssertTrue(lines.stderr.contains("timing \(model) at batch 1: 1/6 runs (16%)"), lines.stderr)
        XCTAssertTrue(lines.stderr.contains("timing \(model) at batch 1: 6 runs in "), lines.stderr)
        XCTAssertTrue(lines.stderr.contains("reading \(model)"), lines.stderr)
        for flag in ["--quiet", "-q", "--json"] {
            let quiet = try runVigil(["bench", model, "--runs", "5", "--warmup", "1", "--threads", "1", flag], environment: ["VIGIL_PROGRESS": "lines:0"])
            XCTAssertEqual(quiet.status, 0, quiet.stderr)
            XCTAssertEqual(quiet.stderr, "", flag)
        }
        let detector = Repository.root.appendingPathComponent("Fixtures/detector")
        let fit = try runVigil(["detect", "fit", detector.appendingPathComponent("embedding.onnx").path,
                                "--data", detector.appendingPathComponent("val_images.npy").path,
                                "--labels", detector.appendingPathComponent("val_labels.npy").path,
                                "-o", directory.appendingPathComponent("d.h5").path], environment: ["VIGIL_PROGRESS": "lines:0"])
        XCTAssertEqual(fit.status, 0, fit.stderr)
        XCTAssertTrue(fit.stderr.contains("embedding: 256/500 images (51%)"), fit.stderr)
        XCTAssertTrue(fit.stderr.contains("embedding: 500 images in "), fit.stderr)
    }
}
