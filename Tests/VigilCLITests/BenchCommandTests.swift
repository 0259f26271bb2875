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
