import Foundation
import VigilIR

/// What calibration saw of one tensor: its extremes and, for the histogram methods, a histogram of its
/// values, computed as onnxruntime's `HistogramCollector` computes it from one batch: `bins` equal bins
/// over [−T, T], T = max(|min|, |max|).
public struct TensorStatistics: Sendable, Equatable {
    public var min: Float = .infinity
    public var max: Float = -.infinity
    /// Values seen.
    public var count = 0
    /// The histogram (after the second pass).
    var histogram: [Double] = []

    /// Bins of the histogram (onnxruntime's percentile default; its entropy default of 128 bins makes
    /// a single candidate threshold, the whole range).
    static let bins = 2048
    /// Levels the entropy method quantizes the histogram into (onnxruntime's `num_quantized_bins`).
    static let quantizedBins = 128

    public init() {}

    /// The first pass: extremes (NaN is ignored).
    public mutating func observeRange(_ values: UnsafeBufferPointer<Float>) {
        var lo = min, hi = max
        for v in values where !v.isNaN {
            lo = Swift.min(lo, v)
            hi = Swift.max(hi, v)
        }
        (min, max) = (lo, hi)
        count += values.count
    }

    /// T: the histogram covers [−T, T].
    var threshold: Float { Swift.max(abs(min), abs(max)) }

    /// The bin edges, as numpy's `linspace` makes them (double precision, stored as float32).
    var edges: [Float] {
        let t = Double(threshold), step = 2 * t / Double(Self.bins)
        return (0...Self.bins).map { $0 == Self.bins ? Float(t) : Float(-t + Double($0) * step) }
    }

    /// The second pass: the histogram over the range the first pass found (values placed as numpy
    /// places them: from the bin width, corrected against the edges).
    public mutating func observeHistogram(_ values: UnsafeBufferPointer<Float>, edges: [Float]) {
        if histogram.isEmpty { histogram = [Double](repeating: 0, count: Self.bins) }
        let lo = edges[0], width = edges[Self.bins] - lo
        guard width > 0 else {
            histogram[Self.bins / 2] += Double(values.count)
            return
        }
        for v in values where v.isFinite {
            var i = Swift.min(Self.bins - 1, Swift.max(0, Int((v - lo) / width * Float(Self.bins))))
            if v < edges[i] { i -= 1 } else if i < Self.bins - 1 && v >= edges[i + 1] { i += 1 }
            histogram[Swift.max(0, i)] += 1
        }
    }

    /// The range [low, high] the activations are quantized over, by `method` (clamped to [min, max];
    /// the quantization parameters then widen it to hold 0).
    public func range(_ method: CalibrationMethod) -> (low: Float, high: Float) {
        guard min <= max else { return (0, 0) }
        guard !histogram.isEmpty, method != .minMax else { return (min, max) }
        let edges = self.edges
        let (lo, hi) = method == .entropy ? entropyRange(edges) : percentileRange(edges, method)
        return (Swift.max(lo, min), Swift.min(hi, max))
    }

    /// onnxruntime's asymmetric percentile: the left edges of the bins where the cumulative distribution
    /// reaches (100 − p) / 200 and 1 − (100 − p) / 200.
    func percentileRange(_ edges: [Float], _ method: CalibrationMethod) -> (Float, Float) {
        guard case .percentile(let p) = method else { return (min, max) }
        let total = histogram.reduce(0, +)
        var cdf = [Double](repeating: 0, count: histogram.count), sum = 0.0
        for (i, count) in histogram.enumerated() {
            sum += count / total
            cdf[i] = sum
        }
        let cut = (100 - p) / 200
        let left = cdf.firstIndex { $0 >= cut } ?? cdf.count - 1, right = cdf.firstIndex { $0 >= 1 - cut } ?? cdf.count - 1
        return (edges[left], edges[right])
    }
}

/// The affine quantization of a range into an 8-bit type, computed as onnxruntime's `compute_scale_zp`
/// does: the range is widened to hold 0, scale = (high − low) / 255 (in double precision, stored as
/// float32; 1 when that is not a normal float), and the zero point is round(qmin − low / scale), half
/// to even.
public struct AffineParameters: Sendable, Equatable {
    public var scale: Float
    public var zeroPoint: Int

    public init(low: Float, high: Float, type: DType) {
        let lo = Double(Swift.min(low, 0)), hi = Double(Swift.max(high, 0))
        let (qmin, qmax) = type == .int8 ? (-128.0, 127.0) : (0.0, 255.0)
        let s = (hi - lo) / (qmax - qmin)
        guard s >= Double(Float.leastNormalMagnitude) else {
            (scale, zeroPoint) = (1, 0)
            return
        }
        scale = Float(s)
        zeroPoint = Int(Swift.max(qmin, Swift.min(qmax, (qmin - lo / s).rounded(.toNearestOrEven))))
    }
}
