@testable import VigilExecutor
import VigilIR
import VigilTestSupport
import XCTest

/// MatMul and Gemm against triple-loop references.
final class LinearAlgebraTests: XCTestCase {
    /// numpy matmul by definition: promote 1-D operands, broadcast the batch dims, sum over k.
    func referenceMatMul(_ a: Tensor, _ b: Tensor) -> Tensor {
        var ash = a.shape, bsh = b.shape
        if ash.count == 1 { ash = [1] + ash }
        if bsh.count == 1 { bsh = bsh + [1] }
        let m = ash[ash.count - 2], k = ash[ash.count - 1], n = bsh[bsh.count - 1]
        let rank = max(ash.count, bsh.count) - 2
        let ba = Array(repeating: 1, count: rank - (ash.count - 2)) + ash.dropLast(2)
        let bb = Array(repeating: 1, count: rank - (bsh.count - 2)) + bsh.dropLast(2)
        let batch = zip(ba, bb).map { max($0, $1) }
        let av = a.scalars(as: Float.self), bv = b.scalars(as: Float.self)
        var out: [Float] = []
        for bi in allIndices(batch) {
            let ia = flatIndex(zip(bi, ba).map { $1 == 1 ? 0 : $0 }, ba), ib = flatIndex(zip(bi, bb).map { $1 == 1 ? 0 : $0 }, bb)
            for i in 0..<m {
                for j in 0..<n {
                    var acc: Double = 0
                    for p in 0..<k { acc += Double(av[ia * m * k + i * k + p]) * Double(bv[ib * k * n + p * n + j]) }
                    out.append(Float(acc))
                }
            }
        }
        var shape = batch
        if a.shape.count != 1 { shape.append(m) }
        if b.shape.count != 1 { shape.append(n) }
        return floatTensor(out, shape)
    }

    func testMatMulShapes() throws {
        let cases: [([Int], [Int])] = [
            ([3, 4], [4, 5]), ([2, 3, 4], [4, 5]), ([2, 1, 3, 4], [3, 4, 5]), ([4], [4, 5]), ([3, 4], [4]),
            ([5, 3, 4], [5, 4, 2]), ([1, 3, 4], [2, 4, 6]), ([4], [4]),
        ]
        for (i, (sa, sb)) in cases.enumerated() {
            let a = randomTensor(sa, seed: UInt64(10 * i)), b = randomTensor(sb, seed: UInt64(10 * i + 1))
            for threads in [1, 2] {
                let y = try runNode("MatMul", [.input(a), .constant(b)], threads: threads)[0]
                expectClose(y, referenceMatMul(a, b), "MatMul \(sa)×\(sb)")
            }
            // Both operands as runtime inputs.
            let y = try runNode("MatMul", [.input(a), .input(b)])[0]
            expectClose(y, referenceMatMul(a, b), "MatMul inputs \(sa)×\(sb)")
        }
    }

    func testGemmVariants() throws { try checkGemmVariants(m: 4, n: 5, k: 3, threads: [1]) }

    /// Products with several reduction blocks (k > 512), rows and columns that end inside a register tile,
    /// batched products sharing constant weights (folded into one) and runtime weights, on 1 and 2 threads.
    func testLargerProducts() throws {
        let cases: [([Int], [Int])] = [([37, 600], [600, 45]), ([2, 13, 70], [70, 33]), ([3, 7, 530], [3, 530, 17])]
        for (i, (sa, sb)) in cases.enumerated() {
            let a = randomTensor(sa, seed: UInt64(90 + i)), b = randomTensor(sb, seed: UInt64(95 + i))
            for threads in [1, 2] {
                expectClose(try runNode("MatMul", [.input(a), .constant(b)], threads: threads)[0], referenceMatMul(a, b),
                            atol: 1e-4, "MatMul \(sa)×\(sb) threads \(threads)")
                expectClose(try runNode("MatMul", [.input(a), .input(b)], threads: threads)[0], referenceMatMul(a, b),
                            atol: 1e-4, "MatMul inputs \(sa)×\(sb) threads \(threads)")
            }
        }
    }

    /// Gemm with its weights and C as runtime inputs (alpha scales the packed rows, C is copied first).
    func testGemmWithRuntimeOperands() throws {
        try checkGemmVariants(m: 7, n: 20, k: 9, threads: [1, 2], runtimeOperands: true)
    }

    /// The OpenBLAS path that CPUs without AVX2 + FMA take.
    func testGemmAndMatMulOnOpenBLAS() throws {
        let saved = LinearAlgebraKernels.usePackedGEMM
        LinearAlgebraKernels.usePackedGEMM = false
        defer { LinearAlgebraKernels.usePackedGEMM = saved }
        try checkGemmVariants(m: 3, n: 100, k: 300, threads: [1, 2])
        try testMatMulShapes()
    }

    /// Dense layers too small for OpenBLAS's threads (batch 1 and 3 here) are split by output columns
    /// across the executor's threads.
    func testGemmVariantsSplitAcrossThreads() throws {
        try checkGemmVariants(m: 1, n: 96, k: 700, threads: [1, 2])
        try checkGemmVariants(m: 3, n: 100, k: 300, threads: [1, 2])
        try checkGemmVariants(m: 300, n: 10, k: 30, threads: [1, 2])  // enough work, too few columns to split
    }

    func checkGemmVariants(m: Int, n: Int, k: Int, threads: [Int], runtimeOperands: Bool = false) throws {
        let cShapes: [[Int]?] = [nil, [n], [m, 1], [1], [m, n], []]
        for transA in [false, true] {
            for transB in [false, true] {
                for (ci, cShape) in cShapes.enumerated() {
                    let a = randomTensor(transA ? [k, m] : [m, k], seed: 1), b = randomTensor(transB ? [n, k] : [k, n], seed: 2)
                    let c = cShape.map { randomTensor($0, seed: UInt64(3 + ci)) }
                    let alpha: Float = 0.7, beta: Float = -1.3
                    let av = a.scalars(as: Float.self), bv = b.scalars(as: Float.self), cv = c?.scalars(as: Float.self)
                    var expected: [Float] = []
                    for i in 0..<m {
                        for j in 0..<n {
                            var acc: Double = 0
                            for p in 0..<k {
                                acc += Double(transA ? av[p * m + i] : av[i * k + p]) * Double(transB ? bv[j * k + p] : bv[p * n + j])
                            }
                            var cTerm: Float = 0
                            if let c, let cv {
                                // Unidirectional broadcast of C to [M, N].
                                let s = Array(repeating: 1, count: 2 - c.shape.count) + c.shape
                                cTerm = cv[(s[0] == 1 ? 0 : i) * s[1] + (s[1] == 1 ? 0 : j)]
                            }
                            expected.append(alpha * Float(acc) + beta * cTerm)
                        }
                    }
                    var args: [Arg] = [.input(a), runtimeOperands ? .input(b) : .constant(b)]
                    if let c { args.append(runtimeOperands ? .input(c) : .constant(c)) }
                    for threads in threads {
                        let y = try runNode("Gemm", args, attributes: [
                            "transA": .int(transA ? 1 : 0), "transB": .int(transB ? 1 : 0), "alpha": .float(alpha), "beta": .float(beta),
                        ], threads: threads)[0]
                        expectClose(y, floatTensor(expected, [m, n]),
                                    "Gemm \(m)x\(n)x\(k) transA=\(transA) transB=\(transB) C=\(String(describing: cShape)) threads=\(threads)")
                    }
                }
            }
        }
    }
}
