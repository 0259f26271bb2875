import Synchronization
import VigilBLAS
import XCTest

/// OpenBLAS through Vigil's wrapper and Vigil's own packed convolution, against naive references
/// computed in double precision.
final class BLASTests: XCTestCase {
    /// A deterministic pseudo-random float in [-1, 1).
    static func values(_ count: Int, seed: UInt64) -> [Float] {
        var state = seed
        return (0..<count).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int64(bitPattern: state >> 11) % 2_000_000) / 1_000_000 - 1
        }
    }

    func testSgemmMatchesTheNaiveProductInEveryTransposition() {
        for (m, n, k) in [(1, 7, 5), (3, 1, 4), (17, 9, 33), (64, 65, 3)] {
            for transA in [false, true] {
                for transB in [false, true] {
                    let a = Self.values(m * k, seed: 1), b = Self.values(k * n, seed: 2)
                    var c = Self.values(m * n, seed: 3)
                    let c0 = c
                    a.withUnsafeBufferPointer { pa in
                        b.withUnsafeBufferPointer { pb in
                            BLAS.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 0.5, a: pa.baseAddress!, lda: transA ? m : k,
                                       b: pb.baseAddress!, ldb: transB ? k : n, beta: 2, c: &c, ldc: n)
                        }
                    }
                    for i in 0..<m {
                        for j in 0..<n {
                            var sum = 0.0
                            for p in 0..<k {
                                let x = Double(transA ? a[p * m + i] : a[i * k + p]), y = Double(transB ? b[j * k + p] : b[p * n + j])
                                sum += x * y
                            }
                            let expected = 0.5 * sum + 2 * Double(c0[i * n + j])
                            XCTAssertEqual(Double(c[i * n + j]), expected, accuracy: 1e-5 * (1 + abs(expected)),
                                           "m \(m) n \(n) k \(k) transA \(transA) transB \(transB) [\(i), \(j)]")
                        }
                    }
                }
            }
        }
    }

    /// GEMMs large enough for OpenBLAS's threads (above `parallelThreshold`), from two threads at once
    /// and one after another, match the naive product; each threaded call ends the threads it started,
    /// so none is left spinning beside the executor's loops.
    func testThreadedSgemmMatchesTheNaiveProductAndLeavesNoOpenBLASThreads() throws {
        let threadsBefore = BLAS.threadCount
        defer { BLAS.setThreadCount(threadsBefore) }
        BLAS.setThreadCount(2)
        let (m, n, k) = (96, 160, 144)
        XCTAssertGreaterThanOrEqual(m * n * k, BLAS.parallelThreshold)
        let a = Self.values(m * k, seed: 11), b = Self.values(k * n, seed: 12)
        var expected = [Double](repeating: 0, count: m * n)
        for i in 0..<m {
            for p in 0..<k {
                let x = Double(a[i * k + p])
                for j in 0..<n { expected[i * n + j] += x * Double(b[p * n + j]) }
            }
        }
        @Sendable func product() -> [Float] {
            var c = [Float](repeating: .nan, count: m * n)
            a.withUnsafeBufferPointer { pa in
                b.withUnsafeBufferPointer { pb in
                    BLAS.sgemm(m: m, n: n, k: k, a: pa.baseAddress!, lda: k, b: pb.baseAddress!, ldb: n, c: &c, ldc: n)
                }
            }
            return c
        }
        func check(_ c: [Float], _ label: String) {
            let worst = zip(c, expected).map { abs(Double($0) - $1) / (1 + abs($1)) }.max() ?? .nan
            XCTAssertLessThan(worst, 1e-5, label)
        }
        let tasksBefore = try FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").count
        check(product(), "first threaded call")
        check(product(), "second threaded call (threads started again)")
        let tasksAfter = try FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").count
        XCTAssertLessThanOrEqual(tasksAfter, tasksBefore, "OpenBLAS threads left running after threaded GEMMs")
        let results = Mutex([[Float]](repeating: [], count: 2))
        DispatchQueue.concurrentPerform(iterations: 2) { index in
            let c = product()
            results.withLock { $0[index] = c }
        }
        for (index, c) in results.withLock({ $0 }).enumerated() { check(c, "concurrent call \(index)") }
    }

    /// The packed direct convolution (3×3, stride 2, 20 output channels: two panels, the second
    /// partial) with bias, residual and a piecewise-linear epilogue, against the definition; NaN
    /// in the input reaches exactly the outputs whose window holds it.
    func testPackedConvolutionWithEpilogueMatchesTheDefinition() throws {
        try XCTSkipUnless(PackedConvolution.isAvailable, "the CPU has no AVX2 + FMA")
        let (c, m, h, w, kh, kw, stride) = (5, 20, 9, 11, 3, 3, 2)
        let (oh, ow) = ((h - kh) / stride + 1, (w - kw) / stride + 1)
        var x = Self.values(c * h * w, seed: 4)
        x[2 * h * w + 4 * w + 5] = .nan
        let weights = Self.values(m * c * kh * kw, seed: 5), bias = Self.values(m, seed: 6), residual = Self.values(m * oh * ow, seed: 7)
        let activation = EpilogueActivation(slope: 0.1, low: -0.5, high: 0.75)
        let conv = weights.withUnsafeBufferPointer {
            PackedConvolution(weights: $0.baseAddress!, outputChannels: m, channels: c, kernel: (kh, kw), dilations: (1, 1),
                              paddedWidth: w, channelStride: h * w)
        }
        var y = [Float](repeating: 0, count: m * oh * ow)
        var workspace = [Float](repeating: 0, count: PackedConvolution.workspaceCount(panels: conv.panelCount))
        let layout = PackedConvolution.Layout(paddedWidth: w, inputImageStride: c * h * w, outputHeight: oh, outputWidth: ow,
                                              strideHeight: stride, strideWidth: stride, outputChannelStride: oh * ow, outputImageStride: m * oh * ow)
        conv.compute(input: x, layout: layout, bias: bias, residual: residual, output: &y, activation: activation,
                     pixels: 0..<(oh * ow), panels: 0..<conv.panelCount, workspace: &workspace)
        for o in 0..<m {
            for i in 0..<oh {
                for j in 0..<ow {
                    var sum = Double(bias[o]) + Double(residual[(o * oh + i) * ow + j])
                    for ci in 0..<c {
                        for a in 0..<kh {
                            for b in 0..<kw {
                                sum += Double(x[(ci * h + i * stride + a) * w + j * stride + b]) * Double(weights[((o * c + ci) * kh + a) * kw + b])
                            }
                        }
                    }
                    if sum < 0 { sum *= 0.1 }
                    let expected = sum.isNaN ? sum : min(max(sum, -0.5), 0.75)
                    let got = Double(y[(o * oh + i) * ow + j])
                    if expected.isNaN { XCTAssertTrue(got.isNaN, "[\(o), \(i), \(j)] should be NaN"); continue }
                    XCTAssertEqual(got, expected, accuracy: 1e-5, "[\(o), \(i), \(j)]")
                }
            }
        }
    }
}
