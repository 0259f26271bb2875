@testable import VigilExecutor
import VigilBLAS
import VigilIR
import VigilTestSupport
import XCTest

/// Conv and ConvTranspose against direct-loop references written from the ONNX definitions.
final class ConvolutionTests: XCTestCase {
    /// The Winograd kernel runs in these tests on AVX-512 machines on every shape it takes (by default only
    /// on the shapes where its AVX-512 form is faster).
    override func setUp() { ConvolutionKernels.winogradAVX512AnyShape = true }
    override func tearDown() { ConvolutionKernels.winogradAVX512AnyShape = false }

    struct ConvCase {
        var x: [Int]            // N, C, spatial…
        var outChannels: Int
        var kernel: [Int]
        var strides: [Int]? = nil
        var dilations: [Int]? = nil
        var pads: [Int]? = nil  // begin…, end…
        var group = 1
        var bias = true
        var autoPad: String? = nil
        /// Weights are uniform in ±scale (±1 by default).
        var weightScale: Float = 1
    }

    /// Direct convolution: y[n, m, o…] = b[m] + Σ_{c, k…} x[n, g·Cg + c, o·s − p + k·d] · w[m, c, k…].
    func referenceConv(_ x: Tensor, _ w: Tensor, _ b: Tensor?, strides: [Int], dilations: [Int], padsBegin: [Int],
                       padsEnd: [Int], group: Int) -> Tensor {
        let xs = x.shape, ws = w.shape
        let spatial = xs.count - 2
        let xv = x.scalars(as: Float.self), wv = w.scalars(as: Float.self), bv = b?.scalars(as: Float.self)
        let cg = xs[1] / group, mg = ws[0] / group
        var out = [xs[0], ws[0]]
        for i in 0..<spatial {
            out.append((xs[2 + i] + padsBegin[i] + padsEnd[i] - ((ws[2 + i] - 1) * dilations[i] + 1)) / strides[i] + 1)
        }
        var y = [Float](repeating: 0, count: out.reduce(1, *))
        let kernelIndices = allIndices(Array(ws[2...]))
        let inputStrides = (0..<spatial).map { i in xs[(3 + i)...].reduce(1, *) }  // within one channel plane
        let plane = xs[2...].reduce(1, *), kernelSize = ws[2...].reduce(1, *)
        for index in allIndices(out) {
            let n = index[0], m = index[1], g = m / mg
            var acc: Double = Double(bv?[m] ?? 0)
            for c in 0..<cg {
                let channelBase = (n * xs[1] + g * cg + c) * plane
                for (kOffset, k) in kernelIndices.enumerated() {
                    var offset = channelBase, inside = true
                    for i in 0..<spatial {
                        let p = index[2 + i] * strides[i] - padsBegin[i] + k[i] * dilations[i]
                        if p < 0 || p >= xs[2 + i] { inside = false; break }
                        offset += p * inputStrides[i]
                    }
                    if inside { acc += Double(xv[offset]) * Double(wv[(m * cg + c) * kernelSize + kOffset]) }
                }
            }
            y[flatIndex(index, out)] = Float(acc)
        }
        return floatTensor(y, out)
    }

    func check(_ c: ConvCase, seed: UInt64, winograd: Bool = true, file: StaticString = #filePath, line: UInt = #line) throws {
        let spatial = c.kernel.count
        let x = randomTensor(c.x, seed: seed)
        var w = randomTensor([c.outChannels, c.x[1] / c.group] + c.kernel, seed: seed + 1)
        if c.weightScale != 1 { w = floatTensor(w.scalars(as: Float.self).map { $0 * c.weightScale }, w.shape) }
        let b = c.bias ? randomTensor([c.outChannels], seed: seed + 2) : nil
        var attributes: [String: AttributeValue] = ["kernel_shape": ints(c.kernel), "group": .int(Int64(c.group))]
        if let s = c.strides { attributes["strides"] = ints(s) }
        if let d = c.dilations { attributes["dilations"] = ints(d) }
        if let p = c.pads { attributes["pads"] = ints(p) }
        if let a = c.autoPad { attributes["auto_pad"] = .string(Array(a.utf8)) }
        let strides = c.strides ?? Array(repeating: 1, count: spatial)
        let dilations = c.dilations ?? Array(repeating: 1, count: spatial)
        var begin = Array((c.pads ?? Array(repeating: 0, count: 2 * spatial))[..<spatial])
        var end = Array((c.pads ?? Array(repeating: 0, count: 2 * spatial))[spatial...])
        if let a = c.autoPad, a.hasPrefix("SAME") {
            // Output = ceil(in / stride); the total padding is split, the odd one going to the end (UPPER) or begin (LOWER).
            for i in 0..<spatial {
                let input = c.x[2 + i], out = (input + strides[i] - 1) / strides[i]
                let total = max(0, (out - 1) * strides[i] + (c.kernel[i] - 1) * dilations[i] + 1 - input)
                begin[i] = a == "SAME_UPPER" ? total / 2 : total - total / 2
                end[i] = total - begin[i]
            }
        }
        let expected = referenceConv(x, w, b, strides: strides, dilations: dilations, padsBegin: begin, padsEnd: end, group: c.group)
        for threads in [1, 2] {
            let args: [Arg] = [.input(x), .constant(w)] + (b.map { [Arg.constant($0)] } ?? [])
            let y = try runNode("Conv", args, attributes: attributes, threads: threads, winograd: winograd)[0]
            expectClose(y, expected, atol: 1e-5, rtol: 1e-4, "conv \(c) threads=\(threads)", file: file, line: line)
        }
    }

    func testIm2colPadded3x3() throws { try check(ConvCase(x: [2, 3, 9, 8], outChannels: 5, kernel: [3, 3], pads: [1, 1, 1, 1]), seed: 1) }
    /// Stride 1 with output rows as wide as input rows takes the shifted-plane im2col: asymmetric pads,
    /// dilation, and taps that fall entirely outside the input.
    func testSameWidthShiftedIm2col() throws {
        try check(ConvCase(x: [2, 5, 7, 9], outChannels: 3, kernel: [3, 3], dilations: [2, 2], pads: [1, 2, 3, 2]), seed: 50)
        try check(ConvCase(x: [1, 4, 3, 2], outChannels: 2, kernel: [3, 5], pads: [1, 2, 1, 2]), seed: 51)
        try check(ConvCase(x: [3, 6, 4, 4], outChannels: 4, kernel: [3, 3], pads: [0, 1, 0, 1], group: 2), seed: 52)
    }

    func testStridedAsymmetricPads() throws {
        try check(ConvCase(x: [1, 4, 11, 10], outChannels: 6, kernel: [3, 2], strides: [2, 3], pads: [1, 0, 2, 1]), seed: 2)
    }
    func testDilated() throws {
        try check(ConvCase(x: [1, 2, 10, 9], outChannels: 3, kernel: [3, 3], dilations: [2, 3], pads: [2, 1, 0, 3]), seed: 3)
    }
    func testGrouped() throws {
        try check(ConvCase(x: [2, 6, 7, 7], outChannels: 4, kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], group: 2), seed: 4)
    }
    func testDepthwise() throws {
        try check(ConvCase(x: [2, 5, 9, 8], outChannels: 5, kernel: [3, 3], strides: [2, 1], pads: [1, 0, 1, 2], group: 5), seed: 5)
    }
    func testDepthwiseDilatedNoBias() throws {
        try check(ConvCase(x: [1, 3, 8, 8], outChannels: 3, kernel: [3, 3], dilations: [2, 2], pads: [2, 2, 2, 2], group: 3, bias: false), seed: 6)
    }
    func testDepthwiseMultiplier() throws {
        try check(ConvCase(x: [1, 3, 6, 6], outChannels: 6, kernel: [3, 3], pads: [1, 1, 1, 1], group: 3), seed: 7)
    }
    /// The vectorized depthwise kernel: 3×3, 5×5 and 7×7 kernels, strides 1 to 3, dilations, asymmetric pads,
    /// rows wider than one or two 32-column steps and narrower than one vector, planes of at most 8 or 16 columns
    /// (computed 4 and 2 rows at a time, with 1 to 3 rows left over), a depth multiplier, several images, and
    /// kernels taller than the vector kernel takes (the scalar path).
    func testDepthwiseKernelShapes() throws {
        try check(ConvCase(x: [1, 6, 7, 7], outChannels: 6, kernel: [5, 5], pads: [2, 2, 2, 2], group: 6), seed: 75)
        try check(ConvCase(x: [1, 3, 13, 27], outChannels: 3, kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], group: 3), seed: 76)
        try check(ConvCase(x: [2, 2, 6, 5], outChannels: 4, kernel: [3, 3], pads: [1, 1, 1, 1], group: 2), seed: 74)
        try check(ConvCase(x: [1, 3, 9, 70], outChannels: 3, kernel: [3, 3], pads: [1, 1, 1, 1], group: 3), seed: 78)
        try check(ConvCase(x: [1, 4, 8, 67], outChannels: 4, kernel: [5, 5], strides: [2, 2], pads: [2, 2, 2, 2], group: 4), seed: 79)
        try check(ConvCase(x: [1, 2, 20, 40], outChannels: 2, kernel: [17, 3], pads: [1, 1, 1, 1], group: 2), seed: 77)
        try check(ConvCase(x: [3, 7, 37, 19], outChannels: 7, kernel: [3, 3], pads: [1, 1, 1, 1], group: 7), seed: 80)
        try check(ConvCase(x: [2, 6, 35, 34], outChannels: 6, kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], group: 6), seed: 81)
        try check(ConvCase(x: [1, 5, 23, 41], outChannels: 5, kernel: [5, 5], strides: [2, 2], pads: [2, 2, 2, 2], group: 5), seed: 82)
        try check(ConvCase(x: [2, 4, 14, 14], outChannels: 4, kernel: [7, 7], pads: [3, 3, 3, 3], group: 4), seed: 83)
        try check(ConvCase(x: [1, 3, 20, 29], outChannels: 6, kernel: [3, 5], strides: [3, 3], dilations: [1, 2], pads: [0, 3, 2, 1],
                           group: 3), seed: 84)
        try check(ConvCase(x: [1, 2, 5, 3], outChannels: 2, kernel: [3, 3], dilations: [2, 2], pads: [2, 2, 2, 2], group: 2, bias: false),
                  seed: 85)
    }

    /// The AVX-512 depthwise kernel (stride 1 reading the input in place with masked loads instead of a padded
    /// copy, stride 2 reading split rows): planes of 1 to 9 rows and tails after blocks of 8 (stride 2: 4) rows,
    /// widths around the 16-lane vector and the 32-column step of a stride-2 split, asymmetric pads and pads wider than the kernel (windows wholly in
    /// the padding), 3×3, 5×5, 7×7 and non-square kernels, and a depth multiplier (the fused
    /// epilogues: `checkFusedConvEpilogues`); then the
    /// same on the AVX2 kernel on AVX-512 machines.
    func testDepthwiseVectorWidthsAndRowBlocks() throws {
        let cases: [ConvCase] = [
            ConvCase(x: [1, 3, 1, 1], outChannels: 3, kernel: [3, 3], pads: [1, 1, 1, 1], group: 3),
            ConvCase(x: [2, 2, 9, 15], outChannels: 2, kernel: [3, 3], pads: [1, 1, 1, 1], group: 2),
            ConvCase(x: [1, 3, 13, 16], outChannels: 3, kernel: [3, 3], pads: [1, 0, 1, 2], group: 3),
            ConvCase(x: [1, 2, 17, 17], outChannels: 4, kernel: [5, 5], pads: [2, 2, 2, 2], group: 2),
            ConvCase(x: [1, 2, 6, 33], outChannels: 2, kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], group: 2),
            ConvCase(x: [1, 2, 12, 31], outChannels: 2, kernel: [3, 3], strides: [2, 2], pads: [0, 0, 1, 1], group: 2, bias: false),
            ConvCase(x: [1, 2, 11, 64], outChannels: 2, kernel: [5, 5], strides: [2, 2], pads: [2, 2, 2, 2], group: 2),
            ConvCase(x: [1, 2, 4, 5], outChannels: 2, kernel: [3, 3], pads: [4, 3, 5, 4], group: 2),
            ConvCase(x: [1, 2, 7, 7], outChannels: 2, kernel: [3, 3], strides: [2, 2], pads: [3, 3, 3, 3], group: 2),
            ConvCase(x: [2, 2, 7, 23], outChannels: 2, kernel: [7, 7], pads: [3, 3, 3, 3], group: 2),
            ConvCase(x: [1, 2, 10, 19], outChannels: 2, kernel: [3, 5], strides: [2, 2], pads: [1, 2, 1, 2], group: 2),
            ConvCase(x: [1, 2, 8, 18], outChannels: 2, kernel: [1, 4], pads: [0, 1, 0, 2], group: 2),
            // Stride 2 on AVX-512 splits each block of 4 output rows' input rows into even and odd columns:
            // 38 columns (3 vectors), partial blocks, a multiplier of 2 over two images; one vector, asymmetric pads.
            ConvCase(x: [2, 3, 21, 75], outChannels: 6, kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], group: 3),
            ConvCase(x: [1, 2, 30, 21], outChannels: 2, kernel: [3, 3], strides: [2, 2], pads: [0, 1, 2, 0], group: 2),
        ]
        for (index, c) in cases.enumerated() { try check(c, seed: UInt64(300 + index)) }
        guard InstructionSets.avx512Available else { return }
        InstructionSets.useAVX512 = false
        defer { InstructionSets.useAVX512 = true }
        for (index, c) in cases.enumerated() { try check(c, seed: UInt64(300 + index)) }
    }

    /// The AVX-512 kernel with 16 channels per vector (5×5 and 7×7 windows at any width, 3×3 ones on rows of at
    /// most 8 outputs): channel counts that leave a short last group of 16, several images (groups never span
    /// two), strides 1 and 2, a dilation, asymmetric pads and pads wider than the kernel, a depth multiplier,
    /// a 1×4 kernel, planes narrower and wider than a block of 8 outputs; then the same on the other kernels.
    func testDepthwiseChannelsInLanes() throws {
        let cases: [ConvCase] = [
            ConvCase(x: [2, 40, 7, 7], outChannels: 40, kernel: [5, 5], pads: [2, 2, 2, 2], group: 40),
            ConvCase(x: [1, 33, 14, 14], outChannels: 33, kernel: [5, 5], strides: [2, 2], pads: [1, 2, 2, 1], group: 33),
            ConvCase(x: [1, 17, 15, 12], outChannels: 17, kernel: [7, 7], pads: [3, 3, 3, 3], group: 17),
            ConvCase(x: [3, 18, 9, 11], outChannels: 18, kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], group: 18, bias: false),
            ConvCase(x: [1, 16, 7, 7], outChannels: 16, kernel: [3, 3], pads: [1, 1, 1, 1], group: 16),
            ConvCase(x: [1, 20, 11, 10], outChannels: 20, kernel: [5, 5], dilations: [2, 2], pads: [4, 3, 2, 4], group: 20),
            ConvCase(x: [1, 18, 4, 5], outChannels: 18, kernel: [5, 5], pads: [4, 3, 5, 4], group: 18),
            ConvCase(x: [1, 9, 8, 8], outChannels: 27, kernel: [5, 5], pads: [2, 2, 2, 2], group: 9),
            ConvCase(x: [2, 5, 6, 9], outChannels: 5, kernel: [1, 4], pads: [0, 1, 0, 2], group: 5),
            ConvCase(x: [1, 21, 30, 37], outChannels: 21, kernel: [5, 5], strides: [2, 2], pads: [2, 2, 2, 2], group: 21),
        ]
        for (index, c) in cases.enumerated() { try check(c, seed: UInt64(400 + index)) }
        guard InstructionSets.avx512Available else { return }
        InstructionSets.useAVX512 = false
        defer { InstructionSets.useAVX512 = true }
        for (index, c) in cases.enumerated() { try check(c, seed: UInt64(400 + index)) }
    }

    /// The AVX2 kernel with 8 channels per vector (``DepthwiseConvolution/AVX2ChannelsInLanes``) on every
    /// depthwise shape of the tests above — short groups of 8, several images, strides 1 to 3, dilations, pads
    /// wider than the kernel, depth multipliers, planes narrower than a vector, NaN and infinity, every fused
    /// activation with and without a residual — then the AVX2 row kernel on the same shapes (on AVX-512
    /// machines with AVX-512 off).
    func testDepthwiseChannelsInLanesAVX2() throws {
        let avx512 = InstructionSets.useAVX512
        InstructionSets.useAVX512 = false
        defer {
            InstructionSets.useAVX512 = avx512
            DepthwiseConvolution.avx2ChannelsInLanes = .whereFaster
        }
        for mode in [DepthwiseConvolution.AVX2ChannelsInLanes.always, .never] {
            DepthwiseConvolution.avx2ChannelsInLanes = mode
            try testDepthwise()
            try testDepthwiseDilatedNoBias()
            try testDepthwiseMultiplier()
            try testDepthwiseKernelShapes()
            try testDepthwiseVectorWidthsAndRowBlocks()
            try testDepthwiseChannelsInLanes()
            try testDepthwiseNonFiniteValues()
            try checkFusedConvEpilogues(depthwiseOnly: true)
        }
    }

    /// NaN and infinity in a depthwise convolution's input reach exactly the outputs whose window holds them,
    /// on the row kernel (3×3) and the AVX-512 kernel with 16 channels per vector (5×5).
    func testDepthwiseNonFiniteValues() throws {
        var xv = randomTensor([2, 3, 11, 21], seed: 86).scalars(as: Float.self)
        xv[4 * 21 + 7] = .nan
        xv[231 + 10 * 21 + 20] = .infinity
        xv[693 + 231 + 5 * 21] = -.infinity
        let x = floatTensor(xv, [2, 3, 11, 21]), b = randomTensor([3], seed: 88)
        for (kernel, pad) in [(3, 1), (5, 2)] {
            let w = randomTensor([3, 1, kernel, kernel], seed: 87)
            // Stride 2 rows one at a time; stride 1 rows two at a time, each input row shared by both; stride 2
            // both ways on split rows (AVX-512).
            for strides in [[2, 1], [1, 1], [2, 2]] {
                let expected = referenceConv(x, w, b, strides: strides, dilations: [1, 1], padsBegin: [pad, pad], padsEnd: [pad, pad], group: 3)
                XCTAssertTrue(expected.scalars(as: Float.self).contains { !$0.isFinite })
                for threads in [1, 2] {
                    let y = try runNode("Conv", [.input(x), .constant(w), .constant(b)],
                                        attributes: ["kernel_shape": ints([kernel, kernel]), "pads": ints([pad, pad, pad, pad]),
                                                     "strides": ints(strides), "group": .int(3)],
                                        threads: threads)[0]
                    expectClose(y, expected, "depthwise \(kernel)×\(kernel) with NaN and infinity, strides \(strides), threads \(threads)")
                }
            }
        }
    }

    func testPointwise() throws { try check(ConvCase(x: [3, 8, 5, 6], outChannels: 4, kernel: [1, 1]), seed: 8) }
    func testPointwiseStrided() throws { try check(ConvCase(x: [1, 8, 7, 6], outChannels: 4, kernel: [1, 1], strides: [2, 2], bias: false), seed: 9) }
    func testConv1D() throws { try check(ConvCase(x: [2, 3, 17], outChannels: 4, kernel: [5], strides: [2], pads: [2, 1]), seed: 10) }
    func testConv3D() throws {
        try check(ConvCase(x: [1, 2, 5, 6, 4], outChannels: 3, kernel: [3, 2, 3], strides: [1, 2, 1], pads: [1, 0, 1, 1, 1, 1]), seed: 11)
    }
    func testAutoPadSameUpper() throws {
        try check(ConvCase(x: [1, 3, 10, 9], outChannels: 4, kernel: [4, 3], strides: [2, 2], autoPad: "SAME_UPPER"), seed: 12)
    }
    func testAutoPadSameLower() throws {
        try check(ConvCase(x: [1, 3, 10, 9], outChannels: 4, kernel: [4, 3], strides: [2, 2], autoPad: "SAME_LOWER"), seed: 13)
    }
    func testAutoPadValid() throws {
        try check(ConvCase(x: [1, 3, 10, 9], outChannels: 4, kernel: [3, 3], strides: [2, 2], autoPad: "VALID"), seed: 14)
    }

    /// Tiny outputs take the per-image path at batch 1 and the multi-image GEMM path at larger batches.
    func testTinySpatialSingleAndBatched() throws {
        try check(ConvCase(x: [1, 16, 2, 2], outChannels: 24, kernel: [3, 3], pads: [1, 1, 1, 1]), seed: 15)
        try check(ConvCase(x: [1, 9, 3, 3], outChannels: 7, kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], bias: false), seed: 16)
        try check(ConvCase(x: [3, 16, 2, 2], outChannels: 24, kernel: [3, 3], pads: [1, 1, 1, 1]), seed: 17)
        try check(ConvCase(x: [5, 6, 5, 5], outChannels: 4, kernel: [3, 3], strides: [2, 2], group: 2), seed: 18)
    }

    /// 3×3 stride-1 convolutions with at least 96 output 2×2 tiles run on the Winograd F(2×2, 3×3) kernel:
    /// padded (in groups of images, and as a whole batch), unpadded, grouped, more than 256 channels (several
    /// reduction blocks), output channels not a multiple of 16, tile rows of 8, 4 and other widths.
    func testWinograd3x3() throws {
        XCTAssertTrue(InferenceSession.Options().winograd)
        try check(ConvCase(x: [2, 5, 20, 18], outChannels: 20, kernel: [3, 3], pads: [1, 1, 1, 1]), seed: 19)
        try check(ConvCase(x: [3, 8, 16, 16], outChannels: 6, kernel: [3, 3], pads: [1, 1, 1, 1], group: 2), seed: 20)
        try check(ConvCase(x: [2, 4, 22, 20], outChannels: 7, kernel: [3, 3], bias: false), seed: 21)
        // 2,340 products per output: with unit-scale weights the sums reach ~50, where float rounding alone
        // (in any order: the direct kernel's too) exceeds atol 1e-5, so weights are scaled as trained
        // networks' are (±1/√fan-in).
        try check(ConvCase(x: [1, 260, 22, 20], outChannels: 5, kernel: [3, 3], pads: [0, 1, 0, 1], weightScale: 1 / Float(2340).squareRoot()),
                  seed: 22)
        try check(ConvCase(x: [4, 16, 12, 12], outChannels: 33, kernel: [3, 3], pads: [1, 1, 1, 1]), seed: 23)
        try check(ConvCase(x: [7, 3, 8, 8], outChannels: 16, kernel: [3, 3], pads: [1, 1, 1, 1]), seed: 24)
        // The AVX-512 form: more than 512 channels (two blocks of the GEMM's K), 77 output channels (a pass
        // of 72 and one of 5), 20 tiles (a vector and a short one), tile runs cut by the rows of 5 tiles.
        try check(ConvCase(x: [1, 520, 8, 10], outChannels: 77, kernel: [3, 3], pads: [1, 1, 1, 1],
                           weightScale: 1 / Float(4680).squareRoot()), seed: 25)
        // Odd output sizes (the AVX-512 form; even ones elsewhere): tiles hanging over the last row and
        // column, padded and unpadded inputs.
        try check(ConvCase(x: [2, 24, 13, 11], outChannels: 30, kernel: [3, 3], pads: [1, 1, 1, 1],
                           weightScale: 1 / Float(216).squareRoot()), seed: 27)
        try check(ConvCase(x: [1, 16, 9, 12], outChannels: 20, kernel: [3, 3], bias: false, weightScale: 1 / Float(144).squareRoot()),
                  seed: 28)
        // Tile rows of 31 (runs of 16 and 15) and chunks (32 tiles on AVX-512, 96 on AVX2) that cut rows and cross images.
        try check(ConvCase(x: [2, 24, 6, 62], outChannels: 40, kernel: [3, 3], pads: [1, 1, 1, 1],
                           weightScale: 1 / Float(216).squareRoot()), seed: 26)
    }

    /// Winograd mixes the values of a 4×4 input patch, yet NaN and infinity in the input reach only the
    /// outputs whose own 3×3 window holds them (those tile blocks are computed by the definition), and a
    /// non-finite weight sends the convolution to the direct kernel.
    func testWinogradNonFiniteValues() throws {
        // 8 channels: Winograd's minimum.
        var xv = randomTensor([2, 8, 20, 20], seed: 30).scalars(as: Float.self)
        xv[5 * 20 + 7] = .nan
        xv[400 + 13 * 20 + 2] = .infinity
        xv[3200 + 2 * 400 + 19 * 20 + 19] = -.infinity
        xv[3200 + 7 * 400 + 8 * 20 + 8] = .infinity
        let x = floatTensor(xv, [2, 8, 20, 20])
        let w = randomTensor([6, 8, 3, 3], seed: 31), b = randomTensor([6], seed: 32)
        var wv = w.scalars(as: Float.self)
        wv[2 * 72 + 17] = .nan
        let nanWeights = floatTensor(wv, w.shape)
        let padded: [String: AttributeValue] = ["kernel_shape": ints([3, 3]), "pads": ints([1, 1, 1, 1])]
        let expected = referenceConv(x, w, b, strides: [1, 1], dilations: [1, 1], padsBegin: [1, 1], padsEnd: [1, 1], group: 1)
        // Unpadded for the NaN weight: every tap of every window is inside the input.
        let expectedNaNWeight = referenceConv(x, nanWeights, b, strides: [1, 1], dilations: [1, 1], padsBegin: [0, 0], padsEnd: [0, 0], group: 1)
        XCTAssertTrue(expected.scalars(as: Float.self).contains { !$0.isFinite } && expected.scalars(as: Float.self).contains { $0.isFinite })
        for threads in [1, 2] {
            expectClose(try runNode("Conv", [.input(x), .constant(w), .constant(b)], attributes: padded, threads: threads)[0], expected,
                        "non-finite inputs, threads \(threads)")
            expectClose(try runNode("Conv", [.input(x), .constant(nanWeights), .constant(b)], attributes: ["kernel_shape": ints([3, 3])],
                                    threads: threads)[0], expectedNaNWeight, "NaN weight, threads \(threads)")
        }
    }

    /// FusedConv (domain ai.vigil) = act(Conv(x, w, b) + z) for every activation, with and without the
    /// residual z, on the packed 2-D kernel (plain, grouped, image by image), the depthwise kernel and the 1-D
    /// im2col path — against the direct reference convolution.
    func testFusedConvEpilogues() throws {
        try checkFusedConvEpilogues()
    }

    /// The same on the portable im2col + OpenBLAS path that CPUs without AVX2 + FMA take.
    func testFusedConvEpiloguesWithoutPackedKernel() throws {
        let saved = ConvolutionKernels.usePackedKernel
        ConvolutionKernels.usePackedKernel = false
        defer { ConvolutionKernels.usePackedKernel = saved }
        try checkFusedConvEpilogues()
    }

    /// The vectorized kernels' AVX2 forms, on CPUs whose default is AVX-512: the fused epilogues, the
    /// depthwise shapes, and GEMM convolutions of every kind.
    func testAVX2KernelsOnAVX512Machines() throws {
        try XCTSkipUnless(InstructionSets.avx512Available, "the CPU has no AVX-512: the AVX2 kernels are the default ones")
        InstructionSets.useAVX512 = false
        defer { InstructionSets.useAVX512 = true }
        try checkFusedConvEpilogues()
        try testDepthwiseKernelShapes()
        try testDepthwiseNonFiniteValues()
        try testStridedAsymmetricPads()
        try testDilated()
        try testGrouped()
        try testPointwise()
        try testPointwiseStrided()
        try testTinySpatialSingleAndBatched()
        try testWinograd3x3()
        try testWinogradNonFiniteValues()
    }

    /// The same with the session's Winograd option off: the 256-tile case on the direct kernel.
    func testFusedConvEpiloguesWithoutWinograd() throws {
        try checkFusedConvEpilogues(winograd: false)
    }

    /// The same with 3×3 stride-1 convolutions on the GEMM, not the direct kernel, on AVX-512 CPUs.
    func testFusedConvEpiloguesWithoutTheDirectKernel() throws {
        ConvolutionKernels.directWithAVX512 = false
        defer { ConvolutionKernels.directWithAVX512 = true }
        try checkFusedConvEpilogues(winograd: false)
    }

    func checkFusedConvEpilogues(winograd: Bool = true, depthwiseOnly: Bool = false) throws {
        let activations: [(String, [Float], (Float) -> Float)] = [
            ("Relu", [], { max($0, 0) }),
            ("LeakyRelu", [0.1], { $0 < 0 ? 0.1 * $0 : $0 }),
            ("Clip", [-0.5, 0.5], { min(max($0, -0.5), 0.5) }),
            ("Sigmoid", [], { 1 / (1 + exp(-$0)) }),
            ("Tanh", [], { tanh($0) }),
            ("HardSwish", [], { $0 * min(max($0 / 6 + 0.5, 0), 1) }),
            ("Swish", [1], { $0 / (1 + exp(-$0)) }),
            ("HardSigmoid", [0.3, 0.4], { min(max(0.3 * $0 + 0.4, 0), 1) }),
            ("Gelu", [0], { 0.5 * $0 * (1 + erf($0 / Float(2).squareRoot())) }),
            ("Elu", [0.7], { $0 >= 0 ? $0 : 0.7 * (exp($0) - 1) }),
        ]
        // (x shape, w shape, group, pads, stride)
        let cases: [([Int], [Int], Int, [Int], Int)] = [
            ([2, 3, 7, 6], [20, 3, 3, 3], 1, [1, 1, 1, 1], 1),
            ([1, 4, 5, 5], [6, 2, 3, 3], 2, [0, 1, 1, 0], 1),
            ([2, 4, 6, 6], [4, 1, 3, 3], 4, [1, 1, 1, 1], 1),
            ([2, 3, 9], [5, 3, 3], 1, [1, 1], 1),
            ([5, 4, 17, 16], [6, 2, 3, 3], 2, [1, 2, 1, 0], 1),  // ≥ 256 pixels per image: padded in groups of images, the last one short
            ([4, 8, 16, 16], [10, 8, 3, 3], 1, [1, 1, 1, 1], 1),  // 256 output tiles: Winograd
            ([2, 8, 11, 13], [12, 8, 3, 3], 1, [1, 1, 1, 1], 1),  // Winograd on odd sizes (AVX-512; elsewhere the GEMM)
            ([1, 3, 4, 45], [3, 1, 3, 3], 3, [1, 1, 1, 1], 1),  // depthwise rows of one full 32-column step and a short one
            ([1, 4, 14, 14], [4, 1, 3, 3], 4, [1, 1, 1, 1], 1),  // depthwise planes of two blocks of rows (AVX-512), the second short
            ([1, 3, 13, 70], [3, 1, 3, 3], 3, [1, 1, 1, 1], 2),  // depthwise stride 2 (AVX-512: split rows), 35 columns, a short block
            ([2, 20, 7, 7], [20, 1, 5, 5], 20, [2, 2, 2, 2], 1),  // depthwise 5×5 (AVX-512: 16 channels per vector), a short group
            ([1, 18, 13, 12], [18, 1, 5, 5], 18, [2, 1, 2, 2], 2),  // the same at stride 2
            ([2, 5, 9, 40], [13, 5, 3, 3], 1, [1, 1, 1, 1], 1),  // direct 3×3 (AVX-512): runs of 3 vectors, a partial block of 8 channels
            ([1, 3, 6, 57], [9, 3, 3, 3], 1, [0, 0, 0, 0], 1),  // direct 3×3 on an unpadded input, 55 columns: runs of 2 + 2 vectors
            ([2, 3, 13, 29], [16, 3, 3, 3], 1, [1, 1, 1, 1], 2),  // direct 3×3 stride 2 (AVX-512): a 3-channel stem of 16 channels, 15 columns
            ([1, 16, 9, 34], [16, 8, 3, 3], 2, [1, 1, 0, 0], 2),  // direct 3×3 stride 2: groups of 8 channels, 17 columns
            ([1, 3, 10, 30], [24, 3, 3, 3], 1, [1, 1, 1, 1], 2),  // a stem of 24 channels: stride 2 on the GEMM
        ]
        for (index, (xShape, wShape, group, pads, stride)) in cases.enumerated() where !depthwiseOnly || group == xShape[1] && wShape[1] == 1 {
            let spatial = xShape.count - 2
            let x = randomTensor(xShape, seed: UInt64(40 + index)), w = randomTensor(wShape, seed: UInt64(50 + index))
            let b = randomTensor([wShape[0]], seed: UInt64(60 + index))
            let conv = referenceConv(x, w, b, strides: Array(repeating: stride, count: spatial), dilations: Array(repeating: 1, count: spatial),
                                     padsBegin: Array(pads.prefix(spatial)), padsEnd: Array(pads.suffix(spatial)), group: group)
            let z = randomTensor(conv.shape, seed: UInt64(70 + index))
            for (name, params, f) in activations {
                for residual in [false, true] {
                    var graph = Graph(name: "fused")
                    graph.inputs = [ValueInfo(name: "x", type: .tensor(.float32, Shape(static: x.shape)))]
                        + (residual ? [ValueInfo(name: "z", type: .tensor(.float32, Shape(static: z.shape)))] : [])
                    graph.outputs = [ValueInfo(name: "y", type: nil)]
                    graph.setInitializer("w", w)
                    graph.setInitializer("b", b)
                    var attributes = [Attribute(name: "pads", value: ints(pads)), Attribute(name: "group", value: .int(Int64(group))),
                                      Attribute(name: "strides", value: ints(Array(repeating: stride, count: spatial))),
                                      Attribute(name: "activation", value: .string(Array(name.utf8)))]
                    if !params.isEmpty { attributes.append(Attribute(name: "activation_params", value: .floats(params))) }
                    try graph.addNode(Node(name: "fused", opType: "FusedConv", domain: "ai.vigil",
                                           inputs: ["x", "w", "b"] + (residual ? ["z"] : []), outputs: ["y"], attributes: attributes))
                    let model = Model(irVersion: 8, opsetImports: [OpsetImport(domain: "", version: 13), OpsetImport(domain: "ai.vigil", version: 1)],
                                      graph: graph)
                    let zs = z.scalars(as: Float.self)
                    let expected = floatTensor(conv.scalars(as: Float.self).enumerated().map { f($1 + (residual ? zs[$0] : 0)) }, conv.shape)
                    for threads in [1, 2] {
                        let session = try InferenceSession(model: model, options: .init(threads: threads, winograd: winograd))
                        let feeds = residual ? ["x": x, "z": z] : ["x": x]
                        expectClose(try session.run(feeds)["y"], expected, "case \(index) \(name) residual \(residual) threads \(threads)")
                    }
                }
            }
        }
    }

    /// Direct transposed convolution: every x[n, g·Cg + c, i…] scatters x·w[g·Cg + c, m, k…] into
    /// y[n, g·Mg + m, i·s − p + k·d].
    func referenceConvTranspose(_ x: Tensor, _ w: Tensor, _ b: Tensor?, strides: [Int], dilations: [Int], padsBegin: [Int],
                                out: [Int], group: Int) -> Tensor {
        let xs = x.shape, ws = w.shape
        let spatial = xs.count - 2
        let xv = x.scalars(as: Float.self), wv = w.scalars(as: Float.self), bv = b?.scalars(as: Float.self)
        let cg = xs[1] / group, mg = ws[1]
        var y = [Double](repeating: 0, count: out.reduce(1, *))
        for index in allIndices(out) { y[flatIndex(index, out)] = Double(bv?[index[1]] ?? 0) }
        for xi in allIndices(xs) {
            let n = xi[0], ch = xi[1], g = ch / cg
            for m in 0..<mg {
                for k in allIndices(Array(ws[2...])) {
                    var position = [n, g * mg + m]
                    var inside = true
                    for i in 0..<spatial {
                        let p = xi[2 + i] * strides[i] - padsBegin[i] + k[i] * dilations[i]
                        if p < 0 || p >= out[2 + i] { inside = false }
                        position.append(p)
                    }
                    if inside { y[flatIndex(position, out)] += Double(xv[flatIndex(xi, xs)]) * Double(wv[flatIndex([ch, m] + k, ws)]) }
                }
            }
        }
        return floatTensor(y.map { Float($0) }, out)
    }

    func testConvTransposeStridedPadded() throws {
        let x = randomTensor([2, 4, 5, 4], seed: 20), w = randomTensor([4, 3, 3, 3], seed: 21), b = randomTensor([3], seed: 22)
        // Output = s·(in−1) + output_padding + (k−1)·d + 1 − pads.
        let out = [2, 3, 2 * 4 + 1 + 3 - 1 - 1, 2 * 3 + 0 + 3 - 0 - 1]
        let expected = referenceConvTranspose(x, w, b, strides: [2, 2], dilations: [1, 1], padsBegin: [1, 0], out: out, group: 1)
        let y = try runNode("ConvTranspose", [.input(x), .constant(w), .constant(b)],
                            attributes: ["strides": ints([2, 2]), "pads": ints([1, 0, 1, 1]), "output_padding": ints([1, 0])])[0]
        expectClose(y, expected, "ConvTranspose")
    }

    func testConvTransposeGroupedDilated() throws {
        let x = randomTensor([1, 4, 4, 3], seed: 23), w = randomTensor([4, 2, 2, 3], seed: 24)
        let out = [1, 4, 1 * 3 + (2 - 1) * 2 + 1, 2 * 2 + (3 - 1) * 1 + 1]
        let expected = referenceConvTranspose(x, w, nil, strides: [1, 2], dilations: [2, 1], padsBegin: [0, 0], out: out, group: 2)
        let y = try runNode("ConvTranspose", [.input(x), .constant(w)],
                            attributes: ["strides": ints([1, 2]), "dilations": ints([2, 1]), "group": .int(2)])[0]
        expectClose(y, expected, "ConvTranspose grouped")
    }

    func testConvTransposeOutputShape() throws {
        let x = randomTensor([1, 2, 3, 3], seed: 25), w = randomTensor([2, 2, 3, 3], seed: 26)
        // Full size 2·2 + 3 = 7; requesting 6 pads one unit away. Without auto_pad=SAME_UPPER the ONNX
        // definition puts total − total/2 = 1 at the start.
        let expected = referenceConvTranspose(x, w, nil, strides: [2, 2], dilations: [1, 1], padsBegin: [1, 1], out: [1, 2, 6, 6], group: 1)
        let y = try runNode("ConvTranspose", [.input(x), .constant(w)],
                            attributes: ["strides": ints([2, 2]), "output_shape": ints([6, 6])])[0]
        expectClose(y, expected, "ConvTranspose output_shape")
        // With SAME_UPPER the unit goes to the end instead.
        let upper = referenceConvTranspose(x, w, nil, strides: [2, 2], dilations: [1, 1], padsBegin: [0, 0], out: [1, 2, 6, 6], group: 1)
        let y2 = try runNode("ConvTranspose", [.input(x), .constant(w)],
                             attributes: ["strides": ints([2, 2]), "output_shape": ints([6, 6]), "auto_pad": .string(Array("SAME_UPPER".utf8))])[0]
        expectClose(y2, upper, "ConvTranspose output_shape SAME_UPPER")
    }
}
