import Foundation
import VigilExecutor
import VigilIR
import VigilTestSupport
import XCTest

/// Elementwise ops against scalar formulas evaluated in Double, with broadcasting done by index.
final class ElementwiseTests: XCTestCase {
    /// numpy broadcasting by index: the input element for an output index drops leading axes and
    /// reads 0 along size-1 axes.
    func broadcastIndex(_ index: [Int], _ shape: [Int]) -> Int {
        let offset = index.count - shape.count
        return flatIndex(shape.indices.map { shape[$0] == 1 ? 0 : index[offset + $0] }, shape)
    }

    func broadcastShape(_ a: [Int], _ b: [Int]) -> [Int] {
        let rank = max(a.count, b.count)
        let pa = Array(repeating: 1, count: rank - a.count) + a, pb = Array(repeating: 1, count: rank - b.count) + b
        return zip(pa, pb).map { max($0, $1) }
    }

    func testBinaryArithmeticBroadcast() throws {
        let shapes: [([Int], [Int])] = [([2, 3, 4], [3, 1]), ([1], [2, 3]), ([2, 1, 4], [1, 3, 1]), ([5, 6], [5, 6]), ([], [3]), ([4, 1, 3, 2], [1, 5, 1, 2])]
        let ops: [(String, (Double, Double) -> Double)] = [("Add", +), ("Sub", -), ("Mul", *), ("Div", /)]
        for (si, (sa, sb)) in shapes.enumerated() {
            let a = randomTensor(sa, seed: UInt64(si)), b = randomTensor(sb, seed: UInt64(si + 100))
            let out = broadcastShape(sa, sb)
            let av = a.scalars(as: Float.self), bv = b.scalars(as: Float.self)
            for (op, f) in ops {
                let expected = allIndices(out).map { Float(f(Double(av[broadcastIndex($0, sa)]), Double(bv[broadcastIndex($0, sb)]))) }
                for threads in [1, 2] {
                    let y = try runNode(op, [.input(a), .input(b)], threads: threads)[0]
                    expectClose(y, floatTensor(expected, out), atol: 1e-6, rtol: 1e-5, "\(op) \(sa) \(sb)")
                }
            }
        }
    }

    /// Float arithmetic on the vectorized kernels: runs longer than a vector with a tail, per-channel
    /// scales and biases of NCHW tensors (squeeze-and-excitation), a scalar on either side, NaN and infinity.
    func testVectorizedArithmetic() throws {
        let shapes: [([Int], [Int])] = [([2, 5, 9, 7], [2, 5, 1, 1]), ([1, 6, 4, 5], [1, 6, 1, 1]), ([3, 37], [3, 37]), ([1], [3, 37]), ([41], [1])]
        let ops: [(String, (Double, Double) -> Double)] = [("Add", +), ("Sub", -), ("Mul", *), ("Div", /)]
        for (si, (sa, sb)) in shapes.enumerated() {
            var av = randomTensor(sa, seed: UInt64(200 + si)).scalars(as: Float.self), bv = randomTensor(sb, seed: UInt64(300 + si)).scalars(as: Float.self)
            av[av.count / 2] = .nan
            av[av.count - 1] = .infinity
            bv[0] = -.infinity
            let a = floatTensor(av, sa), b = floatTensor(bv, sb)
            let out = broadcastShape(sa, sb)
            for (op, f) in ops {
                let expected = allIndices(out).map { Float(f(Double(av[broadcastIndex($0, sa)]), Double(bv[broadcastIndex($0, sb)]))) }
                for threads in [1, 2] {
                    expectClose(try runNode(op, [.input(a), .input(b)], threads: threads)[0], floatTensor(expected, out), atol: 1e-6, rtol: 1e-5,
                                "\(op) \(sa) \(sb) threads \(threads)")
                    expectClose(try runNode(op, [.input(b), .input(a)], threads: threads)[0],
                                floatTensor(allIndices(out).map { Float(f(Double(bv[broadcastIndex($0, sb)]), Double(av[broadcastIndex($0, sa)]))) }, out),
                                atol: 1e-6, rtol: 1e-5, "\(op) \(sb) \(sa) threads \(threads)")
                }
            }
        }
        // Variadic Max/Min propagate NaN; Sum and Mean of long runs.
        let a = floatTensor([1, .nan, 3] + (0..<30).map { Float($0) }, [33]), b = floatTensor((0..<33).map { Float(32 - $0) }, [33])
        let maxima = try runNode("Max", [.input(a), .input(b)])[0].scalars(as: Float.self)
        XCTAssertTrue(maxima[1].isNaN)
        XCTAssertEqual(maxima[0], 32)
        XCTAssertEqual(maxima[32], 29)
        let minima = try runNode("Min", [.input(b), .input(a)])[0].scalars(as: Float.self)
        XCTAssertTrue(minima[1].isNaN)
        XCTAssertEqual(minima[32], 0)
    }

    func testComparisonsAndIntegerArithmetic() throws {
        let a = int64Tensor([3, -7, 0, 12, 5, -1], [2, 3]), b = int64Tensor([2, 5, -3], [3])
        let av = a.scalars(as: Int64.self), bv = b.scalars(as: Int64.self)
        func expected(_ f: (Int64, Int64) -> Int64) -> Tensor { int64Tensor((0..<6).map { Int(f(av[$0], bv[$0 % 3])) }, [2, 3]) }
        XCTAssertEqual(try runNode("Add", [.input(a), .constant(b)])[0], expected(+))
        XCTAssertEqual(try runNode("Mul", [.input(a), .constant(b)])[0], expected(*))
        // Integer division truncates toward zero, as in C and onnxruntime.
        XCTAssertEqual(try runNode("Div", [.input(a), .constant(b)])[0], expected { $0 / $1 })
        let greater = try runNode("Greater", [.input(a), .constant(b)])[0]
        XCTAssertEqual(greater.dtype, .bool)
        XCTAssertEqual(greater.scalars(as: UInt8.self), (0..<6).map { av[$0] > bv[$0 % 3] ? 1 : 0 })
        let equal = try runNode("Equal", [.input(a), .constant(int64Tensor([0], []))])[0]
        XCTAssertEqual(equal.scalars(as: UInt8.self), av.map { $0 == 0 ? 1 : 0 })
    }

    func testUnaryFunctions() throws {
        let x = randomTensor([3, 7], seed: 42)
        let v = x.scalars(as: Float.self).map { Double($0) * 3 }
        let input = floatTensor(v.map { Float($0) }, [3, 7])
        let cases: [(String, [String: AttributeValue], (Double) -> Double)] = [
            ("Relu", [:], { max($0, 0) }),
            ("LeakyRelu", ["alpha": .float(0.2)], { $0 < 0 ? 0.2 * $0 : $0 }),
            ("Elu", ["alpha": .float(0.5)], { $0 < 0 ? 0.5 * (exp($0) - 1) : $0 }),
            ("Selu", [:], { 1.0507009873554805 * ($0 > 0 ? $0 : 1.6732632423543772 * (exp($0) - 1)) }),
            ("Celu", ["alpha": .float(2)], { max(0, $0) + min(0, 2 * (exp($0 / 2) - 1)) }),
            ("Sigmoid", [:], { 1 / (1 + exp(-$0)) }),
            ("HardSigmoid", [:], { max(0, min(1, 0.2 * $0 + 0.5)) }),
            ("HardSwish", [:], { $0 * max(0, min(1, $0 / 6 + 0.5)) }),
            ("Tanh", [:], { tanh($0) }),
            ("Softplus", [:], { log(1 + exp($0)) }),
            ("Softsign", [:], { $0 / (1 + abs($0)) }),
            ("Gelu", [:], { 0.5 * $0 * (1 + erf($0 / 2.0.squareRoot())) }),
            ("Gelu", ["approximate": .string(Array("tanh".utf8))], { 0.5 * $0 * (1 + tanh((2 / Double.pi).squareRoot() * ($0 + 0.044715 * pow($0, 3)))) }),
            ("Erf", [:], { erf($0) }),
            ("Exp", [:], { exp($0) }),
            ("Abs", [:], { abs($0) }),
            ("Neg", [:], { -$0 }),
            ("Floor", [:], { floor($0) }),
            ("Ceil", [:], { ceil($0) }),
            ("Sign", [:], { $0 > 0 ? 1 : ($0 < 0 ? -1 : 0) }),
            ("Reciprocal", [:], { 1 / $0 }),
        ]
        for (op, attributes, f) in cases {
            let y = try runNode(op, [.input(input)], attributes: attributes, opset: 20)[0]
            expectClose(y, floatTensor(v.map { Float(f(Double(Float($0)))) }, [3, 7]), atol: 1e-5, rtol: 1e-4, op)
        }
        let positive = floatTensor(v.map { Float(abs($0) + 0.1) }, [3, 7])
        let pv = positive.scalars(as: Float.self).map(Double.init)
        expectClose(try runNode("Log", [.input(positive)])[0], floatTensor(pv.map { Float(log($0)) }, [3, 7]), "Log")
        expectClose(try runNode("Sqrt", [.input(positive)])[0], floatTensor(pv.map { Float($0.squareRoot()) }, [3, 7]), "Sqrt")
        // Round is half to even.
        let halves = floatTensor([0.5, 1.5, 2.5, -0.5, -1.5, 2.4, -2.6], [7])
        XCTAssertEqual(try runNode("Round", [.input(halves)])[0].scalars(as: Float.self), [0, 2, 2, -0, -2, 2, -3])
    }

    func testPowClipPReluWhere() throws {
        let x = randomTensor([2, 3, 4], seed: 7)
        let xv = x.scalars(as: Float.self)
        let exponent = int64Tensor([2], [])
        expectClose(try runNode("Pow", [.input(x), .constant(exponent)], opset: 15)[0], floatTensor(xv.map { $0 * $0 }, [2, 3, 4]), "Pow")
        let lo = floatTensor([-0.25], []), hi = floatTensor([0.5], [])
        expectClose(try runNode("Clip", [.input(x), .constant(lo), .constant(hi)], opset: 13)[0],
                    floatTensor(xv.map { min(max($0, -0.25), 0.5) }, [2, 3, 4]), atol: 0, rtol: 0, "Clip")
        expectClose(try runNode("Clip", [.input(x), .none, .constant(hi)], opset: 13)[0],
                    floatTensor(xv.map { min($0, 0.5) }, [2, 3, 4]), atol: 0, rtol: 0, "Clip max only")
        expectClose(try runNode("Clip", [.input(x)], attributes: ["min": .float(-0.1), "max": .float(0.2)], opset: 6)[0],
                    floatTensor(xv.map { min(max($0, -0.1), 0.2) }, [2, 3, 4]), atol: 0, rtol: 0, "Clip opset 6")
        let slope = floatTensor([0.1, 0.2, 0.3], [3, 1])
        expectClose(try runNode("PRelu", [.input(x), .constant(slope)])[0],
                    floatTensor(xv.enumerated().map { i, v in v < 0 ? v * [0.1, 0.2, 0.3][(i / 4) % 3] : v }, [2, 3, 4]), "PRelu")
        let cond = try Tensor(.bool, shape: [3, 1], scalars: [UInt8(1), 0, 1])
        let other = floatTensor([9], [])
        expectClose(try runNode("Where", [.constant(cond), .input(x), .constant(other)])[0],
                    floatTensor(xv.enumerated().map { i, v in (i / 4) % 3 == 1 ? 9 : v }, [2, 3, 4]), atol: 0, rtol: 0, "Where")
    }

    func testVariadic() throws {
        let a = randomTensor([2, 3], seed: 1), b = randomTensor([3], seed: 2), c = randomTensor([2, 1], seed: 3)
        let av = a.scalars(as: Float.self), bv = b.scalars(as: Float.self), cv = c.scalars(as: Float.self)
        func expect(_ f: ([Float]) -> Float) -> Tensor {
            floatTensor((0..<6).map { f([av[$0], bv[$0 % 3], cv[$0 / 3]]) }, [2, 3])
        }
        let args: [Arg] = [.input(a), .input(b), .input(c)]
        expectClose(try runNode("Max", args)[0], expect { $0.max()! }, atol: 0, rtol: 0, "Max")
        expectClose(try runNode("Min", args)[0], expect { $0.min()! }, atol: 0, rtol: 0, "Min")
        expectClose(try runNode("Sum", args)[0], expect { $0.reduce(0, +) }, atol: 1e-6, "Sum")
        expectClose(try runNode("Mean", args)[0], expect { $0.reduce(0, +) / 3 }, atol: 1e-6, "Mean")
    }

    func testLogic() throws {
        let a = try Tensor(.bool, shape: [4], scalars: [UInt8(0), 0, 1, 1]), b = try Tensor(.bool, shape: [4], scalars: [UInt8(0), 1, 0, 1])
        XCTAssertEqual(try runNode("And", [.input(a), .input(b)])[0].scalars(as: UInt8.self), [0, 0, 0, 1])
        XCTAssertEqual(try runNode("Or", [.input(a), .input(b)])[0].scalars(as: UInt8.self), [0, 1, 1, 1])
        XCTAssertEqual(try runNode("Not", [.input(a)])[0].scalars(as: UInt8.self), [1, 1, 0, 0])
    }
}
