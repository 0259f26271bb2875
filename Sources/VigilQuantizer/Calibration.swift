import Foundation
import VigilIR

/// What calibration saw of one tensor: its extremes and, for the histogram methods, a histogram of its
/// values over [min, max] and of their magnitudes over [0, max |x|].
public struct TensorStatistics: Sendable, Equatable {
    public var min: Float = .infinity
    public var max: Float = -.infinity
    /// Values seen.
    public var count = 0
    /// Counts of the values in `bins` equal bins over [min, max] (after the first pass).
    var histogram: [Double] = []
    /// Counts of |x| in equal bins over [0, max(|min|, |max|)], zeros left out.
    var magnitudes: [Double] = []

    /// Bins of the histograms.
    static let bins = 2048

    /// The first pass: extremes (NaN is ignored).
    mutating func observeRange(_ values: UnsafeBufferPointer<Float>) {
        var lo = min, hi = max
        for v in values where !v.isNaN {
            lo = Swift.min(lo, v)
            hi = Swift.max(hi, v)
        }
        (min, max) = (lo, hi)
        count += values.count
    }

    /// The second pass: histograms over the ranges the first pass found.
    mutating func observeHistogram(_ values: UnsafeBufferPointer<Float>) {
        if histogram.isEmpty {
            histogram = [Double](repeating: 0, count: Self.bins)
            magnitudes = [Double](repeating: 0, count: Self.bins)
        }
        let bins = Double(Self.bins), lo = Double(min), width = Swift.max(Double(max) - lo, 1e-30)
        let top = Swift.max(Swift.max(abs(Double(min)), abs(Double(max))), 1e-30)
        for v in values where v.isFinite {
            let x = Double(v)
            histogram[Swift.min(Self.bins - 1, Int((x - lo) / width * bins))] += 1
            // Exact zeros (a Relu's) are represented exactly by the zero point: they do not weigh on the threshold.
            if x != 0 { magnitudes[Swift.min(Self.bins - 1, Int(abs(x) / top * bins))] += 1 }
        }
    }

    /// The range [low, high] the activations are quantized over, by `method` (always holding 0).
    public func range(_ method: CalibrationMethod) -> (low: Float, high: Float) {
        guard min <= max else { return (0, 0) }
        switch method {
        case .minMax:
            return (Swift.min(min, 0), Swift.max(max, 0))
        case .percentile(let p):
            guard !histogram.isEmpty else { return (Swift.min(min, 0), Swift.max(max, 0)) }
            let cut = (100 - p) / 200
            return (Swift.min(quantile(cut), 0), Swift.max(quantile(1 - cut), 0))
        case .entropy:
            guard !magnitudes.isEmpty else { return (Swift.min(min, 0), Swift.max(max, 0)) }
            let threshold = entropyThreshold(levels: min >= 0 ? 255 : 127)
            return (Swift.min(Swift.max(min, -threshold), 0), Swift.max(Swift.min(max, threshold), 0))
        }
    }

    /// The value below which a fraction `q` of the values lie (linear within a bin).
    func quantile(_ q: Double) -> Float {
        let total = histogram.reduce(0, +)
        guard total > 0 else { return 0 }
        let target = q * total, width = (Double(max) - Double(min)) / Double(Self.bins)
        var seen = 0.0
        for (i, count) in histogram.enumerated() where count > 0 {
            if seen + count >= target {
                return Float(Double(min) + (Double(i) + (target - seen) / count) * width)
            }
            seen += count
        }
        return max
    }

    /// TensorRT's entropy calibration on the magnitudes: the clipping threshold among the bin edges whose
    /// quantization into `levels` levels loses the least information (Kullback-Leibler divergence of
    /// the clipped histogram from its quantized form).
    func entropyThreshold(levels: Int) -> Float {
        let top = Swift.max(abs(Double(min)), abs(Double(max)))
        let width = top / Double(Self.bins)
        var best = (divergence: Double.infinity, bins: Self.bins)
        for edges in stride(from: levels, through: Self.bins, by: 8) {
            let divergence = Self.divergence(Array(magnitudes[..<edges]), outliers: magnitudes[edges...].reduce(0, +), levels: levels)
            if divergence < best.divergence { best = (divergence, edges) }
        }
        return Float(Double(best.bins) * width)
    }

    /// KL(P ‖ Q), as TensorRT computes it: P is the first bins with the outliers beyond them added to the
    /// last one; Q merges the same bins (without the outliers) into `levels` groups and spreads each
    /// group's count evenly over the bins where P is non-zero. A clipped range whose outliers Q cannot
    /// represent diverges.
    static func divergence(_ bins: [Double], outliers: Double, levels: Int) -> Double {
        var p = bins
        p[p.count - 1] += outliers
        let total = p.reduce(0, +), sliced = bins.reduce(0, +)
        guard total > 0, sliced > 0 else { return .infinity }
        var q = [Double](repeating: 0, count: p.count)
        for group in 0..<levels {
            let start = group * p.count / levels, end = (group + 1) * p.count / levels
            guard start < end else { continue }
            let sum = bins[start..<end].reduce(0, +), filled = p[start..<end].filter { $0 > 0 }.count
            guard filled > 0 else { continue }
            for i in start..<end where p[i] > 0 { q[i] = sum / Double(filled) }
        }
        var divergence = 0.0
        for i in p.indices where p[i] > 0 {
            guard q[i] > 0 else { return .infinity }
            divergence += p[i] / total * log((p[i] / total) / (q[i] / sliced))
        }
        return divergence
    }
}

/// The affine quantization of a range into an 8-bit type, as onnxruntime computes it: the range is
/// widened to hold 0, scale = (high − low) / 255, and the zero point is the integer that 0 maps to.
public struct AffineParameters: Sendable, Equatable {
    public var scale: Float
    public var zeroPoint: Int

    public init(low: Float, high: Float, type: DType) {
        let lo = Double(Swift.min(low, 0)), hi = Double(Swift.max(high, 0))
        let (qmin, qmax) = type == .int8 ? (-128.0, 127.0) : (0.0, 255.0)
        guard hi > lo else {
            scale = 1
            zeroPoint = type == .int8 ? 0 : 0
            return
        }
        let s = Float((hi - lo) / (qmax - qmin))
        scale = s
        zeroPoint = Int(Swift.max(qmin, Swift.min(qmax, (qmin - lo / Double(s)).rounded(.toNearestOrEven))))
    }
}
