import Foundation
import VigilTestSupport
import XCTest

/// `vigil bench` reports the documented JSON keys (speed itself is measured by benchmarks, not tests).
final class BenchCommandTests: CLITestCase {
    func testJSONKeys() throws {
        let result = try vigil("bench", fixture("cnn_embedding"), "--batch", "2", "--threads", "1", "--runs", "2", "--warmup", "1", "--json")
        XCTAssertEqual(result.status, 0, result.stderr)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(json["batch"] as? Int, 2)
        XCTAssertEqual(json["threads"] as? Int, 1)
        for key in ["median_ms", "min_ms", "throughput_per_s"] {
            XCTAssertGreaterThan(try XCTUnwrap(json[key] as? Double, key), 0, key)
        }
        XCTAssertLessThanOrEqual(try XCTUnwrap(json["min_ms"] as? Double), try XCTUnwrap(json["median_ms"] as? Double))
        XCTAssertGreaterThan(try XCTUnwrap(json["peak_rss_bytes"] as? Int), 1 << 20)
        XCTAssertEqual(try vigil("bench", fixture("cnn_embedding"), "--batch", "0").status, 2)
        // --profile lists the op types of the model as run (optimized: Conv and Gemm + Relu fused).
        let profiled = try vigil("bench", fixture("cnn_embedding"), "--runs", "1", "--warmup", "0", "--profile", "--json")
        XCTAssertEqual(profiled.status, 0, profiled.stderr)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(profiled.stdout.utf8)) as? [String: Any])
        let ops = Set(try XCTUnwrap(object["profile"] as? [[String: Any]]).compactMap { $0["op_type"] as? String })
        XCTAssertTrue(ops.isSuperset(of: ["FusedConv", "MaxPool", "FusedGemm", "Gemm"]), "\(ops)")
    }
}

extension BenchCommandTests {
    /// `--profile`: the per-op rows and the time between ops add up to the mean wall time of the profiled
    /// runs they come from, and that lies within 10% of the median latency, at batch 1 and at batch 16
    /// (each timed run is followed by a profiled one, so both see the same machine).
    func testProfileAddsUpToTheMedianLatency() throws {
        for batch in ["1", "16"] {
            let r = try vigil("bench", fixture("vgg_like"), "--batch", batch, "--threads", "1", "--runs", "40", "--warmup", "5", "--profile", "--json")
            XCTAssertEqual(r.status, 0, r.stderr)
            let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
            let rows = try XCTUnwrap(json["profile"] as? [[String: Any]]).map { try XCTUnwrap($0["ms_per_run"] as? Double) }
            let between = try XCTUnwrap(json["profile_between_ops_ms"] as? Double)
            let total = try XCTUnwrap(json["profile_total_ms"] as? Double)
            let median = try XCTUnwrap(json["median_ms"] as? Double)
            XCTAssertEqual(rows.reduce(0, +) + between, total, accuracy: total * 1e-9, "batch \(batch)")
            XCTAssertGreaterThanOrEqual(between, 0, "batch \(batch)")
            XCTAssertLessThan(between, total * 0.5, "batch \(batch): most of a run is inside the ops")
            XCTAssertEqual(total, median, accuracy: median * 0.1, "batch \(batch): profile \(total) ms against median \(median) ms")
            XCTAssertEqual(json["profile_runs_used"] as? Int, 20)
        }
        let text = try vigil("bench", fixture("vgg_like"), "--runs", "4", "--profile-nodes")
        XCTAssertTrue(text.stdout.contains("(between ops)") && text.stdout.contains("against the median latency"), text.stdout)
    }
}
