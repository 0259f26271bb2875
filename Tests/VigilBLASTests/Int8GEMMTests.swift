import VigilBLAS
import XCTest

/// Vigil's integer kernels (every variant this CPU runs) against naive integer references: exact int32
/// accumulators for odd sizes and for the extreme values where `vpmaddubsw` would saturate, the
/// requantizing epilogue, gathered convolution taps, and the depthwise kernel.
final class Int8GEMMTests: XCTestCase {
    /// A deterministic pseudo-random integer in `range`.
    static func integers(_ count: Int, _ range: ClosedRange<Int>, seed: UInt64) -> [Int] {
        var state = seed
        return (0..<count).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return range.lowerBound + Int((state >> 33) % UInt64(range.count))
        }
    }

    static var variants: [Int8KernelVariant] { Int8KernelVariant.allCases.filter(\.isAvailable) }

    /// One GEMM through a variant: activations (rows of `x`, K wide) times weights, with the zero-point
    /// correction, written as `output` through `epilogue`. Returns the raw output bytes (pixel-major, or channel-major as an NCHW convolution writes them).
    static func run(_ variant: Int8KernelVariant, weights: [Int16], m: Int, k: Int, x: [UInt8], rows: Int, signed: Bool, zeroPoint: Int32,
                    bias: [Int32], multiplier: [Float], floatBias: [Float]? = nil, activation: EpilogueActivation = .none,
                    output: Int8Output, channelMajor: Bool = false) -> [UInt8]? {
        guard let packed = Int8PackedWeights(weights: weights, rows: m, reduction: k, variant: variant) else { return nil }
        let shift = packed.activationShift(isSigned: signed, zeroPoint: zeroPoint)
        let offsets = zip(bias, packed.rowSums).map { $0 + shift * $1 }
        let epilogue = Int8Epilogue(rowOffset: offsets, multiplier: multiplier, floatBias: floatBias, activation: activation, output: output)
        var y = [UInt8](repeating: 0xEE, count: rows * m * output.elementSize)
        var block = [UInt8](repeating: 0, count: packed.blockBytes)
        let layout = channelMajor ? Int8OutputLayout(pixelsPerImage: rows, imageStride: 0, pixelStride: 1, channelStride: rows)
            : Int8OutputLayout(pixelsPerImage: rows, imageStride: 0, pixelStride: m, channelStride: 1)
        x.withUnsafeBufferPointer { xs in
            var first = 0
            while first < rows {
                let count = min(Int8PackedWeights.pixelBlock, rows - first)
                let pixelOffsets = (0..<count).map { Int64((first + $0) * k) }
                packed.pack(Int8Source(data: xs.baseAddress!, isSigned: signed, zeroPoint: zeroPoint), pixelOffsets: pixelOffsets, count: count,
                            into: &block)
                y.withUnsafeMutableBytes { out in
                    packed.compute(block: block, firstPixel: first, count: count, panels: 0..<packed.panelCount, epilogue: epilogue,
                                   output: out.baseAddress!, layout: layout)
                }
                first += count
            }
        }
        return y
    }

    /// Σ_k (x − zx)·w + bias, exactly.
    static func reference(weights: [Int16], m: Int, k: Int, x: [UInt8], rows: Int, signed: Bool, zeroPoint: Int32, bias: [Int32]) -> [Int64] {
        var result = [Int64](repeating: 0, count: rows * m)
        for r in 0..<rows {
            for o in 0..<m {
                var sum = Int64(bias[o])
                for c in 0..<k {
                    let v = signed ? Int64(Int8(bitPattern: x[r * k + c])) : Int64(x[r * k + c])
                    sum += (v - Int64(zeroPoint)) * Int64(weights[o * k + c])
                }
                result[r * m + o] = sum
            }
        }
        return result
    }

    func testAccumulatorsAreExactForOddSizesInEveryVariant() {
        XCTAssertTrue(Self.variants.contains(.portable))
        for (m, k, rows) in [(1, 1, 1), (5, 3, 7), (17, 29, 4), (33, 300, 97), (16, 64, 96), (3, 7, 200), (48, 1037, 9), (64, 520, 5), (80, 2101, 6)] {
            for signed in [false, true] {
                let weights = Self.integers(m * k, -127...127, seed: UInt64(m * 31 + k)).map(Int16.init)
                let x = Self.integers(rows * k, signed ? -128...127 : 0...255, seed: UInt64(rows + k)).map { UInt8(truncatingIfNeeded: $0) }
                let zeroPoint: Int32 = signed ? -3 : 131
                let bias = Self.integers(m, -1000...1000, seed: 9).map(Int32.init)
                let expected = Self.reference(weights: weights, m: m, k: k, x: x, rows: rows, signed: signed, zeroPoint: zeroPoint, bias: bias)
                for variant in Self.variants {
                    let y = Self.run(variant, weights: weights, m: m, k: k, x: x, rows: rows, signed: signed, zeroPoint: zeroPoint, bias: bias,
                                     multiplier: [Float](repeating: 1, count: m), output: .int32)
                    let got = y.map { bytes in bytes.withUnsafeBytes { Array($0.bindMemory(to: Int32.self)).map(Int64.init) } }
                    XCTAssertEqual(got, expected, "\(variant) m \(m) k \(k) rows \(rows) signed \(signed)")
                }
            }
        }
    }

    /// The extremes where the pair sums of a plain `vpmaddubsw` would saturate (255·127·2 > 32767):
    /// every variant stays exact.
    func testExtremeValuesDoNotSaturate() {
        let (m, k, rows) = (16, 64, 8)
        for signed in [false, true] {
            for (wv, xv) in [(Int16(127), signed ? -128 : 255), (-127, signed ? -128 : 0), (127, signed ? 127 : 255), (-127, signed ? 127 : 0)] {
                let weights = [Int16](repeating: wv, count: m * k)
                let x = [UInt8](repeating: UInt8(truncatingIfNeeded: xv), count: rows * k)
                let bias = [Int32](repeating: 0, count: m)
                let expected = Self.reference(weights: weights, m: m, k: k, x: x, rows: rows, signed: signed, zeroPoint: 0, bias: bias)
                for variant in Self.variants {
                    let y = Self.run(variant, weights: weights, m: m, k: k, x: x, rows: rows, signed: signed, zeroPoint: 0, bias: bias,
                                     multiplier: [Float](repeating: 1, count: m), output: .int32)
                    let got = y.map { bytes in bytes.withUnsafeBytes { Array($0.bindMemory(to: Int32.self)).map(Int64.init) } }
                    XCTAssertEqual(got, expected, "\(variant) w \(wv) x \(xv) signed \(signed)")
                }
            }
        }
    }

    /// Weights a variant cannot hold are refused (the caller then uses the portable variant).
    func testOutOfRangeWeightsAreRefused() {
        XCTAssertNil(Int8PackedWeights(weights: [-128, 0, 1, 2], rows: 1, reduction: 4, variant: .avx2))
        XCTAssertNotNil(Int8PackedWeights(weights: [-128, 0, 1, 2], rows: 1, reduction: 4, variant: .avxVNNI))
        XCTAssertNil(Int8PackedWeights(weights: [200, 0, 1, 2], rows: 1, reduction: 4, variant: .avxVNNI))
        XCTAssertNotNil(Int8PackedWeights(weights: [-128, 0, 1, 2], rows: 1, reduction: 4, variant: .avx512VNNI))
        XCTAssertNotNil(Int8PackedWeights(weights: [200, -255, 1, 2], rows: 1, reduction: 4, variant: .portable))
    }

    /// Requantized and dequantized outputs: round half to even of act(v·multiplier + bias) plus the zero
    /// point, saturated; the float output is the same value unrounded.
    func testEpilogueRequantizesWithActivation() {
        let (m, k, rows) = (20, 13, 9)
        let weights = Self.integers(m * k, -127...127, seed: 3).map(Int16.init)
        let x = Self.integers(rows * k, 0...255, seed: 4).map { UInt8($0) }
        let bias = Self.integers(m, -3000...3000, seed: 5).map(Int32.init)
        let multiplier = Self.integers(m, 1...40, seed: 6).map { Float($0) / 4096 }
        let floatBias = Self.integers(m, -20...20, seed: 7).map { Float($0) / 8 }
        let activation = EpilogueActivation(slope: 0.25, low: -30, high: 60)
        let acc = Self.reference(weights: weights, m: m, k: k, x: x, rows: rows, signed: false, zeroPoint: 7, bias: bias)
        func real(_ i: Int) -> Double {
            var t = Double(acc[i]) * Double(multiplier[i % m]) + Double(floatBias[i % m])
            if t < 0 { t *= 0.25 }
            return min(max(t, -30), 60)
        }
        for variant in Self.variants {
            for output in [Int8Output.uint8(zeroPoint: 100), .int8(zeroPoint: -5)] {
                let y = Self.run(variant, weights: weights, m: m, k: k, x: x, rows: rows, signed: false, zeroPoint: 7, bias: bias,
                                 multiplier: multiplier, floatBias: floatBias, activation: activation, output: output)!
                for i in 0..<(rows * m) {
                    let t = real(i)
                    let (z, lo, hi): (Double, Double, Double) = output == .uint8(zeroPoint: 100) ? (100, 0, 255) : (-5, -128, 127)
                    let got = output == .uint8(zeroPoint: 100) ? Double(y[i]) : Double(Int8(bitPattern: y[i]))
                    // Float rounding may move a value sitting on a half step by one.
                    XCTAssertEqual(got, min(max(t.rounded(.toNearestOrEven) + z, lo), hi), accuracy: abs(t - t.rounded(.down) - 0.5) < 1e-4 ? 1 : 0,
                                   "\(variant) \(output) [\(i)] t \(t)")
                }
            }
            let f = Self.run(variant, weights: weights, m: m, k: k, x: x, rows: rows, signed: false, zeroPoint: 7, bias: bias,
                             multiplier: multiplier, floatBias: floatBias, activation: activation, output: .float32)!
            let floats = f.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
            for i in 0..<(rows * m) { XCTAssertEqual(Double(floats[i]), real(i), accuracy: 1e-4 * (1 + abs(real(i))), "\(variant) float [\(i)]") }
        }
    }

    /// A convolution's taps gathered through row offsets (3×3, stride 2, over a padded plane): the
    /// accumulators equal the definition.
    func testGatheredTapsMatchTheConvolutionDefinition() {
        let (c, m, h, w, stride) = (3, 18, 9, 8, 2)
        let (oh, ow) = ((h - 3) / stride + 1, (w - 3) / stride + 1)
        let k = c * 9
        let weights = Self.integers(m * k, -127...127, seed: 11).map(Int16.init)
        let x = Self.integers(c * h * w, 0...255, seed: 12).map { UInt8($0) }
        let rowOffsets = (0..<k).map { r in Int64(r / 9 * h * w + (r % 9 / 3) * w + r % 3) }
        let pixelOffsets = (0..<(oh * ow)).map { p in Int64((p / ow) * stride * w + (p % ow) * stride) }
        for variant in Self.variants {
            let packed = Int8PackedWeights(weights: weights, rows: m, reduction: k, variant: variant)!
            let shift = packed.activationShift(isSigned: false, zeroPoint: 0)
            let epilogue = Int8Epilogue(rowOffset: packed.rowSums.map { shift * $0 }, multiplier: [Float](repeating: 1, count: m), output: .int32)
            var block = [UInt8](repeating: 0, count: packed.blockBytes)
            var y = [Int32](repeating: 0, count: m * oh * ow)
            x.withUnsafeBufferPointer { xs in
                rowOffsets.withUnsafeBufferPointer { ro in
                    packed.pack(Int8Source(data: xs.baseAddress!, isSigned: false, zeroPoint: 0, rowOffsets: ro.baseAddress), pixelOffsets: pixelOffsets,
                                count: oh * ow, into: &block)
                }
            }
            y.withUnsafeMutableBytes { out in
                packed.compute(block: block, firstPixel: 0, count: oh * ow, panels: 0..<packed.panelCount, epilogue: epilogue, output: out.baseAddress!,
                               layout: Int8OutputLayout(pixelsPerImage: oh * ow, imageStride: 0, pixelStride: 1, channelStride: oh * ow))
            }
            for o in 0..<m {
                for p in 0..<(oh * ow) {
                    var sum: Int32 = 0
                    for ci in 0..<c {
                        for a in 0..<3 {
                            for b in 0..<3 {
                                sum += Int32(x[(ci * h + (p / ow) * stride + a) * w + (p % ow) * stride + b]) * Int32(weights[o * k + ci * 9 + a * 3 + b])
                            }
                        }
                    }
                    XCTAssertEqual(y[o * oh * ow + p], sum, "\(variant) [\(o), \(p)]")
                }
            }
        }
    }

    /// The depthwise kernel (stride 2, dilation 2, int8 input) against the definition.
    func testDepthwiseMatchesTheDefinition() {
        let (c, ph, pw, kh, kw, s, d) = (5, 13, 11, 3, 3, 2, 2)
        let (oh, ow) = ((ph - (kh - 1) * d - 1) / s + 1, (pw - (kw - 1) * d - 1) / s + 1)
        let x = Self.integers(2 * c * ph * pw, -128...127, seed: 21).map { UInt8(truncatingIfNeeded: $0) }
        let weights = Self.integers(c * kh * kw, -255...255, seed: 22).map(Int16.init)
        let conv = Int8Depthwise(channels: c, paddedHeight: ph, paddedWidth: pw, outputHeight: oh, outputWidth: ow, kernel: (kh, kw),
                                 strides: (s, s), dilations: (d, d), weights: weights, imageStride: c * oh * ow, channelStride: oh * ow)
        let zeroPoint: Int32 = 9
        let epilogue = Int8Epilogue(rowOffset: conv.channelSums.map { -zeroPoint * $0 }, multiplier: [Float](repeating: 1, count: c), output: .int32)
        var y = [Int32](repeating: 0, count: 2 * c * oh * ow)
        x.withUnsafeBufferPointer { xs in
            y.withUnsafeMutableBytes { conv.compute(x: xs.baseAddress!, isSigned: true, planes: 0..<(2 * c), epilogue: epilogue, output: $0.baseAddress!) }
        }
        for q in 0..<(2 * c) {
            for i in 0..<oh {
                for j in 0..<ow {
                    var sum: Int32 = 0
                    for a in 0..<kh {
                        for b in 0..<kw {
                            let v = Int32(Int8(bitPattern: x[(q * ph + i * s + a * d) * pw + j * s + b * d]))
                            sum += (v - zeroPoint) * Int32(weights[(q % c) * kh * kw + a * kw + b])
                        }
                    }
                    XCTAssertEqual(y[(q * oh + i) * ow + j], sum, "plane \(q) [\(i), \(j)]")
                }
            }
        }
    }

    /// The requantized value of a real result `t` for a uint8 or int8 output: round half to even plus the
    /// zero point, saturated; and the tolerance (1 when `t` sits within float rounding of a half step).
    static func requantized(_ t: Double, _ output: Int8Output) -> (value: Double, tolerance: Double) {
        let (z, lo, hi): (Double, Double, Double)
        switch output {
        case .uint8(let zp): (z, lo, hi) = (Double(zp), 0, 255)
        case .int8(let zp): (z, lo, hi) = (Double(zp), -128, 127)
        default: fatalError("not a quantized output")
        }
        return (min(max(t.rounded(.toNearestOrEven) + z, lo), hi), abs(t - t.rounded(.down) - 0.5) < 1e-4 ? 1 : 0)
    }

    /// Quantized outputs written channel by channel (an NCHW convolution's layout: runs of 16 pixels
    /// transposed, a partial last panel, pixel counts that are not multiples of 16) equal the
    /// requantized definition in every variant.
    func testQuantizedOutputsInChannelMajorLayout() {
        for (m, k, rows) in [(37, 19, 45), (16, 8, 32), (5, 40, 300)] {
            let weights = Self.integers(m * k, -127...127, seed: UInt64(31 + m)).map(Int16.init)
            let x = Self.integers(rows * k, 0...255, seed: UInt64(32 + rows)).map { UInt8($0) }
            let bias = Self.integers(m, -3000...3000, seed: 33).map(Int32.init)
            let multiplier = Self.integers(m, 1...40, seed: 34).map { Float($0) / 2048 }
            let acc = Self.reference(weights: weights, m: m, k: k, x: x, rows: rows, signed: false, zeroPoint: 3, bias: bias)
            for variant in Self.variants {
                for (output, activation) in [(Int8Output.uint8(zeroPoint: 0), EpilogueActivation(slope: 0, low: 0, high: .infinity)),
                                             (.int8(zeroPoint: 7), EpilogueActivation.none), (.uint8(zeroPoint: 120), EpilogueActivation(slope: 0.1, low: -8, high: 6))] {
                    let y = Self.run(variant, weights: weights, m: m, k: k, x: x, rows: rows, signed: false, zeroPoint: 3, bias: bias,
                                     multiplier: multiplier, activation: activation, output: output, channelMajor: true)!
                    for p in 0..<rows {
                        for o in 0..<m {
                            var t = Double(acc[p * m + o]) * Double(multiplier[o])
                            if t < 0 { t *= Double(activation.slope) }
                            t = min(max(t, Double(activation.low)), Double(activation.high))
                            let (want, tolerance) = Self.requantized(t, output)
                            let byte = y[o * rows + p]
                            let got = output == .int8(zeroPoint: 7) ? Double(Int8(bitPattern: byte)) : Double(byte)
                            XCTAssertEqual(got, want, accuracy: tolerance, "\(variant) \(output) m \(m) rows \(rows) [\(o), \(p)]")
                        }
                    }
                }
            }
        }
    }

    /// The depthwise kernel with a requantizing epilogue at stride 1 (outputs computed as runs over the
    /// padded rows, more than one run per plane) and stride 2, uint8 and int8 outputs, against the definition.
    func testDepthwiseRequantizesAtStrideOneAndTwo() {
        let (c, ph, pw, kh, kw) = (3, 21, 19, 3, 3)
        let x = Self.integers(c * ph * pw, 0...255, seed: 41).map { UInt8($0) }
        let weights = Self.integers(c * kh * kw, -127...127, seed: 42).map(Int16.init)
        let multiplier: [Float] = [0.004, 0.0125, 0.02]
        let floatBias: [Float] = [-3.5, 0.25, 2]
        let zeroPoint: Int32 = 128
        for s in [1, 2] {
            let (oh, ow) = ((ph - kh) / s + 1, (pw - kw) / s + 1)
            let conv = Int8Depthwise(channels: c, paddedHeight: ph, paddedWidth: pw, outputHeight: oh, outputWidth: ow, kernel: (kh, kw),
                                     strides: (s, s), dilations: (1, 1), weights: weights, imageStride: c * oh * ow, channelStride: oh * ow)
            for output in [Int8Output.uint8(zeroPoint: 10), .int8(zeroPoint: -20)] {
                let activation = EpilogueActivation(slope: 0.5, low: -40, high: 90)
                let epilogue = Int8Epilogue(rowOffset: conv.channelSums.map { -zeroPoint * $0 }, multiplier: multiplier, floatBias: floatBias,
                                            activation: activation, output: output)
                var y = [UInt8](repeating: 0xEE, count: c * oh * ow)
                x.withUnsafeBufferPointer { xs in
                    y.withUnsafeMutableBytes { conv.compute(x: xs.baseAddress!, isSigned: false, planes: 0..<c, epilogue: epilogue, output: $0.baseAddress!) }
                }
                for q in 0..<c {
                    for i in 0..<oh {
                        for j in 0..<ow {
                            var sum = 0
                            for a in 0..<kh {
                                for b in 0..<kw { sum += (Int(x[(q * ph + i * s + a) * pw + j * s + b]) - Int(zeroPoint)) * Int(weights[q * kh * kw + a * kw + b]) }
                            }
                            var t = Double(sum) * Double(multiplier[q]) + Double(floatBias[q])
                            if t < 0 { t *= 0.5 }
                            let (want, tolerance) = Self.requantized(min(max(t, -40), 90), output)
                            let byte = y[(q * oh + i) * ow + j]
                            let got = output == .uint8(zeroPoint: 10) ? Double(byte) : Double(Int8(bitPattern: byte))
                            XCTAssertEqual(got, want, accuracy: tolerance, "stride \(s) \(output) plane \(q) [\(i), \(j)]")
                        }
                    }
                }
            }
        }
    }

    /// 2-D max pooling of int8 and uint8 planes at strides 1 and 2 (rows wide enough for the vector
    /// loop, windows clipped by padding at both ends and past the last row and column) against the
    /// definition: the maximum of the window's values inside the input.
    func testMaxPoolMatchesTheDefinition() {
        let (planes, ih, iw) = (3, 9, 75)
        for signed in [false, true] {
            let x = Self.integers(planes * ih * iw, signed ? -128...127 : 0...255, seed: signed ? 51 : 52).map { UInt8(truncatingIfNeeded: $0) }
            for (k, s, d, pad) in [(3, 2, 1, 1), (3, 1, 1, 1), (2, 2, 1, 0), (3, 2, 2, 2), (5, 1, 1, 2), (3, 3, 1, 1)] {
                let extent = (k - 1) * d + 1
                // One more output than the floor formula: the last windows reach past the input (ceil mode).
                let (oh, ow) = ((ih + 2 * pad - extent) / s + 2, (iw + 2 * pad - extent) / s + 2)
                var y = [UInt8](repeating: 0xEE, count: planes * oh * ow)
                x.withUnsafeBufferPointer { xs in
                    Int8Quantization.maxPool(xs.baseAddress!, isSigned: signed, planes: planes, input: (ih, iw), output: (oh, ow), kernel: (k, k),
                                             strides: (s, s), dilations: (d, d), padTop: pad, padLeft: pad, into: &y)
                }
                for q in 0..<planes {
                    for i in 0..<oh {
                        for j in 0..<ow {
                            var best: Int?
                            for a in 0..<k {
                                for b in 0..<k {
                                    let (r, c) = (i * s - pad + a * d, j * s - pad + b * d)
                                    guard r >= 0, r < ih, c >= 0, c < iw else { continue }
                                    let byte = x[(q * ih + r) * iw + c]
                                    let v = signed ? Int(Int8(bitPattern: byte)) : Int(byte)
                                    best = max(best ?? v, v)
                                }
                            }
                            let byte = y[(q * oh + i) * ow + j]
                            let got = signed ? Int(Int8(bitPattern: byte)) : Int(byte)
                            XCTAssertEqual(got, best ?? (signed ? -128 : 0), "signed \(signed) k \(k) s \(s) d \(d) pad \(pad) [\(q), \(i), \(j)]")
                        }
                    }
                }
            }
        }
    }

    /// QuantizeLinear rounds half to even and saturates; DequantizeLinear inverts it on the grid.
    func testQuantizeAndDequantizeLoops() {
        let x: [Float] = [-1000, -2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.49, 126, 127.5, 1e9, .nan]
        var u = [UInt8](repeating: 0, count: x.count)
        Int8Quantization.quantize(x, count: x.count, scale: 1, zeroPoint: 128, range: 0...255, isSigned: false, into: &u)
        XCTAssertEqual(u, [0, 126, 126, 128, 128, 130, 130, 131, 254, 255, 255, 128])
        var s = [UInt8](repeating: 0, count: x.count)
        Int8Quantization.quantize(x.map { $0 * 0.5 }, count: x.count, scale: 0.5, zeroPoint: -1, range: -127...127, isSigned: true, into: &s)
        XCTAssertEqual(s.map { Int8(bitPattern: $0) }, [-127, -3, -3, -1, -1, 1, 1, 2, 125, 127, 127, -1])
        var f = [Float](repeating: 0, count: 4)
        Int8Quantization.dequantize([0, 1, 128, 255], count: 4, isSigned: false, zeroPoint: 128, scale: 0.25, into: &f)
        XCTAssertEqual(f, [-32, -31.75, 0, 31.75])
        Int8Quantization.dequantize([0x80, 0xFF, 0, 0x7F], count: 4, isSigned: true, zeroPoint: -1, scale: 2, into: &f)
        XCTAssertEqual(f, [-254, 0, 2, 256])
    }
}
