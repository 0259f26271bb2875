import Foundation
import VigilIR
import VigilONNX
import VigilTestSupport
import XCTest

final class OptimizeCommandTests: CLITestCase {
    func isVigilOnly(_ model: Model) -> Bool {
        model.graph.nodes.contains { $0.domain == "ai.vigil" } || model.opsetVersion(for: "ai.vigil") != nil
    }

    /// `vigil optimize` and `vigil convert` write fused ops as standard ONNX ops unless `--keep-fused-ops`.
    func testFusedOpsAreWrittenAsStandardOpsUnlessKept() throws {
        let standard = directory.appendingPathComponent("standard.onnx").path
        let result = try vigil("optimize", fixture("fused_activations"), "-o", standard)
        XCTAssertEqual(result.status, 0, result.stderr)
        let lowered = try ONNXReader.readModel(at: standard)
        XCTAssertFalse(isVigilOnly(lowered), "\(lowered.graph.opHistogram)")
        XCTAssertEqual(lowered.graph.opHistogram["Conv"], 7, "\(lowered.graph.opHistogram)")

        let kept = directory.appendingPathComponent("kept.onnx").path
        let keeping = try vigil("optimize", fixture("fused_activations"), "-o", kept, "--keep-fused-ops")
        XCTAssertEqual(keeping.status, 0, keeping.stderr)
        let fused = try ONNXReader.readModel(at: kept)
        XCTAssertEqual(fused.graph.opHistogram["FusedConv"], 7, "\(fused.graph.opHistogram)")
        XCTAssertEqual(fused.graph.opHistogram["FusedGemm"], 1, "\(fused.graph.opHistogram)")
        XCTAssertEqual(fused.opsetVersion(for: "ai.vigil"), 1)
        let check = try vigil("check", kept)
        XCTAssertEqual(check.status, 0, check.stdout + check.stderr)

        // A Vigil-only file converts back to the same standard ONNX; `convert --optimize` lowers as well.
        let converted = directory.appendingPathComponent("converted.onnx").path
        XCTAssertEqual(try vigil("convert", kept, "-o", converted).status, 0)
        XCTAssertEqual(try ONNXReader.readModel(at: converted), lowered)
        XCTAssertEqual(try vigil("convert", fixture("residual_block"), "-o", converted, "--optimize").status, 0)
        XCTAssertFalse(isVigilOnly(try ONNXReader.readModel(at: converted)))
    }
}
