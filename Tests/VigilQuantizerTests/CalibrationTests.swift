import Foundation
import VigilIR
import VigilNumpy
import VigilTestSupport
import XCTest

@testable import VigilQuantizer

/// Vigil's calibration against onnxruntime's (recorded by Fixtures/quantized/generate_quantized.py):
/// the percentile and entropy ranges of its HistogramCollector, `compute_scale_zp`, and the symmetric
/// per-channel int8 weights of `quantize_data`.
final class CalibrationTests: XCTestCase {
    static var folder: URL { Repository.fixtures.appendingPathComponent("quantized") }

    static func reference() throws -> [String: Any] {
        let data = try Data(contentsOf: folder.appendingPathComponent("calibration.json"))
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// Statistics of an array after both passes.
    static func statistics(_ values: [Float]) -> TensorStatistics {
        var s = TensorStatistics()
        values.withUnsafeBufferPointer { s.observeRange($0) }
        let edges = s.edges
        values.withUnsafeBufferPointer { s.observeHistogram($0, edges: edges) }
        return s
    }

    func testRangesMatchOnnxruntimesCalibrators() throws {
        let arrays = try XCTUnwrap(try Self.reference()["arrays"] as? [String: [String: Any]])
        XCTAssertEqual(arrays.count, 4)
        for (name, facts) in arrays.sorted(by: { $0.key < $1.key }) {
            let values = try NPY.read(at: Self.folder.appendingPathComponent("calibration/\(name).npy").path).scalars(as: Float.self)
            let s = Self.statistics(values)
            XCTAssertEqual(s.min, Float(try XCTUnwrap(facts["min"] as? Double)), name)
            XCTAssertEqual(s.max, Float(try XCTUnwrap(facts["max"] as? Double)), name)
            let bin = 2 * Double(s.threshold) / Double(TensorStatistics.bins)
            XCTAssertEqual(s.range(.minMax).low, s.min)
            for (method, key) in [(CalibrationMethod.percentile(99.999), "percentile"), (.entropy, "entropy")] {
                let expected = try XCTUnwrap(facts[key] as? [Double])
                let (low, high) = s.range(method)
                // Edges are the same numbers; a value on an edge may fall into the other bin in float32.
                XCTAssertEqual(Double(low), expected[0], accuracy: bin * 1.01, "\(name) \(key) low")
                XCTAssertEqual(Double(high), expected[1], accuracy: bin * 1.01, "\(name) \(key) high")
            }
        }
    }

    func testScaleAndZeroPointMatchComputeScaleZp() throws {
        let cases = try XCTUnwrap(try Self.reference()["scale_zero_point"] as? [[String: Any]])
        XCTAssertEqual(cases.count, 16)
        for c in cases {
            let low = Float(try XCTUnwrap(c["low"] as? Double)), high = Float(try XCTUnwrap(c["high"] as? Double))
            let type: DType = c["type"] as? String == "int8" ? .int8 : .uint8
            let p = AffineParameters(low: low, high: high, type: type)
            XCTAssertEqual(p.scale, Float(try XCTUnwrap(c["scale"] as? Double)), "\(c)")
            XCTAssertEqual(p.zeroPoint, try XCTUnwrap(c["zero_point"] as? Int), "\(c)")
        }
    }

    func testPerChannelWeightsMatchQuantizeData() throws {
        let facts = try XCTUnwrap(try Self.reference()["weights"] as? [String: Any])
        let w = try NPY.read(at: Self.folder.appendingPathComponent("calibration/weights.npy").path)
        let (values, scales) = WeightQuantizer.quantize(w, axis: 0)
        XCTAssertEqual(scales, try XCTUnwrap(facts["scales"] as? [Double]).map { Float($0) })
        XCTAssertEqual(values.map(Int.init), try XCTUnwrap(facts["values"] as? [Int]))
        XCTAssertEqual(values.min(), -127, "symmetric: -128 is never used")
    }

    /// A weight scale is raised (as onnxruntime raises it) where the bias would not fit int32.
    func testWeightScalesAreRaisedForLargeBiases() {
        let scales: [Float] = [1e-12, 0.01]
        let raised = WeightQuantizer.adjusted(scales, bias: [3, 3], inputScale: 0.02)
        XCTAssertGreaterThan(raised[0], scales[0])
        XCTAssertEqual(raised[1], scales[1])
        XCTAssertLessThanOrEqual(3 / (Double(raised[0]) * 0.02), Double(Int32.max))
    }
}
