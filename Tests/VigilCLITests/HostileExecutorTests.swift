import Foundation
import VigilTestSupport
import XCTest

/// The minimal models of `Fixtures/hostile/executor` (written by `Fixtures/generate_hostile.py`;
/// its README lists what each one did before): shape arithmetic that overflows, NaN and infinite
/// ranges, negative sizes, pads, scales and repeats that would need terabytes, huge declared inputs,
/// missing or impossible opsets and a graph without outputs. Each command either fails with one
/// line naming the file and the cause, under a 256 MB heap and 10 s CPU limit, or (for the valid
/// models) succeeds.
final class HostileExecutorTests: CLITestCase {
    static let heap = 256 << 20
    let folder = Repository.fixtures.appendingPathComponent("hostile/executor")

    func path(_ name: String) -> String { folder.appendingPathComponent(name).path }

    /// Runs `vigil COMMAND MODEL ARGUMENTS…` under the limits and expects exit 1 with one line naming
    /// the model and containing `cause`.
    func assertRefused(_ command: String, _ model: String, _ arguments: [String] = [], cause: String, line: UInt = #line) throws {
        let file = path(model)
        let limited = try runVigil([command, file] + arguments.map { $0.hasSuffix(".npy") ? path($0) : $0 },
                                   heapBytes: Self.heap, cpuSeconds: 10, wallSeconds: 60)
        XCTAssertFalse(limited.timedOut, "\(command) \(model) still ran after 60 s", line: line)
        XCTAssertEqual(limited.run.status, 1, "\(command) \(model): \(limited.run.stderr)", line: line)
        XCTAssertEqual(limited.run.stderr.split(separator: "\n").count, 1, limited.run.stderr, line: line)
        XCTAssertTrue(limited.run.stderr.hasPrefix("vigil: error: \(file): "), limited.run.stderr, line: line)
        XCTAssertTrue(limited.run.stderr.contains(cause), "'\(limited.run.stderr)' should mention '\(cause)'", line: line)
    }

    func testShapeArithmeticOverflows() throws {
        let tooMany = "more elements than a 64-bit size can count"
        try assertRefused("run", "reshape_overflow.onnx", ["--input", "x_1x4.npy"], cause: tooMany)
        try assertRefused("bench", "reshape_overflow.onnx", ["--input", "x_1x4.npy", "--runs", "1"], cause: tooMany)
        try assertRefused("run", "tile_huge.onnx", ["--input", "x_2x2.npy"], cause: tooMany)
        try assertRefused("run", "matmul_2e62.onnx", cause: tooMany)
    }

    func testRangesWithoutFiniteLength() throws {
        for model in ["range_nan.onnx", "range_inf.onnx", "range_2e62.onnx"] {
            try assertRefused("run", model, cause: "has no finite length")
            try assertRefused("bench", model, ["--runs", "1"], cause: "has no finite length")
        }
    }

    func testNegativeResizeSizes() throws {
        try assertRefused("run", "resize_negative.onnx", ["--input", "x_1x1x4x4.npy"], cause: "sizes must be non-negative")
    }

    /// Pads, scales and expansions that would need terabytes fail at planning, naming the node.
    func testHugeAllocationsAreRefusedBeforehand() throws {
        for (model, input, node) in [
            ("resize_scales_huge.onnx", "x_1x1x4x4.npy", "node Resize"), ("pad_huge.onnx", "x_1x4.npy", "node Pad"),
            ("conv_pads_huge.onnx", "x_1x1x4x4.npy", "node Conv"), ("maxpool_pads_huge.onnx", "x_1x1x4x4.npy", "node MaxPool"),
            ("expand_huge.onnx", "x_1.npy", "node Expand"),
        ] {
            try assertRefused("run", model, ["--input", input], cause: "\(node) needs")
        }
        // The same under an explicit limit.
        try assertRefused("run", "pad_huge.onnx", ["--input", "x_1x4.npy", "--max-memory", "64M"], cause: "more than the limit of 64 MB")
    }

    /// `bench` makes random inputs of the declared shape: one that cannot fit is refused, not allocated.
    func testHugeDeclaredInputs() throws {
        try assertRefused("bench", "huge_input.onnx", ["--runs", "1"], cause: "does not fit in the memory limit")
        try assertRefused("bench", "matmul_2e62.onnx", ["--runs", "1"], cause: "does not fit in the memory limit")
        try assertRefused("bench", "int32_dims.onnx", ["--runs", "1", "--max-memory", "1G"], cause: "does not fit in the memory limit")
    }

    func testOpsetsAndOutputs() throws {
        try assertRefused("run", "no_opset_import.onnx", ["--input", "x_2.npy"], cause: "imports no opset for the domain 'ai.onnx'")
        try assertRefused("run", "no_opset_import.onnx", ["--no-optimize", "--input", "x_2.npy"], cause: "imports no opset")
        try assertRefused("run", "opset_2e62.onnx", ["--no-optimize", "--input", "x_2.npy"], cause: "opset 4611686018427387904 is not supported")
        try assertRefused("run", "no_outputs.onnx", ["--input", "x_2.npy"], cause: "declares no outputs")
        try assertRefused("bench", "no_outputs.onnx", ["--runs", "1"], cause: "declares no outputs")
        try assertRefused("run", "transpose_rank_mismatch.onnx", ["--input", "x_2x3.npy"], cause: "is not a permutation")
    }

    /// `vigil check` reports what it can see statically as diagnostics, and never traps.
    /// `verifier_fuzz_split_scalar.onnx` (found by the `verifier` fuzz harness in CI's 45 s run): a
    /// Split of a scalar indexed the missing axis; an axis of a rank-0 tensor is now out of range.
    func testCheckDoesNotTrap() throws {
        let split = try vigil("check", path("verifier_fuzz_split_scalar.onnx"))
        XCTAssertEqual(split.status, 1, split.stdout)
        XCTAssertTrue(split.stdout.contains("axis 0 is out of range for rank 0"), split.stdout)
        for model in ["reshape_overflow.onnx", "slice_huge.onnx", "range_nan.onnx", "verifier_fuzz_dim_overflow.onnx", "tile_huge.onnx",
                      "verifier_fuzz_split_scalar.onnx"] {
            let limited = try runVigil(["check", path(model)], heapBytes: Self.heap, cpuSeconds: 10, wallSeconds: 60)
            XCTAssertFalse(limited.timedOut, model)
            XCTAssertTrue([0, 1].contains(limited.run.status), "\(model): \(limited.run.status) \(limited.run.stderr)")
            XCTAssertTrue(limited.run.stdout.hasPrefix(path(model)), "\(model): \(limited.run.stdout.prefix(200))")
        }
    }

    /// Valid models at the edges: a zero-size batch gives a [0, 4] output; a slice with the most
    /// extreme starts, ends and steps is clamped as the ONNX spec says: numpy's
    /// `x[-2**63 : 2**63-1 : -2**63]` and `onnx.reference` give shape (0, 4) for the [4, 4] input
    /// (onnxruntime 1.22 gives (1, 4) and warns that this disagrees with the model's declared [0, 4]).
    func testValidEdgeModelsRun() throws {
        let zero = try vigil("run", path("zero_batch.onnx"), "--input", path("zero_batch_input.npy"), "--json")
        XCTAssertEqual(zero.status, 0, zero.stderr)
        let zeroOutputs = (try JSONSerialization.jsonObject(with: Data(zero.stdout.utf8)) as? [String: Any])?["outputs"] as? [[String: Any]]
        XCTAssertEqual(zeroOutputs?.first?["shape"] as? [Int], [0, 4], zero.stdout)
        let slice = try vigil("run", path("slice_huge.onnx"), "--input", path("x_4x4.npy"), "--json")
        XCTAssertEqual(slice.status, 0, slice.stderr)
        let object = try JSONSerialization.jsonObject(with: Data(slice.stdout.utf8)) as? [String: Any]
        let outputs = object?["outputs"] as? [[String: Any]]
        XCTAssertEqual(outputs?.first?["shape"] as? [Int], [0, 4], slice.stdout)
    }
}
