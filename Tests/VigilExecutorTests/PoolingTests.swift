@testable import VigilExecutor
import VigilIR
import VigilTestSupport
import XCTest

/// MaxPool/AveragePool/global pools against direct-loop references from the ONNX definitions.
final class PoolingTests: XCTestCase {
    /// Window o along an axis covers input positions o·s − pBegin + k·d, k < K. Output size is
    /// floor or ceil of (in + pads − extent)/s + 1; with ceil_mode a window starting past in + pBegin is dropped.
    func outputSize(_ input: Int, k: Int, s: Int, d: Int, pb: Int, pe: Int, ceil: Bool) -> Int {
        let span = input + pb + pe - ((k - 1) * d + 1)
        var out = (ceil ? Int((Double(span) / Double(s)).rounded(.up)) : span / s) + 1
        if ceil && (out - 1) * s >= input + pb { out -= 1 }
        return out
    }

    func referencePool(_ x: Tensor, max isMax: Bool, kernel: [Int], strides: [Int], dilations: [Int], pads: [Int],
                       ceil: Bool, includePad: Bool) -> (Tensor, [Int64]) {
        let xs = x.shape, v = x.scalars(as: Float.self), n = kernel.count
        var out = Array(xs[..<2])
        for i in 0..<n {
            out.append(outputSize(xs[2 + i], k: kernel[i], s: strides[i], d: dilations[i], pb: pads[i], pe: pads[n + i], ceil: ceil))
        }
        var y: [Float] = [], indices: [Int64] = []
        for index in allIndices(out) {
            var best = -Float.infinity, bestIndex = -1, sum: Float = 0, count = 0, padded = 0
            for k in allIndices(kernel) {
                var position = Array(index[..<2]), inside = true, inPadded = true
                for i in 0..<n {
                    let p = index[2 + i] * strides[i] - pads[i] + k[i] * dilations[i]
                    if p < 0 || p >= xs[2 + i] { inside = false }
                    if p < -pads[i] || p >= xs[2 + i] + pads[n + i] { inPadded = false }
                    position.append(p)
                }
                if inPadded { padded += 1 }
                guard inside else { continue }
                let flat = flatIndex(position, xs)
                if bestIndex < 0 || v[flat] > best { best = v[flat]; bestIndex = flat }
                sum += v[flat]
                count += 1
            }
            y.append(isMax ? best : sum / Float(includePad ? padded : count))
            indices.append(Int64(bestIndex))
        }
        return (floatTensor(y, out), indices)
    }

    func check(max isMax: Bool, x shape: [Int], kernel: [Int], strides: [Int]? = nil, dilations: [Int]? = nil, pads: [Int]? = nil,
               ceil: Bool = false, includePad: Bool = false, withIndices: Bool = true, seed: UInt64, special: [Int: Float] = [:],
               file: StaticString = #filePath, line: UInt = #line) throws {
        let n = kernel.count
        var x = randomTensor(shape, seed: seed)
        if !special.isEmpty {
            var v = x.scalars(as: Float.self)
            for (i, value) in special { v[i] = value }
            x = floatTensor(v, shape)
        }
        var attributes: [String: AttributeValue] = ["kernel_shape": ints(kernel), "ceil_mode": .int(ceil ? 1 : 0)]
        if let strides { attributes["strides"] = ints(strides) }
        if let dilations { attributes["dilations"] = ints(dilations) }
        if let pads { attributes["pads"] = ints(pads) }
        if !isMax { attributes["count_include_pad"] = .int(includePad ? 1 : 0) }
        let (expected, indices) = referencePool(
            x, max: isMax, kernel: kernel, strides: strides ?? Array(repeating: 1, count: n),
            dilations: dilations ?? Array(repeating: 1, count: n), pads: pads ?? Array(repeating: 0, count: 2 * n),
            ceil: ceil, includePad: includePad)
        for threads in [1, 2] {
            let outputs = try runNode(isMax ? "MaxPool" : "AveragePool", [.input(x)], attributes: attributes, outputs: isMax && withIndices ? 2 : 1,
                                      opset: 19, threads: threads)
            expectClose(outputs[0], expected, atol: 1e-6, rtol: 1e-5, "pool threads \(threads)", file: file, line: line)
            if isMax && withIndices { XCTAssertEqual(outputs[1].scalars(as: Int64.self), indices, "indices", file: file, line: line) }
        }
    }

    /// Without indices, 2-D pools run on the vectorized window kernel: planes wider than its 32-column step,
    /// strides 1 to 3 (phase-split rows), dilations, ceil mode, both padding counts and infinities. A NaN
    /// tap is skipped by MaxPool, wherever it is in the window (as the scalar kernel without indices does).
    func testVectorizedPools() throws {
        let nanFirst = floatTensor([.nan, 1, 5, 2, 3, 4, .nan, 8, 7, 6, -1, .nan] + (0..<20).map(Float.init), [1, 1, 4, 8])
        let pooled = try runNode("MaxPool", [.input(nanFirst)], attributes: ["kernel_shape": ints([2, 2]), "strides": ints([2, 2])], opset: 19)[0]
        XCTAssertEqual(pooled.scalars(as: Float.self), [7, 5, 4, 8, 13, 15, 17, 19])
        let special: [Int: Float] = [40: .infinity, 77: -.infinity]
        try check(max: true, x: [2, 3, 37, 41], kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], withIndices: false, seed: 20, special: special)
        try check(max: true, x: [1, 4, 20, 35], kernel: [2, 2], strides: [2, 2], withIndices: false, seed: 21, special: special)
        try check(max: true, x: [1, 2, 19, 23], kernel: [3, 2], strides: [3, 1], dilations: [2, 3], pads: [1, 2, 0, 1], ceil: true,
                  withIndices: false, seed: 22)
        try check(max: false, x: [2, 3, 30, 33], kernel: [2, 2], strides: [2, 2], withIndices: false, seed: 23, special: [9: .infinity])
        try check(max: false, x: [1, 3, 17, 40], kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], withIndices: false, seed: 24)
        try check(max: true, x: [1, 2, 9, 75], kernel: [3, 3], pads: [1, 1, 1, 1], withIndices: false, seed: 26)
        try check(max: true, x: [1, 3, 7, 7], kernel: [3, 3], pads: [1, 1, 1, 1], withIndices: false, seed: 28)
        // SqueezeNet's 3×3 stride-2 ceil-mode pool (the unrolled 3×3 max kernels), with NaN and infinities.
        try check(max: true, x: [1, 3, 23, 37], kernel: [3, 3], strides: [2, 2], ceil: true, withIndices: false, seed: 30,
                  special: [5: .nan, 100: .infinity, 101: -.infinity, 858: .nan])
        // (NaN in a last column, never a window's first tap, where the reference would keep it.)
        try check(max: true, x: [2, 2, 18, 33], kernel: [3, 3], withIndices: false, seed: 31, special: [131: .nan, 130: .infinity, 700: -.infinity])
        try check(max: false, x: [1, 3, 11, 13], kernel: [3, 3], pads: [1, 1, 1, 1], withIndices: false, seed: 29, special: [30: .infinity])
        try check(max: false, x: [1, 2, 20, 70], kernel: [18, 2], withIndices: false, seed: 27)
        try check(max: false, x: [1, 2, 11, 18], kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], ceil: true, includePad: true,
                  withIndices: false, seed: 25)
    }

    /// Stride-2 pools, which the AVX-512 kernel computes on each block of four output rows' input rows split
    /// into even and odd columns (the rows shared with the block before moved up): kernel heights 1 to 5 (0
    /// to 3 shared rows), output rows of one to three 16-column vectors, heights leaving a partial block, pads,
    /// ceil mode, both padding counts and infinities; then the same on the AVX2 kernel.
    func testStrideTwoPools() throws {
        let special: [Int: Float] = [3: .infinity, 150: -.infinity, 1000: .infinity]
        try check(max: true, x: [1, 2, 29, 71], kernel: [1, 1], strides: [2, 2], withIndices: false, seed: 40, special: special)
        try check(max: true, x: [2, 3, 30, 45], kernel: [4, 2], strides: [2, 2], pads: [2, 1, 1, 0], withIndices: false, seed: 41, special: special)
        try check(max: true, x: [1, 3, 25, 67], kernel: [5, 5], strides: [2, 2], pads: [2, 2, 2, 2], ceil: true, withIndices: false, seed: 42,
                  special: special)
        try check(max: true, x: [1, 2, 111, 111], kernel: [3, 3], strides: [2, 2], ceil: true, withIndices: false, seed: 43, special: special)
        try check(max: false, x: [1, 2, 27, 21], kernel: [5, 3], strides: [2, 2], pads: [1, 1, 1, 1], includePad: true, withIndices: false,
                  seed: 44, special: special)
        try check(max: false, x: [2, 2, 19, 40], kernel: [3, 3], strides: [2, 2], pads: [1, 0, 0, 1], ceil: true, withIndices: false, seed: 45)
        guard InstructionSets.avx512Available else { return }
        InstructionSets.useAVX512 = false
        defer { InstructionSets.useAVX512 = true }
        try check(max: true, x: [2, 3, 30, 45], kernel: [4, 2], strides: [2, 2], pads: [2, 1, 1, 0], withIndices: false, seed: 41, special: special)
        try check(max: false, x: [1, 2, 27, 21], kernel: [5, 3], strides: [2, 2], pads: [1, 1, 1, 1], includePad: true, withIndices: false,
                  seed: 44, special: special)
    }

    /// The same pools on the AVX2 window kernel, on CPUs whose default is AVX-512 (strides 1 and 2 run on its
    /// AVX-512 form there).
    func testVectorizedPoolsAVX2() throws {
        try XCTSkipUnless(InstructionSets.avx512Available, "the CPU has no AVX-512: the AVX2 kernel is the default one")
        InstructionSets.useAVX512 = false
        defer { InstructionSets.useAVX512 = true }
        try testVectorizedPools()
    }

    func testMaxPoolPaddedStrided() throws { try check(max: true, x: [2, 3, 9, 8], kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], seed: 1) }
    func testMaxPoolCeilDilated() throws {
        try check(max: true, x: [1, 2, 10, 9], kernel: [2, 3], strides: [3, 2], dilations: [2, 1], pads: [0, 1, 1, 0], ceil: true, seed: 2)
    }
    func testMaxPool1D() throws { try check(max: true, x: [1, 2, 13], kernel: [4], strides: [3], ceil: true, seed: 3) }
    func testAveragePoolExcludePad() throws { try check(max: false, x: [2, 3, 7, 7], kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], seed: 4) }
    func testAveragePoolIncludePad() throws {
        try check(max: false, x: [1, 2, 7, 6], kernel: [3, 2], strides: [2, 2], pads: [1, 0, 1, 1], includePad: true, seed: 5)
    }
    func testAveragePoolCeilIncludePad() throws {
        try check(max: false, x: [1, 1, 8, 8], kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], ceil: true, includePad: true, seed: 6)
    }
    func testAveragePool3D() throws { try check(max: false, x: [1, 2, 4, 5, 6], kernel: [2, 2, 3], strides: [2, 1, 2], seed: 7) }

    func testGlobalPools() throws {
        let x = randomTensor([2, 3, 4, 5], seed: 8)
        let v = x.scalars(as: Float.self)
        var mean: [Float] = [], top: [Float] = []
        for p in 0..<6 {
            let plane = v[(p * 20)..<((p + 1) * 20)]
            mean.append(plane.reduce(0, +) / 20)
            top.append(plane.max()!)
        }
        expectClose(try runNode("GlobalAveragePool", [.input(x)])[0], floatTensor(mean, [2, 3, 1, 1]), atol: 1e-6, "gap")
        expectClose(try runNode("GlobalMaxPool", [.input(x)])[0], floatTensor(top, [2, 3, 1, 1]), atol: 0, rtol: 0, "gmp")
    }
}
