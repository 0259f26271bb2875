import Foundation
import VigilExecutor
import VigilIR
import VigilONNX
import VigilOps
import VigilTestSupport
import XCTest

/// Runs the ONNX backend node tests (onnx 1.22.0, fetched by `scripts/fetch-onnx-backend-tests.sh`)
/// and the newest-opset node tests generated with onnx 1.23's reference evaluator
/// (`Fixtures/onnx-node-new/node`, committed) listed in ``ConformanceManifest``: every listed test
/// must pass, and every test whose ops are all supported must be either listed or excluded with a reason.
final class ConformanceTests: XCTestCase {
    static var nodeTests: URL { Repository.onnxBackendData.appendingPathComponent("node") }
    static var newNodeTests: URL { Repository.fixtures.appendingPathComponent("onnx-node-new/node") }

    /// The folder of a node test: the backend data, or the newest-opset fixtures.
    static func folder(_ name: String) -> URL {
        let fresh = newNodeTests.appendingPathComponent(name)
        return FileManager.default.fileExists(atPath: fresh.path) ? fresh : nodeTests.appendingPathComponent(name)
    }

    /// The outcome of one node test.
    enum Outcome: Equatable {
        case pass
        case fail(String)
    }

    /// Runs one node test and compares every output at the ONNX backend defaults (rtol 1e-3, atol 1e-7).
    static func run(_ name: String) -> Outcome {
        let directory = folder(name)
        do {
            let model = try ONNXReader.readModel(at: directory.appendingPathComponent("model.onnx").path)
            let data = directory.appendingPathComponent("test_data_set_0")
            let initializers = Set(model.graph.initializerNames)
            let inputNames = model.graph.inputs.map(\.name).filter { !initializers.contains($0) }
            var feeds: [String: Tensor] = [:]
            for (i, graphName) in inputNames.enumerated() {
                let path = data.appendingPathComponent("input_\(i).pb").path
                guard FileManager.default.fileExists(atPath: path) else { continue }  // omitted optional input
                feeds[graphName] = try ONNXReader.readTensor(at: path).tensor
            }
            let session = try InferenceSession(model: model, options: .init(threads: 1))
            let results = try session.run(feeds)
            for (i, info) in model.graph.outputs.enumerated() {
                let expected = try ONNXReader.readTensor(at: data.appendingPathComponent("output_\(i).pb").path).tensor
                guard let actual = results[info.name] else { return .fail("no output \(info.name)") }
                if let problem = compare(actual, expected, atol: 1e-7, rtol: 1e-3) { return .fail("\(info.name): \(problem)") }
            }
            return .pass
        } catch {
            return .fail("\(error)")
        }
    }

    /// A description of the first mismatch, or `nil` when close.
    static func compare(_ actual: Tensor, _ expected: Tensor, atol: Double, rtol: Double) -> String? {
        guard actual.dtype == expected.dtype, actual.shape == expected.shape else {
            return "got \(actual.dtype)\(actual.shape), expected \(expected.dtype)\(expected.shape)"
        }
        if expected.dtype == .string { return actual == expected ? nil : "strings differ" }
        let a = actual.doubleValues, e = expected.doubleValues
        var failures = 0, worst = -1, worstExcess = 0.0
        for i in e.indices {
            if a[i].isNaN || e[i].isNaN {
                if a[i].isNaN != e[i].isNaN { failures += 1; worst = i; worstExcess = .infinity }
                continue
            }
            if a[i].isInfinite || e[i].isInfinite {
                if a[i] != e[i] { failures += 1; worst = i; worstExcess = .infinity }
                continue
            }
            let excess = abs(a[i] - e[i]) - (atol + rtol * abs(e[i]))
            if excess > 0 {
                failures += 1
                if excess > worstExcess || worst < 0 { worst = i; worstExcess = excess }
            }
        }
        return failures == 0 ? nil : "\(failures) of \(e.count) elements differ; worst [\(worst)]: got \(a[worst]), expected \(e[worst])"
    }

    /// Names of node tests whose ops are all supported by the executor.
    static func supportedTests() throws -> [String] {
        let names = try (FileManager.default.contentsOfDirectory(atPath: nodeTests.path)
            + FileManager.default.contentsOfDirectory(atPath: newNodeTests.path)).sorted()
        return names.filter { name in
            guard let model = try? ONNXReader.readModel(at: folder(name).appendingPathComponent("model.onnx").path)
            else { return false }
            return InferenceSession.unsupportedOps(in: model).isEmpty
        }
    }

    func requireData() throws {
        guard FileManager.default.fileExists(atPath: Self.nodeTests.path) else {
            throw XCTSkip("ONNX node tests not fetched; run scripts/fetch-onnx-backend-tests.sh")
        }
    }

    func testListedNodeTestsPass() throws {
        try requireData()
        for name in ConformanceManifest.passing {
            if case .fail(let reason) = Self.run(name) { XCTFail("\(name) regressed: \(reason)") }
        }
    }

    func testEverySupportedNodeTestIsListedOrExcluded() throws {
        try requireData()
        let listed = Set(ConformanceManifest.passing).union(ConformanceManifest.excluded.keys)
        var unlisted: [String] = []
        for name in try Self.supportedTests() where !listed.contains(name) {
            unlisted.append("\(name): \(Self.run(name) == .pass ? "passes — add it to ConformanceManifest.passing" : "fails — fix or exclude with a reason")")
        }
        XCTAssertTrue(unlisted.isEmpty, "node tests missing from ConformanceManifest:\n" + unlisted.joined(separator: "\n"))
        if ProcessInfo.processInfo.environment["VIGIL_CONFORMANCE_REPORT"] != nil {
            for name in try Self.supportedTests() { print("CONFORMANCE \(name) \(Self.run(name))") }
        }
    }
}
