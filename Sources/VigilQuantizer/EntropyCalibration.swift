import Foundation

extension TensorStatistics {
    /// onnxruntime's entropy calibration (TensorRT's KL-divergence method): among the windows of 2i + 1
    /// bins centred on the zero bin (i ≥ 64), the one whose histogram — the outliers folded into its end
    /// bins — diverges least from its quantization into 128 levels; its edges are the range.
    func entropyRange(_ edges: [Float]) -> (Float, Float) {
        let bins = histogram.count, zero = bins / 2, half = Self.quantizedBins / 2
        var prefix = [Double](repeating: 0, count: bins + 1)
        for i in 0..<bins { prefix[i + 1] = prefix[i] + histogram[i] }
        var best: (divergence: Float, start: Int, end: Int) = (.infinity, 0, bins)
        for i in half...zero {
            let start = zero - i, end = Swift.min(zero + i + 1, bins)
            let divergence = Self.divergence(histogram, start: start, end: end, prefix: prefix, levels: Self.quantizedBins)
            if divergence < best.divergence { best = (divergence, start, end) }
        }
        return (edges[best.start], edges[best.end])
    }

    /// KL(P ‖ Q) of one window, as onnxruntime computes it: P is the window with the outliers on either
    /// side added to its first and last bins; Q merges the window (without outliers) into `levels` groups
    /// and spreads each group's count (truncated to an integer) over the group's bins, counting only
    /// the bins where P is non-zero; both are smoothed (empty bins get 0.0001) and normalized.
    static func divergence(_ histogram: [Double], start: Int, end: Int, prefix: [Double], levels: Int) -> Float {
        let sliced = histogram[start..<end], count = sliced.count
        var p = Array(sliced)
        p[0] += prefix[start]
        p[count - 1] += prefix[histogram.count] - prefix[end]
        let merged = count / levels
        var quantized = (0..<levels).map { prefix[start + ($0 + 1) * merged] - prefix[start + $0 * merged] }
        quantized[levels - 1] += prefix[end] - prefix[start + levels * merged]
        var q = [Double](repeating: 0, count: count)
        for index in 0..<levels {
            let first = index * merged, last = first + merged
            let norm = p[first..<last].filter { $0 != 0 }.count
            if norm != 0 { for j in first..<last { q[j] = (quantized[index] / Double(norm)).rounded(.towardZero) } }
        }
        guard let ps = smoothed(p), let qs = smoothed(q) else { return .infinity }
        let pSum = ps.reduce(0, +), qSum = qs.reduce(0, +)
        var total = 0.0
        for j in 0..<count {
            let pk = ps[j] / pSum, qk = qs[j] / qSum
            guard pk > 0 else { continue }
            guard qk > 0 else { return .infinity }
            total += Double(pk * log(pk / qk))
        }
        return Float(total)
    }

    /// onnxruntime's `smooth_distribution`: zeros become 0.0001, which is taken off the other bins.
    static func smoothed(_ p: [Double]) -> [Float]? {
        let zeros = p.filter { $0 == 0 }.count, nonZeros = p.count - zeros
        guard nonZeros > 0 else { return nil }
        let eps: Float = 0.0001, eps1 = eps * Float(zeros) / Float(nonZeros)
        return p.map { $0 == 0 ? eps : Float($0) - eps1 }
    }
}
