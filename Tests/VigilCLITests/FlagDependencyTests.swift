import Foundation
import VigilIR
import VigilNumpy
import VigilONNX
import VigilTestSupport
import XCTest

/// Flags that only make sense with another flag are usage errors (exit 2) without it; `--input` of
/// `optimize` and `convert` is checked against the model (exit 1 naming the file) and then used.
final class FlagDependencyTests: CLITestCase {
    func assertUsage(_ arguments: [String], mentions text: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let r = try vigil(arguments)
        XCTAssertEqual(r.status, 2, "\(arguments): \(r.stdout) \(r.stderr)", file: file, line: line)
        XCTAssertTrue(r.stderr.hasPrefix("vigil: error: ") && r.stderr.contains(text), "'\(r.stderr)' should mention '\(text)'", file: file, line: line)
    }

    func testDependentFlagsWithoutTheirFlagAreUsageErrors() throws {
        let model = fixture("conv_bn_relu"), out = directory.appendingPathComponent("out.onnx").path
        try assertUsage(["convert", model, "-o", out, "--passes", "fold-batchnorm"], mentions: "--passes needs --optimize")
        try assertUsage(["convert", model, "-o", out, "--stop-after", "2"], mentions: "--stop-after needs --optimize")
        try assertUsage(["convert", model, "-o", out, "--print-after", "cse"], mentions: "--print-after needs --optimize")
        try assertUsage(["convert", model, "-o", out, "--input", "x.npy"], mentions: "--input needs --optimize or --weights fp16")
        try assertUsage(["parity", model, "--reference", "r.npz", "--html", "p.html"], mentions: "--html needs --layerwise")
        try assertUsage(["optimize", model, "-o", out, "--passes", "cse", "--print-after", "fold-batchnorm"],
                        mentions: "--print-after fold-batchnorm names a pass that --passes does not run")
        try assertUsage(["inspect", model, "--config", "config.json"], mentions: "--config is for Keras weights files")
        let fit = ["detect", "fit", "m.onnx", "--data", "x.npy", "--labels", "y.npy", "-o", "d.h5"]
        try assertUsage(fit + ["--val", "v.npy", "--val-fraction", "0.2"], mentions: "--val-fraction and --val exclude each other")
        try assertUsage(fit + ["--val-fraction", "0", "--tpr", "0.9"], mentions: "--tpr needs validation data")
        try assertUsage(fit + ["--val-fraction", "0", "--classifier", "c.onnx"], mentions: "--classifier needs validation data")
        try assertUsage(fit + ["--mean", "0.5,0.5", "--std", "1,2,3"], mentions: "--mean has 2 values and --std 3")
        try assertUsage(fit + ["--scale", "0"], mentions: "--scale must be positive")
        try assertUsage(fit + ["--std", "0"], mentions: "--std values must be positive")
        try assertUsage(["detect", "metrics", "--data", "a.npy"], mentions: "give at least one --novelty or --anomaly")
        try assertUsage(["detect", "evaluate", "d.h5", "m.onnx", "--data", "a.npy", "--anomaly", "b.npy", "--anomaly", "b.npy"],
                        mentions: "the set name 'b' is used twice")
        // With their flag, the same flags are accepted.
        let optimized = try vigil("convert", model, "-o", out, "--optimize", "--passes", "fold-batchnorm")
        XCTAssertEqual(optimized.status, 0, optimized.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory.appendingPathComponent("p.html").path))
    }

    /// `optimize --input` must fit the model: wrong shape, type or name is exit 1 naming the file; a fitting
    /// input measures the optimized model against the original.
    func testOptimizeInputIsCheckedAgainstTheModel() throws {
        let model = fixture("conv_bn_relu"), out = directory.appendingPathComponent("out.onnx").path
        let original = try ONNXReader.readModel(at: model)
        guard case .tensor(_, let shape?)? = original.graph.runtimeInputs[0].type else { return XCTFail("no input shape") }
        let sizes = shape.dims.map { $0.value ?? 1 }
        func npy(_ name: String, _ tensor: Tensor) throws -> String {
            let path = directory.appendingPathComponent(name).path
            try NPY.write(tensor, to: path)
            return path
        }
        let count = sizes.reduce(1, *)
        let good = try npy("good.npy", try Tensor(float32: (0..<count).map { Float($0 % 17) / 17 }, shape: sizes))
        let wrongRank = try npy("rank.npy", try Tensor(float32: [Float](repeating: 0, count: count), shape: Array(sizes.dropFirst()) + [sizes[0]] + [1]))
        var smaller = sizes
        smaller[smaller.count - 1] += 1
        let wrongSize = try npy("size.npy", try Tensor(float32: [Float](repeating: 0, count: smaller.reduce(1, *)), shape: smaller))
        let wrongType = try npy("type.npy", try Tensor(int64: [Int64](repeating: 0, count: count), shape: sizes))

        for bad in [wrongSize, wrongType, wrongRank] {
            let r = try vigil("optimize", model, "--input", bad, "-o", out)
            assertFailure(r, file: bad, cause: "the model cannot take it as input")
            XCTAssertFalse(FileManager.default.fileExists(atPath: out))
        }
        let named = try vigil("optimize", model, "--input", "nope=\(good)", "-o", out)
        assertFailure(named, file: good, cause: "the model has no input named 'nope'")
        let ok = try vigil("optimize", model, "--input", good, "-o", out, "--json")
        XCTAssertEqual(ok.status, 0, ok.stderr)
        let json = try JSONSerialization.jsonObject(with: Data(ok.stdout.utf8)) as? [String: Any]
        let deviations = try XCTUnwrap(json?["deviations"] as? [[String: Any]])
        XCTAssertEqual(deviations.count, original.graph.outputs.count)
        // Folding BatchNorm moves outputs by float rounding only.
        for d in deviations { XCTAssertLessThan(try XCTUnwrap(d["max_abs"] as? Double), 1e-3, "\(d)") }
        let text = try vigil("optimize", model, "--input", good, "-o", out)
        XCTAssertTrue(text.stdout.contains("against the original on \(good): max abs deviation"), text.stdout)
    }
}
