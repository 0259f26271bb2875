import VigilBLAS
import XCTest

/// The direct 3×3 stride-1 convolution against a naive double-precision reference: widths that end
/// inside a vector and inside a run, both block sizes with a partial last block, several images,
/// rows and blocks computed in separate calls, bias, residual and activation, NaN and infinity.
final class DirectConvolutionTests: XCTestCase {
    override func setUpWithError() throws {
        try XCTSkipUnless(KernelFeatures.useAVX512, "the CPU has no AVX-512")
    }

    func testDirectConvolutionMatchesTheNaiveSum() {
        struct Case { var c, m, h, w, images: Int; var residual: Bool; var activation: VectorActivation }
        let cases = [
            Case(c: 3, m: 8, h: 5, w: 14, images: 1, residual: false, activation: .none),  // 16-channel blocks, one partial
            Case(c: 5, m: 13, h: 7, w: 17, images: 2, residual: true, activation: .linear(slope: 0, low: -.infinity, high: .infinity)),
            Case(c: 9, m: 20, h: 4, w: 33, images: 1, residual: false, activation: VectorActivation(.swish, 1)),
            Case(c: 4, m: 7, h: 6, w: 56, images: 2, residual: true, activation: .none),  // runs of 32 + 24 columns
            Case(c: 2, m: 17, h: 3, w: 61, images: 1, residual: false, activation: .linear(slope: 0.1, low: -1, high: 6)),
            Case(c: 33, m: 32, h: 9, w: 28, images: 1, residual: true, activation: .linear(slope: 0, low: -.infinity, high: .infinity)),
        ]
        for (index, t) in cases.enumerated() {
            let (ph, pw) = (t.h + 2, t.w + 2), plane = t.h * t.w
            // The padded input: a zero border of one around each plane.
            var x = [Float](repeating: 0, count: t.images * t.c * ph * pw)
            let values = BLASTests.values(x.count, seed: 31 + UInt64(index))
            for p in 0..<(t.images * t.c) {
                for i in 0..<t.h {
                    for j in 0..<t.w { x[(p * ph + i + 1) * pw + j + 1] = values[(p * ph + i + 1) * pw + j + 1] }
                }
            }
            x[(ph + 2) * pw + 3] = .nan
            x[(t.images * t.c - 1) * ph * pw + 2 * pw + 1] = .infinity
            var w = BLASTests.values(t.m * t.c * 9, seed: 32)
            w[w.count - 5] = .infinity  // the last output channel: its outputs are ±inf or NaN
            let bias = BLASTests.values(t.m, seed: 33), residual = BLASTests.values(t.images * t.m * plane, seed: 34)
            var y = [Float](repeating: -7, count: t.images * t.m * plane + 5)
            let conv = w.withUnsafeBufferPointer {
                DirectConvolution(weights: $0.baseAddress!, channels: t.c, paddedHeight: ph, paddedWidth: pw, outputChannels: t.m,
                                  outputHeight: t.h, outputWidth: t.w)
            }
            let rowSplit = t.h / 2, blockSplit = conv.blocks / 2
            x.withUnsafeBufferPointer { px in
                residual.withUnsafeBufferPointer { pr in
                    y.withUnsafeMutableBufferPointer { py in
                        for image in 0..<t.images {
                            for (rows, blocks) in [(rowSplit..<t.h, 0..<conv.blocks), (0..<rowSplit, blockSplit..<conv.blocks), (0..<rowSplit, 0..<blockSplit)] {
                                conv.compute(input: px.baseAddress! + image * t.c * ph * pw, bias: bias,
                                             residual: t.residual ? pr.baseAddress! + image * t.m * plane : nil,
                                             output: py.baseAddress! + image * t.m * plane, activation: t.activation, blocks: blocks, rows: rows)
                            }
                        }
                    }
                }
            }
            XCTAssertEqual(Array(y.suffix(5)), [Float](repeating: -7, count: 5), "case \(index): written past the output")
            for image in 0..<t.images {
                for o in 0..<t.m {
                    for i in 0..<t.h {
                        for j in 0..<t.w {
                            var sum = Double(bias[o])
                            for ci in 0..<t.c {
                                for a in 0..<3 {
                                    for b in 0..<3 {
                                        sum += Double(x[((image * t.c + ci) * ph + i + a) * pw + j + b]) * Double(w[((o * t.c + ci) * 3 + a) * 3 + b])
                                    }
                                }
                            }
                            let at = (image * t.m + o) * plane + i * t.w + j
                            if t.residual { sum += Double(residual[at]) }
                            let want = t.activation.scalar(Float(sum)), got = y[at]
                            let message = "case \(index) image \(image) channel \(o) row \(i) column \(j)"
                            if want.isNaN { XCTAssertTrue(got.isNaN, "\(message): \(got), want NaN"); continue }
                            if want.isInfinite { XCTAssertEqual(got, want, message); continue }
                            XCTAssertEqual(got, want, accuracy: 2e-5 * (1 + abs(want)), message)
                        }
                    }
                }
            }
        }
    }
}
