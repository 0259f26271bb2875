import Foundation
import VigilIR
import VigilONNX
import VigilTestSupport
import XCTest

/// Model facts (parameter counts, op histograms, inputs, outputs) against what the onnx Python
/// package computed for the same files (Fixtures/generate_onnx.py, Fixtures/generate_backend_expectations.py).
final class InspectStatisticsTests: XCTestCase {
    func testFixtureStatisticsMatchONNX() throws {
        for entry in try FixtureManifest.load().models {
            let model = try ONNXReader.readModel(at: entry.url.path)
            XCTAssertEqual(model.irVersion, entry.ir_version, entry.name)
            XCTAssertEqual(model.producerName, entry.producer_name, entry.name)
            XCTAssertEqual(model.opsetImports.map { FixtureManifest.Opset(domain: $0.domain, version: $0.version) }, entry.opsets, entry.name)
            XCTAssertEqual(model.graph.nodeCount, entry.node_count, entry.name)
            XCTAssertEqual(model.graph.opHistogram, entry.op_histogram, entry.name)
            XCTAssertEqual(model.parameterCount, entry.parameter_count, entry.name)
            XCTAssertEqual(
                Dictionary(uniqueKeysWithValues: model.parameterBytesByDType.map { ($0.key.rawValue, $0.value) }),
                entry.parameter_bytes_by_dtype, entry.name)
            XCTAssertEqual(model.graph.initializers.count + model.graph.sparseInitializers.count, entry.initializer_count, entry.name)
            XCTAssertEqual(model.externalDataLocations.sorted(), entry.external_data_files, entry.name)
            XCTAssertEqual(model.graph.inputs.map(\.name), entry.inputs.map(\.name), entry.name)
            for (value, expected) in zip(model.graph.inputs + model.graph.outputs, entry.inputs + entry.outputs) {
                guard case .tensor(let dtype, let shape)? = value.type else { XCTFail("\(entry.name) \(value.name)"); continue }
                XCTAssertEqual(dtype?.rawValue, expected.dtype, "\(entry.name) \(value.name)")
                XCTAssertEqual(shape?.dims.map(\.description), expected.shape?.map(\.description), "\(entry.name) \(value.name)")
            }
        }
    }

    /// Every model of the onnx 1.22.0 wheel's pytorch-converted and pytorch-operator folders.
    /// The data is fetched by scripts/fetch-onnx-backend-tests.sh, which the README's test command runs.
    func testBackendModelStatisticsMatchONNX() throws {
        let data = Repository.onnxBackendData
        guard FileManager.default.fileExists(atPath: data.path) else {
            throw XCTSkip("ONNX backend test data not fetched; run scripts/fetch-onnx-backend-tests.sh")
        }
        let json = try Data(contentsOf: Repository.fixtures.appendingPathComponent("onnx-backend/inspect_expected.json"))
        let expected = try XCTUnwrap(try JSONSerialization.jsonObject(with: json) as? [String: [String: Any]])
        XCTAssertGreaterThan(expected.count, 100)
        for (key, facts) in expected.sorted(by: { $0.key < $1.key }) {
            let model = try ONNXReader.readModel(at: data.appendingPathComponent("\(key)/model.onnx").path)
            XCTAssertEqual(model.parameterCount, facts["parameter_count"] as? Int, key)
            XCTAssertEqual(model.graph.initializers.count + model.graph.sparseInitializers.count, facts["initializer_count"] as? Int, key)
            XCTAssertEqual(model.graph.nodeCount, facts["node_count"] as? Int, key)
            XCTAssertEqual(model.graph.opHistogram, facts["op_histogram"] as? [String: Int], key)
            XCTAssertEqual(model.irVersion, Int64(facts["ir_version"] as? Int ?? -1), key)
        }
    }

    /// Every model in the backend data (node tests included) loads and round-trips.
    func testEveryBackendModelLoadsAndRoundTrips() throws {
        let data = Repository.onnxBackendData
        guard FileManager.default.fileExists(atPath: data.path) else {
            throw XCTSkip("ONNX backend test data not fetched; run scripts/fetch-onnx-backend-tests.sh")
        }
        let directory = try Repository.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var count = 0
        for folder in try FileManager.default.contentsOfDirectory(atPath: data.path).sorted() {
            let base = data.appendingPathComponent(folder)
            for test in (try? FileManager.default.contentsOfDirectory(atPath: base.path))?.sorted() ?? [] {
                let path = base.appendingPathComponent("\(test)/model.onnx").path
                guard FileManager.default.fileExists(atPath: path) else { continue }
                let model = try ONNXReader.readModel(at: path)
                let out = directory.appendingPathComponent("m.onnx").path
                try ONNXWriter.write(model, to: out)
                XCTAssertEqual(try ONNXReader.readModel(at: out), model, "\(folder)/\(test)")
                count += 1
            }
        }
        XCTAssertGreaterThan(count, 1500)
    }
}
