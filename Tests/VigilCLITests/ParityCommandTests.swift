import Foundation
import VigilIR
import VigilNumpy
import VigilONNX
import VigilTestSupport
import XCTest

/// `vigil parity` end to end against onnxruntime's recorded outputs.
final class ParityCommandTests: CLITestCase {
    /// Every fixture with a reference passes at atol 1e-5, rtol 1e-4 (the executor acceptance bar),
    /// except models using ops the executor does not support yet, which must fail by naming them.
    func testEveryFixturePassesAgainstOnnxruntime() throws {
        for entry in try FixtureManifest.load().models where entry.has_reference {
            let result = try vigil("parity", entry.url.path, "--reference", entry.testDataSet.path, "--atol", "1e-5", "--rtol", "1e-4", "--json")
            if result.status == 1 && result.stderr.contains("unsupported ops") {
                XCTAssertEqual(entry.name, "control_flow_if", "only If is expected to be unsupported: \(result.stderr)")
                continue
            }
            XCTAssertEqual(result.status, 0, "\(entry.name): \(result.stdout) \(result.stderr)")
            let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], entry.name)
            XCTAssertEqual(json["passed"] as? Bool, true, entry.name)
            XCTAssertEqual((json["outputs"] as? [Any])?.count, entry.outputs.count, entry.name)
        }
    }

    /// `--no-winograd` computes the VGG-like net's 3×3 convolutions directly; it passes as well.
    func testVGGPassesWithAndWithoutWinograd() throws {
        let entry = try XCTUnwrap(try FixtureManifest.load().models.first { $0.name == "vgg_like" })
        for flags in [[], ["--no-winograd"]] {
            let result = try vigil(["parity", entry.url.path, "--reference", entry.testDataSet.path, "--atol", "1e-5", "--rtol", "1e-4"] + flags)
            XCTAssertEqual(result.status, 0, "\(flags): \(result.stdout) \(result.stderr)")
        }
    }

    func testMismatchFailsAndLayerwiseNamesTheFirstDivergingNode() throws {
        let entry = try XCTUnwrap(try FixtureManifest.load().models.first { $0.name == "conv_bn_relu" })
        // Perturb the reference: the output no longer matches, exit 1, JUnit records the failure.
        let expected = try ONNXReader.readTensor(at: entry.testDataSet.appendingPathComponent("output_0.pb").path).tensor
        var values = expected.scalars(as: Float.self)
        values[7] += 0.5
        let reference = directory.appendingPathComponent("ref.npz").path
        let input = try ONNXReader.readTensor(at: entry.testDataSet.appendingPathComponent("input_0.pb").path).tensor
        try NPZ.write([("X", input), ("Y", try Tensor(float32: values, shape: expected.shape))], to: reference)
        let junit = directory.appendingPathComponent("parity.xml").path
        let result = try vigil("parity", entry.url.path, "--reference", reference, "--junit", junit)
        XCTAssertEqual(result.status, 1, result.stdout + result.stderr)
        XCTAssertTrue(result.stdout.contains("FAIL: 1 of 1 outputs outside tolerance"), result.stdout)
        XCTAssertTrue(result.stdout.contains("worst element [7]"), result.stdout)
        let xml = try String(contentsOfFile: junit, encoding: .utf8)
        XCTAssertTrue(xml.contains("failures=\"1\"") && xml.contains("1 of 512 elements outside"), xml)

        // Layerwise: a reference whose first intermediate is wrong names that node.
        let model = try ONNXReader.readModel(at: entry.url.path)
        let first = model.graph.nodes[0]
        let good = try vigil("parity", entry.url.path, "--reference", entry.testDataSet.path, "--layerwise", reference)
        XCTAssertEqual(good.status, 1, "the perturbed Y is also an intermediate: \(good.stdout)")
        let bogus = directory.appendingPathComponent("layers.npz").path
        let shape = [1, 8, 16, 16]
        try NPZ.write([(first.outputs[0], try Tensor(float32: [Float](repeating: 3, count: shape.reduce(1, *)), shape: shape))], to: bogus)
        let layered = try vigil("parity", entry.url.path, "--reference", entry.testDataSet.path, "--layerwise", bogus)
        XCTAssertEqual(layered.status, 1, layered.stdout + layered.stderr)
        XCTAssertTrue(layered.stdout.contains("first divergence: node #0 '\(first.name)' (\(first.opType))"), layered.stdout)
    }
}

extension ParityCommandTests {
    /// `--junit` writes a report whatever happens: a model with an unsupported op, a model that cannot be
    /// read and a missing reference are each one failing test case carrying the one-line message.
    func testJUnitIsWrittenWhenTheModelCannotBeLoadedOrRun() throws {
        let entry = try XCTUnwrap(try FixtureManifest.load().models.first { $0.name == "control_flow_if" })
        let truncated = directory.appendingPathComponent("cut.onnx")
        let bytes = try Data(contentsOf: entry.url)
        try bytes.prefix(bytes.count / 2).write(to: truncated)
        let cases: [(model: String, reference: String, message: String)] = [
            (entry.url.path, entry.testDataSet.path, "unsupported ops"),
            (truncated.path, entry.testDataSet.path, "truncated"),
            (fixture("conv_bn_relu"), directory.appendingPathComponent("nowhere").path, "no such file or folder"),
        ]
        for (index, item) in cases.enumerated() {
            let junit = directory.appendingPathComponent("report\(index).xml").path
            let r = try vigil("parity", item.model, "--reference", item.reference, "--junit", junit)
            XCTAssertEqual(r.status, 1, r.stdout + r.stderr)
            XCTAssertEqual(r.stderrLines.count, 1, r.stderr)
            let xml = try String(contentsOfFile: junit, encoding: .utf8)
            XCTAssertTrue(xml.contains("tests=\"1\" failures=\"1\""), xml)
            let message = String(r.stderr.dropFirst("vigil: error: ".count).dropLast())
            XCTAssertTrue(xml.contains("<failure message=\"\(message.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;"))\"/>"), xml)
            XCTAssertTrue(xml.contains(item.message), xml)
            XCTAssertTrue(xml.contains("name=\"load and run "), xml)
        }
    }
}
