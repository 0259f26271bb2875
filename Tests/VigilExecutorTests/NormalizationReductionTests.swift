import Foundation
@testable import VigilExecutor
import VigilIR
import VigilTestSupport
import XCTest

/// Normalizations, softmax, reductions and resize against references written from the definitions.
final class NormalizationReductionTests: XCTestCase {
    func testBatchNormalization() throws {
        let x = randomTensor([2, 3, 4, 5], seed: 1)
        let scale = floatTensor([0.5, 1.5, -1], [3]), bias = floatTensor([0.1, -0.2, 0.3], [3])
        let mean = floatTensor([0.05, -0.1, 0.2], [3]), variance = floatTensor([0.9, 1.4, 0.3], [3])
        let (s, b, m, v) = (scale.scalars(as: Float.self), bias.scalars(as: Float.self), mean.scalars(as: Float.self), variance.scalars(as: Float.self))
        let xv = x.scalars(as: Float.self)
        let expected = xv.enumerated().map { i, value -> Float in
            let c = (i / 20) % 3
            return Float((Double(value) - Double(m[c])) / (Double(v[c]) + 1e-3).squareRoot() * Double(s[c]) + Double(b[c]))
        }
        let y = try runNode("BatchNormalization", [.input(x), .constant(scale), .constant(bias), .constant(mean), .constant(variance)],
                            attributes: ["epsilon": .float(1e-3)], opset: 15, threads: 2)[0]
        expectClose(y, floatTensor(expected, x.shape), "BatchNormalization")
    }

    /// Softmax and LogSoftmax over long last axes, and LayerNormalization with its mean and inverse
    /// standard deviation outputs, on the vectorized kernels (rows longer than a vector, with a tail).
    func testVectorizedSoftmaxAndLayerNorm() throws {
        let x = randomTensor([3, 4, 37], seed: 70)
        let xv = x.scalars(as: Float.self).map(Double.init)
        var soft: [Float] = [], logSoft: [Float] = []
        for r in 0..<12 {
            let row = Array(xv[(r * 37)..<((r + 1) * 37)]), top = row.max()!
            let sum = row.map { exp($0 - top) }.reduce(0, +)
            soft += row.map { Float(exp($0 - top) / sum) }
            logSoft += row.map { Float($0 - top - log(sum)) }
        }
        for threads in [1, 2] {
            expectClose(try runNode("Softmax", [.input(x)], attributes: ["axis": .int(-1)], opset: 13, threads: threads)[0], floatTensor(soft, x.shape),
                        atol: 1e-6, rtol: 1e-5, "Softmax")
            expectClose(try runNode("LogSoftmax", [.input(x)], attributes: ["axis": .int(-1)], opset: 13, threads: threads)[0],
                        floatTensor(logSoft, x.shape), atol: 1e-5, rtol: 1e-5, "LogSoftmax")
        }
        let scale = randomTensor([37], seed: 71), bias = randomTensor([37], seed: 72)
        let sv = scale.scalars(as: Float.self).map(Double.init), bv = bias.scalars(as: Float.self).map(Double.init)
        var normalized: [Float] = [], means: [Float] = [], inverses: [Float] = []
        for r in 0..<12 {
            let row = Array(xv[(r * 37)..<((r + 1) * 37)])
            let mean = row.reduce(0, +) / 37, variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 37
            let inverse = 1 / (variance + 1e-5).squareRoot()
            normalized += row.enumerated().map { Float(($1 - mean) * inverse * sv[$0] + bv[$0]) }
            means.append(Float(mean))
            inverses.append(Float(inverse))
        }
        let outputs = try runNode("LayerNormalization", [.input(x), .constant(scale), .constant(bias)], attributes: ["axis": .int(-1)],
                                  outputs: 3, threads: 2)
        expectClose(outputs[0], floatTensor(normalized, x.shape), atol: 1e-5, rtol: 1e-4, "LayerNormalization")
        expectClose(outputs[1], floatTensor(means, [3, 4, 1]), atol: 1e-6, rtol: 1e-5, "mean")
        expectClose(outputs[2], floatTensor(inverses, [3, 4, 1]), atol: 1e-5, rtol: 1e-5, "inverse standard deviation")
    }

    /// Softmax and LogSoftmax rows holding NaN (in a whole vector, in a row's tail) give NaN throughout; an
    /// infinity takes the row's maximum (NaN where it meets another infinity), a row of -inf is NaN: the
    /// vectorized kernels, which look for NaN as they take the maximum, against the formula in Double.
    func testSoftmaxNonFiniteRows() throws {
        var v = randomTensor([6, 37], seed: 73).scalars(as: Float.self)
        v[3] = .nan
        v[37 + 36] = .nan
        v[74 + 10] = .infinity
        v[111 + 5] = -.infinity
        v[111 + 33] = -.infinity
        for j in 0..<37 { v[148 + j] = -.infinity }
        v[185 + 2] = .infinity
        v[185 + 20] = .infinity
        let x = floatTensor(v, [6, 37])
        var soft: [Float] = [], logSoft: [Float] = []
        for r in 0..<6 {
            let row = v[(r * 37)..<((r + 1) * 37)].map(Double.init)
            let top = row.contains { $0.isNaN } ? Double.nan : row.max()!
            let sum = row.map { exp($0 - top) }.reduce(0, +)
            soft += row.map { Float(exp($0 - top) / sum) }
            logSoft += row.map { Float($0 - top - log(sum)) }
        }
        XCTAssertTrue(soft.contains { $0.isNaN } && soft.contains { $0.isFinite })
        for threads in [1, 2] {
            expectClose(try runNode("Softmax", [.input(x)], attributes: ["axis": .int(-1)], opset: 13, threads: threads)[0], floatTensor(soft, x.shape),
                        atol: 1e-6, rtol: 1e-5, "Softmax with NaN and infinities")
            expectClose(try runNode("LogSoftmax", [.input(x)], attributes: ["axis": .int(-1)], opset: 13, threads: threads)[0],
                        floatTensor(logSoft, x.shape), atol: 1e-5, rtol: 1e-5, "LogSoftmax with NaN and infinities")
        }
        guard InstructionSets.avx512Available else { return }
        InstructionSets.useAVX512 = false
        defer { InstructionSets.useAVX512 = true }
        expectClose(try runNode("Softmax", [.input(x)], attributes: ["axis": .int(-1)], opset: 13)[0], floatTensor(soft, x.shape),
                    atol: 1e-6, rtol: 1e-5, "Softmax with NaN and infinities (AVX2)")
        expectClose(try runNode("LogSoftmax", [.input(x)], attributes: ["axis": .int(-1)], opset: 13)[0], floatTensor(logSoft, x.shape),
                    atol: 1e-5, rtol: 1e-5, "LogSoftmax with NaN and infinities (AVX2)")
    }

    func testInstanceAndLayerNormalization() throws {
        let x = randomTensor([2, 3, 6], seed: 2)
        let xv = x.scalars(as: Float.self).map(Double.init)
        func normalize(_ values: [Double], eps: Double) -> [Double] {
            let mean = values.reduce(0, +) / Double(values.count)
            let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count)
            return values.map { ($0 - mean) / (variance + eps).squareRoot() }
        }
        let scale = floatTensor([2, -1, 0.5], [3]), bias = floatTensor([0, 1, -1], [3])
        var instance: [Float] = []
        for p in 0..<6 {
            let c = p % 3
            instance += normalize(Array(xv[(p * 6)..<((p + 1) * 6)]), eps: 1e-5).map { Float($0 * Double(scale.scalars(as: Float.self)[c]) + Double(bias.scalars(as: Float.self)[c])) }
        }
        expectClose(try runNode("InstanceNormalization", [.input(x), .constant(scale), .constant(bias)])[0], floatTensor(instance, x.shape), "InstanceNormalization")

        // LayerNormalization over the last two axes, scale/bias of shape [3, 6].
        let lnScale = randomTensor([3, 6], seed: 3), lnBias = randomTensor([3, 6], seed: 4)
        let ls = lnScale.scalars(as: Float.self), lb = lnBias.scalars(as: Float.self)
        var layer: [Float] = []
        for n in 0..<2 {
            layer += normalize(Array(xv[(n * 18)..<((n + 1) * 18)]), eps: 1e-5).enumerated().map { Float($1 * Double(ls[$0]) + Double(lb[$0])) }
        }
        expectClose(try runNode("LayerNormalization", [.input(x), .constant(lnScale), .constant(lnBias)], attributes: ["axis": .int(-2)])[0],
                    floatTensor(layer, x.shape), "LayerNormalization")
    }

    func testSoftmaxAxisSemanticsByOpset() throws {
        let x = randomTensor([2, 3, 4], seed: 5)
        let v = x.scalars(as: Float.self).map(Double.init)
        func softmax(groups: [[Int]], log: Bool) -> [Float] {
            var out = [Float](repeating: 0, count: v.count)
            for group in groups {
                let top = group.map { v[$0] }.max()!
                let sum = group.map { exp(v[$0] - top) }.reduce(0, +)
                for i in group { out[i] = Float(log ? v[i] - top - Foundation.log(sum) : exp(v[i] - top) / sum) }
            }
            return out
        }
        // Opset 13: axis 1 alone → groups over j for each (i, k).
        let single = (0..<2).flatMap { i in (0..<4).map { k in (0..<3).map { j in i * 12 + j * 4 + k } } }
        // Opset 11: axis 1 coerces to 2-D → each i is one group of 12.
        let coerced = (0..<2).map { i in Array((i * 12)..<((i + 1) * 12)) }
        for log in [false, true] {
            let op = log ? "LogSoftmax" : "Softmax"
            expectClose(try runNode(op, [.input(x)], attributes: ["axis": .int(1)], opset: 13)[0], floatTensor(softmax(groups: single, log: log), x.shape), "\(op) 13")
            expectClose(try runNode(op, [.input(x)], attributes: ["axis": .int(1)], opset: 11)[0], floatTensor(softmax(groups: coerced, log: log), x.shape), "\(op) 11")
        }
    }

    /// Sums and means over trailing axes (a global average pool, a last-axis mean) on the vectorized kernel:
    /// runs longer than its vectors with a tail, infinity and NaN.
    func testTrailingAxisSumsAndMeans() throws {
        var v = randomTensor([3, 5, 70], seed: 60).scalars(as: Float.self)
        v[75] = .infinity
        v[150] = .nan
        let x = floatTensor(v, [3, 5, 70])
        let rows = (0..<15).map { r in v[(r * 70)..<((r + 1) * 70)].map(Double.init).reduce(0, +) }
        expectClose(try runNode("ReduceMean", [.input(x), .constant(int64Tensor([-1]))], opset: 18)[0],
                    floatTensor(rows.map { Float($0 / 70) }, [3, 5, 1]), atol: 1e-5, rtol: 1e-5, "ReduceMean last axis")
        var sums: [Float] = []
        for i in 0..<3 { sums.append(Float(rows[(i * 5)..<(i * 5 + 5)].reduce(0, +))) }
        let summed = try runNode("ReduceSum", [.input(x), .constant(int64Tensor([1, 2]))], opset: 13)[0]
        expectClose(summed, floatTensor(sums, [3, 1, 1]), atol: 1e-4, rtol: 1e-5, "ReduceSum trailing axes")
        expectClose(try runNode("GlobalAveragePool", [.input(floatTensor(v, [3, 5, 7, 10]))])[0],
                    floatTensor(rows.map { Float($0 / 70) }, [3, 5, 1, 1]), atol: 1e-5, rtol: 1e-5, "GlobalAveragePool")
    }

    func testReductions() throws {
        let x = randomTensor([2, 3, 4], seed: 6)
        let v = x.scalars(as: Float.self).map(Double.init)
        let cases: [(String, ([Double]) -> Double)] = [
            ("ReduceSum", { $0.reduce(0, +) }), ("ReduceMean", { $0.reduce(0, +) / Double($0.count) }),
            ("ReduceMax", { $0.max()! }), ("ReduceMin", { $0.min()! }), ("ReduceProd", { $0.reduce(1, *) }),
            ("ReduceL1", { $0.map(abs).reduce(0, +) }), ("ReduceL2", { $0.map { $0 * $0 }.reduce(0, +).squareRoot() }),
            ("ReduceSumSquare", { $0.map { $0 * $0 }.reduce(0, +) }), ("ReduceLogSumExp", { log($0.map(exp).reduce(0, +)) }),
        ]
        // Reduce axes {0, 2} keeping dims: output [1, 3, 1], each j gathers all (i, k).
        for (op, f) in cases {
            let expected = (0..<3).map { j in Float(f((0..<2).flatMap { i in (0..<4).map { k in v[i * 12 + j * 4 + k] } })) }
            let axes = int64Tensor([0, -1])
            let modern = try runNode(op, [.input(x), .constant(axes)], opset: 18)[0]
            expectClose(modern, floatTensor(expected, [1, 3, 1]), atol: 1e-5, rtol: 1e-4, "\(op) opset 18")
            if op != "ReduceSum" {
                let old = try runNode(op, [.input(x)], attributes: ["axes": ints([0, 2]), "keepdims": .int(0)], opset: 13)[0]
                expectClose(old, floatTensor(expected, [3]), atol: 1e-5, rtol: 1e-4, "\(op) opset 13")
            }
        }
        // No axes: reduce everything.
        expectClose(try runNode("ReduceSum", [.input(x)], attributes: ["keepdims": .int(0)], opset: 13)[0], floatTensor([Float(v.reduce(0, +))], []), "ReduceSum all")
        // ArgMax / ArgMin with ties: first index unless select_last_index.
        let t = floatTensor([1, 3, 3, 0, 2, 0], [2, 3])
        XCTAssertEqual(try runNode("ArgMax", [.input(t)], attributes: ["axis": .int(1)])[0], int64Tensor([1, 1], [2, 1]))
        XCTAssertEqual(try runNode("ArgMax", [.input(t)], attributes: ["axis": .int(1), "select_last_index": .int(1)])[0], int64Tensor([2, 1], [2, 1]))
        XCTAssertEqual(try runNode("ArgMin", [.input(t)], attributes: ["axis": .int(1), "keepdims": .int(0), "select_last_index": .int(1)])[0], int64Tensor([0, 2]))
    }

    func testResize() throws {
        let x = floatTensor([1, 2, 3, 4, 5, 6], [1, 1, 2, 3])
        let v = x.scalars(as: Float.self)
        let scales = floatTensor([1, 1, 2, 2], [4])
        // Nearest, asymmetric, floor: output (h, w) reads (h / 2, w / 2).
        let nearest = try runNode("Resize", [.input(x), .none, .constant(scales)], attributes: [
            "mode": .string(Array("nearest".utf8)), "coordinate_transformation_mode": .string(Array("asymmetric".utf8)),
            "nearest_mode": .string(Array("floor".utf8)),
        ], opset: 13)[0]
        XCTAssertEqual(nearest, floatTensor(allIndices([4, 6]).map { v[($0[0] / 2) * 3 + $0[1] / 2] }, [1, 1, 4, 6]))
        // Linear, half_pixel: source coordinate (o + 0.5)/2 − 0.5, clamped to the input, bilinear weights.
        func bilinear(_ h: Double, _ w: Double) -> Float {
            let hc = min(max(h, 0), 1), wc = min(max(w, 0), 2)
            let h0 = Int(hc), w0 = Int(wc), h1 = min(h0 + 1, 1), w1 = min(w0 + 1, 2)
            let dh = hc - Double(h0), dw = wc - Double(w0)
            let top = Double(v[h0 * 3 + w0]) * (1 - dw) + Double(v[h0 * 3 + w1]) * dw
            let bottom = Double(v[h1 * 3 + w0]) * (1 - dw) + Double(v[h1 * 3 + w1]) * dw
            return Float(top * (1 - dh) + bottom * dh)
        }
        let linear = try runNode("Resize", [.input(x), .none, .constant(scales)], attributes: ["mode": .string(Array("linear".utf8))], opset: 13)[0]
        expectClose(linear, floatTensor(allIndices([4, 6]).map { bilinear((Double($0[0]) + 0.5) / 2 - 0.5, (Double($0[1]) + 0.5) / 2 - 0.5) }, [1, 1, 4, 6]), atol: 1e-6, "linear half_pixel")
        // align_corners with sizes: source = o · (in − 1)/(out − 1).
        let sizes = int64Tensor([1, 1, 3, 5])
        let aligned = try runNode("Resize", [.input(x), .none, .none, .constant(sizes)], attributes: [
            "mode": .string(Array("linear".utf8)), "coordinate_transformation_mode": .string(Array("align_corners".utf8)),
        ], opset: 13)[0]
        expectClose(aligned, floatTensor(allIndices([3, 5]).map { bilinear(Double($0[0]) * 0.5, Double($0[1]) * 0.5) }, [1, 1, 3, 5]), atol: 1e-6, "align_corners")
        // Upsample (opset 9): nearest with scales input.
        let up = try runNode("Upsample", [.input(x), .constant(scales)], opset: 9)[0]
        XCTAssertEqual(up, nearest)
    }

    func testLRNAndLpNormalization() throws {
        let x = randomTensor([1, 5, 2, 2], seed: 7)
        let v = x.scalars(as: Float.self).map(Double.init)
        // LRN: square sum over channels c − 1 … c + 1 (size 3).
        let lrn = allIndices([1, 5, 2, 2]).map { i -> Float in
            let c = i[1]
            let sum = (max(0, c - 1)...min(4, c + 1)).map { v[flatIndex([0, $0, i[2], i[3]], [1, 5, 2, 2])] }.map { $0 * $0 }.reduce(0, +)
            return Float(v[flatIndex(i, [1, 5, 2, 2])] / pow(2 + 0.001 / 3 * sum, 0.6))
        }
        expectClose(try runNode("LRN", [.input(x)], attributes: ["size": .int(3), "alpha": .float(0.001), "beta": .float(0.6), "bias": .float(2)])[0],
                    floatTensor(lrn, x.shape), "LRN")
        let lp = allIndices([1, 5, 2, 2]).map { i -> Float in
            let norm = (0..<5).map { v[flatIndex([0, $0, i[2], i[3]], [1, 5, 2, 2])] }.map { $0 * $0 }.reduce(0, +).squareRoot()
            return Float(v[flatIndex(i, [1, 5, 2, 2])] / norm)
        }
        expectClose(try runNode("LpNormalization", [.input(x)], attributes: ["axis": .int(1)])[0], floatTensor(lp, x.shape), "LpNormalization")
    }
}
