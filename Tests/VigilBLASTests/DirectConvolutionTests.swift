import VigilBLAS
import XCTest

/// The direct 3×3 convolution (strides 1 and 2) against a naive double-precision reference: widths that
/// end inside a vector and inside a run, both block sizes with a partial last block, several images,
/// rows and blocks computed in separate calls, bias, residual and activations (the inline piecewise-linear
/// and HardSwish forms and a called one), NaN and infinity.
final class DirectConvolutionTests: XCTestCase {
    override func setUpWithError() throws {
        try XCTSkipUnless(KernelFeatures.useAVX512, "the CPU has no AVX-512")
    }

    func testDirectConvolutionMatchesTheNaiveSum() {
        struct Case { var c, m, h, w, images: Int; var residual: Bool; var activation: VectorActivation; var stride = 1 }
        let cases = [
            Case(c: 3, m: 8, h: 5, w: 14, images: 1, residual: false, activation: .none),  // 16-channel blocks, one partial
            Case(c: 5, m: 13, h: 7, w: 17, images: 2, residual: true, activation: .linear(slope: 0, low: -.infinity, high: .infinity)),
            Case(c: 9, m: 20, h: 4, w: 33, images: 1, residual: false, activation: VectorActivation(.swish, 1)),
            Case(c: 4, m: 7, h: 6, w: 56, images: 2, residual: true, activation: .none),  // runs of 32 + 24 columns
            Case(c: 2, m: 17, h: 3, w: 61, images: 1, residual: false, activation: .linear(slope: 0.1, low: -1, high: 6)),
            Case(c: 33, m: 32, h: 9, w: 28, images: 1, residual: true, activation: .linear(slope: 0, low: -.infinity, high: .infinity)),
            Case(c: 6, m: 9, h: 5, w: 20, images: 1, residual: false, activation: VectorActivation(.hardSwish)),
            // Stride 2: output widths 7 (16-channel blocks), 17, 28 (runs of 16 + 12), 56 and 49 from odd and even planes.
            Case(c: 3, m: 16, h: 13, w: 13, images: 2, residual: true, activation: VectorActivation(.hardSwish), stride: 2),
            Case(c: 3, m: 11, h: 8, w: 34, images: 1, residual: false, activation: .linear(slope: 0, low: 0, high: 6), stride: 2),
            Case(c: 8, m: 8, h: 6, w: 55, images: 1, residual: true, activation: .linear(slope: 0, low: -.infinity, high: .infinity), stride: 2),
            Case(c: 16, m: 24, h: 5, w: 112, images: 1, residual: false, activation: VectorActivation(.swish, 1), stride: 2),
            Case(c: 5, m: 7, h: 4, w: 97, images: 2, residual: true, activation: .none, stride: 2),
        ]
        for (index, t) in cases.enumerated() {
            let (ph, pw) = (t.h + 2, t.w + 2), (oh, ow) = ((t.h - 1) / t.stride + 1, (t.w - 1) / t.stride + 1), plane = oh * ow
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
                                  outputHeight: oh, outputWidth: ow, stride: t.stride)
            }
            let rowSplit = oh / 2, blockSplit = conv.blocks / 2
            x.withUnsafeBufferPointer { px in
                residual.withUnsafeBufferPointer { pr in
                    y.withUnsafeMutableBufferPointer { py in
                        for image in 0..<t.images {
                            for (rows, blocks) in [(rowSplit..<oh, 0..<conv.blocks), (0..<rowSplit, blockSplit..<conv.blocks), (0..<rowSplit, 0..<blockSplit)] {
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
                    for i in 0..<oh {
                        for j in 0..<ow {
                            var sum = Double(bias[o])
                            for ci in 0..<t.c {
                                for a in 0..<3 {
                                    for b in 0..<3 {
                                        sum += Double(x[((image * t.c + ci) * ph + i * t.stride + a) * pw + j * t.stride + b])
                                            * Double(w[((o * t.c + ci) * 3 + a) * 3 + b])
                                    }
                                }
                            }
                            let at = (image * t.m + o) * plane + i * ow + j
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
