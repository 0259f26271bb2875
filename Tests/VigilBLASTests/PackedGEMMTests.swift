import VigilBLAS
import XCTest

/// Vigil's packed GEMM and its vectorized activations against naive double-precision references: odd
/// sizes, several K blocks, prepacked and strided operands, convolution columns (strides, dilations,
/// images that end inside a register tile), every epilogue, NaN and infinity.
final class PackedGEMMTests: XCTestCase {
    static func values(_ count: Int, seed: UInt64) -> [Float] { BLASTests.values(count, seed: seed) }

    override func setUpWithError() throws {
        try XCTSkipUnless(VectorActivation.isAvailable, "the CPU has no AVX2 + FMA")
    }

    /// Runs `body` with the AVX-512 kernels and, on CPUs that have AVX-512, again with their AVX2 forms.
    static func forEachInstructionSet(_ body: (String) throws -> Void) rethrows {
        let saved = KernelFeatures.useAVX512
        defer { KernelFeatures.useAVX512 = saved }
        for avx512 in KernelFeatures.avx512Available ? [true, false] : [false] {
            KernelFeatures.useAVX512 = avx512
            try body(avx512 ? "AVX-512" : "AVX2")
        }
    }

    /// Every activation's vector form against its scalar form (libm) on a grid with the special values.
    func testVectorActivationsMatchTheirScalarForms() {
        Self.forEachInstructionSet { isa in checkVectorActivations(isa) }
    }

    func checkVectorActivations(_ isa: String) {
        var xs: [Float] = stride(from: -30, through: 30, by: 0.037).map { Float($0) }
        xs += [0, -0, 1e-30, -1e-30, 1e-4, -1e-4, 88, -88, 100, -100, .infinity, -.infinity, .nan, .greatestFiniteMagnitude]
        let kinds: [VectorActivation] = [
            .linear(slope: 0.1, low: -2, high: 6), .init(.sigmoid), .init(.swish, 1), .init(.swish, 1.702), .init(.hardSigmoid, 0.2, 0.5),
            .init(.hardSwish), .init(.tanh), .init(.gelu), .init(.geluTanh),
        ]
        for act in kinds {
            var y = [Float](repeating: 0, count: xs.count)
            act.apply(xs, &y, count: xs.count)
            for (x, got) in zip(xs, y) {
                let want = act.scalar(x)
                if want.isNaN { XCTAssertTrue(got.isNaN, "\(isa) \(act.kind) (\(x)) = \(got), want NaN"); continue }
                // A few units in the last place of the result, or of the terms that cancel in it (a·x + b, 1 + tanh);
                // Gelu's erf is accurate to 1.5e-7 absolute.
                let tolerance = (act.kind == .gelu ? 2e-7 * max(1, abs(x)) : 0) + 4e-7 * (abs(want) + min(abs(x), 10)) + 1e-37
                XCTAssertEqual(got, want, accuracy: tolerance, "\(isa) \(act.kind) (\(x))")
            }
        }
    }

    /// A naive product with the GEMM's epilogue, in double precision.
    static func reference(m: Int, n: Int, k: Int, a: (Int, Int) -> Float, b: (Int, Int) -> Float, rowBias: [Float]?, columnBias: [Float]?,
                          residual: ((Int, Int) -> Float)?, initial: ((Int, Int) -> Float)?, activation: VectorActivation) -> [Float] {
        var out = [Float](repeating: 0, count: m * n)
        for i in 0..<m {
            for j in 0..<n {
                var sum = 0.0
                for p in 0..<k { sum += Double(a(i, p)) * Double(b(p, j)) }
                sum += Double(initial?(i, j) ?? 0) + Double(rowBias?[i] ?? 0) + Double(columnBias?[j] ?? 0) + Double(residual?(i, j) ?? 0)
                out[i * n + j] = activation.scalar(Float(sum))
            }
        }
        return out
    }

    func assertClose(_ got: Float, _ want: Float, _ message: @autoclosure () -> String, file: StaticString = #filePath, line: UInt = #line) {
        if want.isNaN { XCTAssertTrue(got.isNaN, "\(message()): \(got), want NaN", file: file, line: line); return }
        if want.isInfinite { XCTAssertEqual(got, want, message(), file: file, line: line); return }
        XCTAssertEqual(got, want, accuracy: 2e-5 * (1 + abs(want)), message(), file: file, line: line)
    }

    /// Strided and prepacked operands, both K-block counts, split into tasks of rows and columns.
    func testMatrixProductsWithEveryOperandForm() {
        Self.forEachInstructionSet { isa in checkMatrixProducts(isa) }
    }

    func checkMatrixProducts(_ isa: String) {
        // n = 850 and 777: several blocks of columns (192 or 384 per block, by the L2 size), the last one short.
        // n = 1 with A prepacked: the matrix-vector kernel (AVX-512), K ending inside its 8-row step and in several blocks.
        for (m, n, k) in [(1, 1, 1), (7, 23, 5), (13, 40, 37), (6, 16, 513), (19, 33, 1100), (25, 70, 9), (9, 850, 40), (4, 777, 530),
                          (13, 1, 37), (19, 1, 1100), (6, 1, 16), (25, 1, 9), (5, 1, 3)] {
            let a = Self.values(m * k, seed: 11), b = Self.values(k * n, seed: 12)
            let rowBias = Self.values(m, seed: 13), columnBias = Self.values(n, seed: 14), residual = Self.values(m * n, seed: 15)
            let initial = Self.values(m * n, seed: 16)
            for form in 0..<4 {
                let act: VectorActivation = form % 2 == 0 ? .linear(slope: 0.25, low: -0.5, high: 1e30) : .init(.gelu)
                let transposedB = form >= 2
                let want = Self.reference(m: m, n: n, k: k, a: { a[$0 * k + $1] }, b: { b[$0 * n + $1] }, rowBias: rowBias,
                                          columnBias: columnBias, residual: { residual[$0 * n + $1] }, initial: { initial[$0 * n + $1] },
                                          activation: act)
                var c = initial
                // B transposed in memory: element (p, j) at bt[j · k + p].
                var bt = [Float](repeating: 0, count: k * n)
                for p in 0..<k { for j in 0..<n { bt[j * k + p] = b[p * n + j] } }
                let packedA = PackedMatrix(left: a, m: m, k: k, rowStride: k), packedB = PackedMatrix(right: b, k: k, n: n, rowStride: n)
                var workspace = [Float](repeating: .nan, count: PackedGEMM.workspaceCount(k: k))
                a.withUnsafeBufferPointer { pa in
                    (transposedB ? bt : b).withUnsafeBufferPointer { pb in
                        residual.withUnsafeBufferPointer { pr in
                            rowBias.withUnsafeBufferPointer { prb in
                                columnBias.withUnsafeBufferPointer { pcb in
                                    let left: PackedGEMM.RowSource = form == 1 ? .packed(packedA) : .strided(pa.baseAddress!, rowStride: k, columnStride: 1)
                                    let right: PackedGEMM.Source = form == 1 ? .packed(packedB)
                                        : .strided(pb.baseAddress!, rowStride: transposedB ? 1 : n, columnStride: transposedB ? k : 1, imageStride: 0)
                                    let epilogue = PackedGEMM.Epilogue(rowBias: prb.baseAddress, columnBias: pcb.baseAddress, residual: pr.baseAddress,
                                                                       activation: act, accumulate: true)
                                    // Two row chunks and two column chunks (at panel boundaries).
                                    let rowSplit = min(m, m > 12 ? 12 : 6), columnSplit = min(n, n > 32 ? 32 : 16)
                                    for rows in [0..<rowSplit, rowSplit..<m] where !rows.isEmpty {
                                        for columns in [0..<columnSplit, columnSplit..<n] where !columns.isEmpty {
                                            PackedGEMM.compute(m: m, n: n, k: k, a: left, b: right, c: &c,
                                                               layout: .init(rowStride: n, columnsPerImage: n), epilogue: epilogue,
                                                               rows: rows, columns: columns, workspace: &workspace)
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                for i in 0..<(m * n) { assertClose(c[i], want[i], "\(isa) m \(m) n \(n) k \(k) form \(form) [\(i / n), \(i % n)]") }
            }
        }
    }

    /// Convolution columns: strides 1, 2 and 3, a dilation, several images whose pixels end inside a tile,
    /// written into a wider output (a slice of a concatenation), with NaN and infinity in the input; read
    /// as the kernel runs, and packed beforehand in two column ranges (as threads that split the rows
    /// share them) and then computed in two row ranges.
    func testConvolutionColumns() {
        Self.forEachInstructionSet { isa in
            checkConvolutionColumns(isa, packedFirst: false)
            checkConvolutionColumns(isa, packedFirst: true)
        }
    }

    func checkConvolutionColumns(_ isa: String, packedFirst: Bool) {
        struct Case { var c, m, h, w, kh, kw, stride, dilation, images: Int }
        let cases = [
            Case(c: 3, m: 8, h: 9, w: 40, kh: 3, kw: 3, stride: 1, dilation: 1, images: 1),
            Case(c: 5, m: 13, h: 11, w: 45, kh: 3, kw: 3, stride: 2, dilation: 1, images: 2),
            Case(c: 4, m: 7, h: 7, w: 7, kh: 1, kw: 1, stride: 1, dilation: 1, images: 3),
            Case(c: 2, m: 6, h: 15, w: 14, kh: 2, kw: 3, stride: 3, dilation: 2, images: 2),
            Case(c: 70, m: 20, h: 6, w: 6, kh: 3, kw: 3, stride: 1, dilation: 1, images: 5),
        ]
        for (index, t) in cases.enumerated() {
            let oh = (t.h - (t.kh - 1) * t.dilation - 1) / t.stride + 1, ow = (t.w - (t.kw - 1) * t.dilation - 1) / t.stride + 1
            let plane = t.h * t.w, k = t.c * t.kh * t.kw, pixels = oh * ow
            var x = Self.values(t.images * t.c * plane, seed: 21 + UInt64(index))
            x[plane + 2 * t.w + 2] = .nan
            x[x.count - 1] = .infinity
            let w = Self.values(t.m * k, seed: 22), bias = Self.values(t.m, seed: 23)
            let extra = 3  // output channels of the wider output before and after this one's slice
            let channels = t.m + 2 * extra
            var y = [Float](repeating: -7, count: t.images * channels * pixels)
            let columns = ConvolutionColumns(channels: t.c, kernel: (t.kh, t.kw), dilations: (t.dilation, t.dilation), paddedWidth: t.w,
                                             channelStride: plane, imageStride: t.c * plane, outputWidth: ow, strides: (t.stride, t.stride))
            let packed = PackedMatrix(left: w, m: t.m, k: k, rowStride: k)
            var workspace = [Float](repeating: 0, count: PackedGEMM.workspaceCount(k: k))
            let n = t.images * pixels
            var shared = [Float](repeating: .nan, count: PackedGEMM.packedColumnsCount(k: k, n: n))
            let act = VectorActivation(.swish, 1)
            x.withUnsafeBufferPointer { px in
                bias.withUnsafeBufferPointer { pb in
                    y.withUnsafeMutableBufferPointer { py in
                        shared.withUnsafeMutableBufferPointer { ps in
                            var source = PackedGEMM.Source.convolution(px.baseAddress!, columns)
                            var rowRanges = [0..<t.m]
                            if packedFirst {
                                let split = min(n, PackedGEMM.columnPanel * ((n / PackedGEMM.columnPanel + 1) / 2))
                                for range in [split..<n, 0..<split] {
                                    PackedGEMM.packColumns(k: k, n: n, b: source, columnsPerImage: pixels, columns: range, into: ps.baseAddress!)
                                }
                                source = .packedConvolution(px.baseAddress!, columns, packed: ps.baseAddress!)
                                let rowSplit = min(t.m, PackedGEMM.rowPanel)
                                rowRanges = [rowSplit..<t.m, 0..<rowSplit]
                            }
                            for rows in rowRanges where !rows.isEmpty {
                                PackedGEMM.compute(m: t.m, n: n, k: k, a: .packed(packed), b: source, c: py.baseAddress! + extra * pixels,
                                                   layout: .init(rowStride: pixels, imageStride: channels * pixels, columnsPerImage: pixels),
                                                   epilogue: .init(rowBias: pb.baseAddress, activation: act), rows: rows,
                                                   columns: 0..<n, workspace: &workspace)
                            }
                        }
                    }
                }
            }
            for image in 0..<t.images {
                for o in 0..<channels {
                    for q in 0..<pixels {
                        let got = y[(image * channels + o) * pixels + q]
                        guard o >= extra && o < extra + t.m else { XCTAssertEqual(got, -7, "\(isa) case \(index): channel \(o) outside the slice"); continue }
                        let (i, j) = (q / ow, q % ow)
                        var sum = Double(bias[o - extra])
                        for ci in 0..<t.c {
                            for a in 0..<t.kh {
                                for b in 0..<t.kw {
                                    let row = i * t.stride + a * t.dilation, column = j * t.stride + b * t.dilation
                                    let xv: Float = x[image * t.c * plane + ci * plane + row * t.w + column]
                                    let wv: Float = w[(o - extra) * k + (ci * t.kh + a) * t.kw + b]
                                    sum += Double(xv) * Double(wv)
                                }
                            }
                        }
                        assertClose(got, act.scalar(Float(sum)), "\(isa) packed first \(packedFirst) case \(index) image \(image) channel \(o) pixel \(q)")
                    }
                }
            }
        }
    }

    /// A 1×1 convolution's matrix form over a batch: B and C strided by image, images of 50 and 3136 columns
    /// (tiles cross images, and the kernel reads B in place a tile ahead), a residual laid out like C,
    /// computed in two row ranges (each with its own first row panel) and two column ranges.
    func testStridedImagesWithResidual() {
        Self.forEachInstructionSet { isa in
            for (m, k, pixels, images) in [(20, 9, 50, 3), (13, 70, 3136, 2)] {
                let n = images * pixels
                let a = Self.values(m * k, seed: 31), x = Self.values(images * k * pixels, seed: 32)
                let residual = Self.values(images * m * pixels, seed: 33), bias = Self.values(m, seed: 34)
                let act = VectorActivation.linear(slope: 0, low: 0, high: 1e30)
                var c = [Float](repeating: .nan, count: images * m * pixels)
                let packedA = PackedMatrix(left: a, m: m, k: k, rowStride: k)
                var workspace = [Float](repeating: .nan, count: PackedGEMM.workspaceCount(k: k))
                x.withUnsafeBufferPointer { px in
                    residual.withUnsafeBufferPointer { pr in
                        bias.withUnsafeBufferPointer { pb in
                            let epilogue = PackedGEMM.Epilogue(rowBias: pb.baseAddress, residual: pr.baseAddress, activation: act)
                            let rowSplit = 12, columnSplit = 32 * (n / 64)
                            for rows in [0..<rowSplit, rowSplit..<m] {
                                for columns in [columnSplit..<n, 0..<columnSplit] {
                                    PackedGEMM.compute(m: m, n: n, k: k, a: .packed(packedA),
                                                       b: .strided(px.baseAddress!, rowStride: pixels, columnStride: 1, imageStride: k * pixels), c: &c,
                                                       layout: .init(rowStride: pixels, imageStride: m * pixels, columnsPerImage: pixels),
                                                       epilogue: epilogue, rows: rows, columns: columns, workspace: &workspace)
                                }
                            }
                        }
                    }
                }
                for image in 0..<images {
                    for i in 0..<m {
                        for q in 0..<pixels {
                            var sum = Double(bias[i]) + Double(residual[(image * m + i) * pixels + q])
                            for p in 0..<k { sum += Double(a[i * k + p]) * Double(x[(image * k + p) * pixels + q]) }
                            assertClose(c[(image * m + i) * pixels + q], act.scalar(Float(sum)), "\(isa) m \(m) k \(k) image \(image) [\(i), \(q)]")
                        }
                    }
                }
            }
        }
    }
}
