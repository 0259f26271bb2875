import Foundation
import VigilIR
import VigilONNX
import VigilTestSupport
import XCTest

/// No input under 1 MB makes `vigil` use more than 256 MB of heap or 10 s of CPU before it fails:
/// one case per reader, run under those limits (RLIMIT_DATA, RLIMIT_CPU) and a wall-clock guard.
final class ResourceLimitTests: CLITestCase {
    static let heap = 256 << 20
    let hostile = Repository.fixtures.appendingPathComponent("hostile")

    func hostile(_ name: String) -> String { hostile.appendingPathComponent(name).path }

    /// Runs under the limits; returns what happened. Exit 1 with one line naming `file`, or `status`.
    /// `vigil check` reports a file it cannot read as a diagnostic on stdout instead.
    @discardableResult
    func assertBounded(_ arguments: [String], file: String, cause: String? = nil, status: Int32 = 1, cpuSeconds: Int = 10,
                       line: UInt = #line) throws -> LimitedRun {
        if arguments.first == "check" {
            return try assertChecked(arguments, file: file, cause: cause, status: status, cpuSeconds: cpuSeconds, line: line)
        }
        let size = (try? FileManager.default.attributesOfItem(atPath: file)[.size] as? Int) ?? 0
        let limited = try runVigil(arguments, heapBytes: Self.heap, cpuSeconds: cpuSeconds, wallSeconds: 60)
        XCTAssertFalse(limited.timedOut, "\(arguments) still ran after 60 s", line: line)
        XCTAssertEqual(limited.run.status, status, "\(arguments): \(limited.run.stderr) / \(limited.run.stdout.prefix(300))", line: line)
        if status == 1 {
            XCTAssertEqual(limited.run.stderrLines.count, 1, limited.run.stderr, line: line)
            XCTAssertTrue(limited.run.stderr.hasPrefix("vigil: error: \(file)"), limited.run.stderr, line: line)
            if let cause { XCTAssertTrue(limited.run.stderr.contains(cause), "'\(limited.run.stderr)' should mention '\(cause)'", line: line) }
        }
        if file.hasPrefix(hostile.path) { XCTAssertLessThan(size, 1 << 20, "\(file) is not a small input", line: line) }
        return limited
    }

    func testNumpyInputs() throws {
        let model = fixture("gemm_mlp")
        for name in ["npy/overflow_dims.npy", "npy/huge_declared.npy", "npz/zip_bomb.npz"] {
            try assertBounded(["run", model, "--input", hostile(name)], file: hostile(name))
        }
    }

    func testKerasInputs() throws {
        for name in ["keras/zip_bomb.keras", "keras/ratio_lie.keras", "keras/huge_dataset.h5", "keras/deep_groups.h5", "keras/hard_link_cycle.h5"] {
            try assertBounded(["inspect", hostile(name)], file: hostile(name))
        }
        let weights = Repository.fixtures.appendingPathComponent("keras/dense_mlp/model.weights.h5").path
        try assertBounded(["inspect", weights, "--config", hostile("keras/layer_cycle.json")], file: weights, cause: "is never computed")
    }

    func testDetectorInput() throws {
        let detector = hostile("detector/huge_means.h5")
        try assertBounded(["detect", "score", detector, Repository.fixtures.appendingPathComponent("detector/embedding.onnx").path,
                           "--data", Repository.fixtures.appendingPathComponent("detector/val_images.npy").path], file: detector, cause: "declares")
    }

    /// ONNX: a 2^40-element claim, a graph with a cycle, 100,000 nodes, and external data that is a FIFO.
    func testONNXInputs() throws {
        var wire = ProtoWire()
        wire.int(ONNXField.Model.irVersion, 8)
        wire.message(ONNXField.Model.opsetImport) { $0.int(ONNXField.Opset.version, 17) }
        wire.message(ONNXField.Model.graph) { graph in
            graph.message(ONNXField.Graph.initializer) { tensor in
                tensor.int(ONNXField.Tensor.dims, 1 << 20)
                tensor.int(ONNXField.Tensor.dims, 1 << 20)
                tensor.int(ONNXField.Tensor.dataType, 1)
                tensor.string(ONNXField.Tensor.name, "huge")
            }
        }
        let claim = directory.appendingPathComponent("claim.onnx").path
        try Data(wire.bytes).write(to: URL(fileURLWithPath: claim))
        try assertBounded(["inspect", claim], file: claim)

        let cycle = try writeModel("cycle.onnx", nodes: [("Add", ["x", "b"], "a"), ("Relu", ["a"], "b")], output: "b")
        try assertBounded(["check", cycle], file: cycle, cause: "cycle", status: 1)
        try assertBounded(["run", cycle, "--input", Repository.fixtures.appendingPathComponent("hostile/executor/x_2.npy").path],
                          file: cycle, cause: "the graph has a cycle through")

        // 2.4 MB, past the 1 MB of the claim above: the point is that nothing recurses 100,000 deep, so it gets
        // 30 s of CPU (this debug build checks it in 4 s on a Zen 5 core, a slow CI core took more than 10 s;
        // the release build 1.6 s).
        let chain = (0..<100_000).map { ("Relu", [$0 == 0 ? "x" : "v\($0 - 1)"], "v\($0)") }
        let long = try writeModel("long.onnx", nodes: chain, output: "v99999")
        try assertBounded(["inspect", long], file: long, status: 0, cpuSeconds: 30)
        try assertBounded(["check", long], file: long, status: 0, cpuSeconds: 30)
    }

    func testFIFOAsExternalDataDoesNotBlock() throws {
        let folder = directory.appendingPathComponent("fifo")
        try FileManager.default.copyItem(at: Repository.onnxFixtures.appendingPathComponent("external_data"), to: folder)
        let data = folder.appendingPathComponent("weights.bin").path
        try FileManager.default.removeItem(atPath: data)
        XCTAssertEqual(mkfifo(data, 0o644), 0)
        let model = folder.appendingPathComponent("model.onnx").path
        for command in ["inspect", "check"] {
            try assertBounded([command, model], file: model, cause: "external data file 'weights.bin': not a regular file")
        }
    }

    func assertChecked(_ arguments: [String], file: String, cause: String?, status: Int32, cpuSeconds: Int, line: UInt) throws -> LimitedRun {
        let limited = try runVigil(arguments, heapBytes: Self.heap, cpuSeconds: cpuSeconds, wallSeconds: 60)
        XCTAssertFalse(limited.timedOut, "\(arguments) still ran after 60 s", line: line)
        XCTAssertEqual(limited.run.status, status, "\(arguments): \(limited.run.stdout.prefix(500))", line: line)
        XCTAssertEqual(limited.run.stderr, "", line: line)
        if let cause { XCTAssertTrue(limited.run.stdout.contains("\(file): error[") && limited.run.stdout.contains(cause), limited.run.stdout, line: line) }
        return limited
    }

    /// A graph of single-input nodes over a [2] float input `x`.
    func writeModel(_ name: String, nodes: [(String, [String], String)], output: String) throws -> String {
        var wire = ProtoWire()
        wire.int(ONNXField.Model.irVersion, 8)
        wire.message(ONNXField.Model.opsetImport) { $0.int(ONNXField.Opset.version, 17) }
        wire.message(ONNXField.Model.graph) { graph in
            graph.string(ONNXField.Graph.name, "g")
            for (op, inputs, out) in nodes {
                graph.message(ONNXField.Graph.node) { node in
                    for input in inputs { node.string(ONNXField.Node.input, input) }
                    node.string(ONNXField.Node.output, out)
                    node.string(ONNXField.Node.opType, op)
                }
            }
            for (field, value) in [(ONNXField.Graph.input, "x"), (ONNXField.Graph.output, output)] {
                graph.message(field) { info in
                    info.string(1, value)
                    info.message(2) { type in
                        type.message(1) { tensor in
                            tensor.int(1, 1)
                            tensor.message(2) { shape in shape.message(1) { $0.int(1, 2) } }
                        }
                    }
                }
            }
        }
        let path = directory.appendingPathComponent(name).path
        try Data(wire.bytes).write(to: URL(fileURLWithPath: path))
        return path
    }
}
