import Foundation
import VigilExecutor
import VigilIR
import VigilNumpy
import VigilONNX
import VigilTestSupport
import XCTest

@testable import VigilCLI

/// The graph view: `inspect --html` draws every node with its op type, shapes on the edges, initializer
/// sizes and check diagnostics; `parity --layerwise --html` colours nodes by error and marks the first
/// diverging one. Each page is one file that fetches nothing.
final class GraphPageTests: CLITestCase {
    func page(_ arguments: [String]) throws -> String {
        let path = directory.appendingPathComponent("page.html").path
        let r = try vigil(arguments + ["--html", path])
        XCTAssertTrue(r.status == 0 || arguments.first == "parity", r.stderr)
        let html = try String(contentsOfFile: path, encoding: .utf8)
        XCTAssertTrue(html.hasPrefix("<!DOCTYPE html>"))
        assertSelfContained(html)
        return html
    }

    func testInspectDrawsNodesShapesAndInitializers() throws {
        let html = try page(["inspect", fixture("residual_block")])
        let model = try ONNXReader.readModel(at: fixture("residual_block"))
        XCTAssertEqual(html.components(separatedBy: "<g class=\"box node").count - 1, model.graph.nodeCount)
        XCTAssertEqual(html.components(separatedBy: "<g class=\"box input").count - 1, 1)
        XCTAssertEqual(html.components(separatedBy: "<g class=\"box output").count - 1, 1)
        for node in model.graph.nodes { XCTAssertTrue(html.contains(">\(node.opType)</text>"), node.opType) }
        XCTAssertTrue(html.contains("class=\"shape\">1×8×8×8</text>"), "inferred shapes on the edges")
        XCTAssertTrue(html.contains("conv1_W 8×8×3×3 · 2.2 KiB"), "initializer shapes and sizes")
        // The residual Add has two incoming edges: one from conv2, one skipping from the input.
        XCTAssertEqual(html.components(separatedBy: "class=\"edge\"").count - 1, model.graph.nodeCount + 2)
    }

    func testInspectMarksCheckDiagnosticsOnTheirNodes() throws {
        let malformed = Repository.root.appendingPathComponent("Fixtures/malformed/add_type_mismatch.onnx").path
        let html = try page(["inspect", malformed])
        XCTAssertTrue(html.contains("<g class=\"box node diag-error\""), "the node with the error is marked")
        XCTAssertTrue(html.contains("error V200: input 1 ('B') has type int64"), html)
        XCTAssertTrue(html.contains("vigil check: 1 error"), "the summary counts it")
    }

    /// A reference whose third intermediate is off: that node is the first divergence, coloured as failing.
    func testParityColoursNodesAndMarksTheFirstDivergence() throws {
        let entry = try XCTUnwrap(try FixtureManifest.load().models.first { $0.name == "conv_bn_relu" })
        var model = try ONNXReader.readModel(at: entry.url.path)
        try model.graph.sortTopologically()
        let nodes = model.graph.nodes
        // Reference intermediates from Vigil's own run of the graph as given, the third one perturbed.
        let input = try ONNXReader.readTensor(at: entry.testDataSet.appendingPathComponent("input_0.pb").path).tensor
        let session = try InferenceSession(model: model, options: .init(threads: 1)).runCapturingIntermediates(["X": input])
        var arrays: [(name: String, tensor: Tensor)] = []
        for (index, node) in nodes.enumerated() {
            guard let value = session[node.outputs[0]] else { continue }
            var values = value.scalars(as: Float.self)
            if index == 2 { values[0] += 1 }
            arrays.append((node.outputs[0], try Tensor(float32: values, shape: value.shape)))
        }
        let reference = directory.appendingPathComponent("layers.npz").path
        try NPZ.write(arrays, to: reference)
        let html = try page(["parity", entry.url.path, "--reference", entry.testDataSet.path, "--layerwise", reference])
        XCTAssertEqual(html.components(separatedBy: " first\" id=\"item").count - 1, 1, "one first divergence")
        let third = nodes[2].name
        let marked = try XCTUnwrap(html.range(of: "first\" id=\"item")).upperBound
        XCTAssertTrue(html[marked...].prefix(200).contains("data-name=\"\(third)\""), "the first divergence is '\(third)'")
        XCTAssertTrue(html.contains("first divergence: node #2 '\(third)'"), html)
        XCTAssertGreaterThanOrEqual(html.components(separatedBy: " fail").count - 1, 1)
        XCTAssertTrue(html.contains("max abs error against the reference"), "the colour legend")
    }

    /// The layered layout: edges go down, boxes in one layer do not overlap.
    func testLayoutIsLayeredWithoutOverlaps() {
        let boxes = [GraphLayout.Box](repeating: .init(width: 100, height: 40), count: 6)
        let edges = [(0, 1), (0, 2), (1, 3), (2, 3), (3, 4), (0, 4), (4, 5)]
        let layout = GraphLayout(boxes: boxes, edges: edges)
        XCTAssertEqual(layout.layer, [0, 1, 1, 2, 3, 4])
        for (from, to) in edges { XCTAssertLessThan(layout.y[from], layout.y[to]) }
        XCTAssertGreaterThanOrEqual(abs(layout.x[1] - layout.x[2]), 100 + GraphLayout.gapX - 1e-9)
        // The long edge 0 → 4 (layer 0 to layer 3) passes layers 1 and 2 beside the boxes there.
        XCTAssertGreaterThanOrEqual(layout.routes[5].count, 2)
        for (x, y) in layout.routes[5].dropFirst().dropLast() {
            for box in [1, 2, 3] where abs(layout.y[box] - y) < 20 { XCTAssertGreaterThanOrEqual(abs(layout.x[box] - x), 50, "through box \(box)") }
        }
        XCTAssertEqual(GraphLayout.simplify([(0, 0), (0.5, 10), (0, 20), (30, 30)]).count, 3, "a nearly straight point goes, a bend stays")
        XCTAssertTrue(layout.routes.allSatisfy { route in zip(route, route.dropFirst()).allSatisfy { $0.1 < $1.1 } })
    }
}

/// The report's histogram bins: far outliers go to overflow bins, counted, never dropped.
final class ReportBinningTests: XCTestCase {
    func testFarOutliersAreCountedInOverflowBins() throws {
        let values = (0..<1000).map { Double($0) / 1000 } + [50, -40]
        let binning = try XCTUnwrap(DetectReport.Binning(values))
        XCTAssertTrue(binning.overflow)
        let f = binning.fractions(values + [.infinity])
        // The bins span the 1st to 99th percentile (0.009 … 0.989); the rest is counted at either end.
        XCTAssertEqual(binning.low, 0.009, accuracy: 1e-12)
        XCTAssertEqual(binning.high, 0.989, accuracy: 1e-12)
        XCTAssertEqual(f.under, 10.0 / 1003, accuracy: 1e-12)
        XCTAssertEqual(f.over, 11.0 / 1003, accuracy: 1e-12)
        XCTAssertEqual(f.nonFinite, 1)
        XCTAssertEqual(f.inner.reduce(0, +) + f.under + f.over, 1002.0 / 1003, accuracy: 1e-12, "every finite value is in a bin")
        let tight = try XCTUnwrap(DetectReport.Binning((0..<100).map(Double.init)))
        XCTAssertFalse(tight.overflow)
        XCTAssertEqual(tight.low, 0)
        XCTAssertEqual(tight.high, 99)
    }
}
