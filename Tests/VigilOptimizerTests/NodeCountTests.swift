import Foundation
import VigilIR
import VigilONNX
import VigilOptimizer
import VigilTestSupport
import XCTest

/// After `vigil optimize`'s pipeline, node counts are at most those after onnx-simplifier followed by
/// onnxoptimizer's default passes (recorded by Fixtures/generate_optimizer_expectations.py).
final class NodeCountTests: XCTestCase {
    func expectations(_ file: String) throws -> [String: [String: Any]] {
        let data = try Data(contentsOf: Repository.fixtures.appendingPathComponent(file))
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: [String: Any]])
    }

    func optimizedCount(_ path: String) throws -> Int {
        var model = try ONNXReader.readModel(at: path)
        try PassManager(passes: try OptimizerPipeline.passes(OptimizerPipeline.defaultPasses), context: .executor).run(on: &model)
        return model.graph.nodeCount
    }

    func bar(_ facts: [String: Any]) -> Int? {
        (facts["onnxsim+onnxoptimizer"] as? Int) ?? (facts["onnxsim"] as? Int)
    }

    func testFixturesAtMostOnnxsimPlusOnnxoptimizer() throws {
        let expected = try expectations("onnx/optimizer_node_counts.json")
        var compared = 0
        for entry in try FixtureManifest.load().models {
            guard let facts = expected[entry.name], let bar = bar(facts) else { continue }
            XCTAssertLessThanOrEqual(try optimizedCount(entry.url.path), bar, entry.name)
            compared += 1
        }
        XCTAssertGreaterThanOrEqual(compared, 12)
    }

    func testBackendModelsAtMostOnnxsimPlusOnnxoptimizer() throws {
        let data = Repository.onnxBackendData
        guard FileManager.default.fileExists(atPath: data.path) else {
            throw XCTSkip("ONNX backend test data not fetched; run scripts/fetch-onnx-backend-tests.sh")
        }
        let expected = try expectations("onnx-backend/optimizer_node_counts.json")
        var compared = 0
        for (key, facts) in expected.sorted(by: { $0.key < $1.key }) {
            guard let bar = bar(facts) else { continue }
            XCTAssertLessThanOrEqual(try optimizedCount(data.appendingPathComponent("\(key)/model.onnx").path), bar, key)
            compared += 1
        }
        XCTAssertGreaterThan(compared, 100)
    }
}
