import Foundation
import VigilTestSupport
import XCTest

final class InspectCommandTests: CLITestCase {
    func testJSONMatchesONNXForEveryFixture() throws {
        for entry in try FixtureManifest.load().models {
            let result = try vigil("inspect", entry.url.path, "--json")
            XCTAssertEqual(result.status, 0, result.stderr)
            let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
            XCTAssertEqual(json["parameter_count"] as? Int, entry.parameter_count, entry.name)
            XCTAssertEqual(json["parameter_bytes_by_dtype"] as? [String: Int], entry.parameter_bytes_by_dtype, entry.name)
            XCTAssertEqual(json["initializer_count"] as? Int, entry.initializer_count, entry.name)
            XCTAssertEqual(json["node_count"] as? Int, entry.node_count, entry.name)
            XCTAssertEqual(json["op_histogram"] as? [String: Int], entry.op_histogram, entry.name)
            XCTAssertEqual(json["producer_name"] as? String, entry.producer_name, entry.name)
            XCTAssertEqual((json["ir_version"] as? NSNumber)?.int64Value, entry.ir_version, entry.name)
            XCTAssertEqual(json["external_data_files"] as? [String], entry.external_data_files, entry.name)
            let outputs = try XCTUnwrap(json["outputs"] as? [[String: Any]])
            XCTAssertEqual(outputs.map { $0["name"] as? String }, entry.outputs.map(\.name), entry.name)
            XCTAssertEqual(outputs.map { ($0["shape"] as? [Any])?.map { "\($0)" } }, entry.outputs.map { $0.shape?.map(\.description) }, entry.name)
            XCTAssertNotNil(json["load_seconds"] as? Double)
        }
    }

    func testTextShowsSymbolicDimsAndTotals() throws {
        let result = try vigil("inspect", fixture("cnn_embedding"))
        XCTAssertEqual(result.status, 0, result.stderr)
        let entry = try XCTUnwrap(try FixtureManifest.load().models.first { $0.name == "cnn_embedding" })
        XCTAssertTrue(result.stdout.contains("float32[N, 1, 28, 28]"), result.stdout)
        let grouped = entry.parameter_count.formatted(.number.grouping(.automatic).locale(Locale(identifier: "en_US")))
        XCTAssertTrue(result.stdout.contains("parameters   \(grouped) "), result.stdout)
        let external = try vigil("inspect", fixture("external_data"))
        XCTAssertTrue(external.stdout.contains("external data weights.bin"), external.stdout)
    }

    func testUnreadableModelsFailWithOneLine() throws {
        let garbage = directory.appendingPathComponent("garbage.onnx")
        try Data((0..<512).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }).write(to: garbage)
        assertFailure(try vigil("inspect", garbage.path), file: garbage.path, cause: "not a valid ONNX protobuf")
        let missing = directory.appendingPathComponent("missing.onnx").path
        assertFailure(try vigil("inspect", missing), file: missing, cause: "no such file")
        let original = try Data(contentsOf: URL(fileURLWithPath: fixture("residual_block")))
        let truncated = directory.appendingPathComponent("truncated.onnx")
        try original.prefix(original.count / 2).write(to: truncated)
        assertFailure(try vigil("inspect", truncated.path), file: truncated.path, cause: "truncated")
    }

    func testUsageErrorsExitTwo() throws {
        XCTAssertEqual(try vigil("inspect").status, 2)
        XCTAssertEqual(try vigil("inspect", fixture("gemm_mlp"), "--bogus").status, 2)
        XCTAssertEqual(try vigil("frobnicate").status, 2)
        let help = try vigil("inspect", "--help")
        XCTAssertEqual(help.status, 0)
        XCTAssertTrue(help.stdout.contains("USAGE"), help.stdout)
    }
}
