import Foundation
import VigilIR
import VigilParity

/// How far one output of the quantized model is from the float model's, over a set of samples.
public struct OutputParity: Sendable, Equatable {
    public var output: String
    public var samples: Int
    public var maxAbsoluteError: Double
    public var meanAbsoluteError: Double
    /// Cosine similarity of each sample's output vector with the float one: mean and smallest.
    public var meanCosine: Double
    public var minCosine: Double
    /// For outputs shaped [N, C] with C ≥ 2 (class scores): the fraction of samples whose largest
    /// element is at the same index in both.
    public var top1Agreement: Double?
    /// The samples whose top-1 indices agree (with ``top1Agreement``).
    public var top1Agreeing: Int?

    /// Compares one output; both tensors hold `samples` along their first dimension.
    public static func compare(_ name: String, quantized: Tensor, float: Tensor) -> OutputParity {
        let q = quantized.floatValues, f = float.floatValues
        let samples = max(float.shape.first ?? 1, 1), width = f.count / samples
        var maxError = 0.0, sum = 0.0, cosines: [Double] = []
        var agreeing = 0
        for s in 0..<samples {
            var dot = 0.0, qq = 0.0, ff = 0.0
            var qBest = 0, fBest = 0
            for i in 0..<width {
                let a = Double(q[s * width + i]), b = Double(f[s * width + i])
                let e = abs(a - b)
                maxError = e.isNaN ? .infinity : max(maxError, e)
                sum += e
                dot += a * b
                qq += a * a
                ff += b * b
                if q[s * width + i] > q[s * width + qBest] { qBest = i }
                if f[s * width + i] > f[s * width + fBest] { fBest = i }
            }
            cosines.append(qq == 0 && ff == 0 ? 1 : (qq == 0 || ff == 0 ? 0 : dot / (qq.squareRoot() * ff.squareRoot())))
            if qBest == fBest { agreeing += 1 }
        }
        let classes = float.shape.count == 2 && float.shape[1] >= 2
        return OutputParity(output: name, samples: samples, maxAbsoluteError: maxError, meanAbsoluteError: sum / Double(max(f.count, 1)),
                            meanCosine: cosines.reduce(0, +) / Double(cosines.count), minCosine: cosines.min() ?? 1,
                            top1Agreement: classes ? Double(agreeing) / Double(samples) : nil, top1Agreeing: classes ? agreeing : nil)
    }
}

/// The quantization error introduced by one quantized node, from a layer-wise comparison with the
/// float model: the relative RMS error of what the node reads and of what it writes (both as the
/// quantized model dequantizes them), and their difference, the error the node itself adds.
public struct LayerError: Sendable, Equatable {
    public var name: String
    public var inputError: Double
    public var outputError: Double
    public var contribution: Double { outputError - inputError }

    /// ‖q − f‖ / ‖f‖ over all elements (0 when both are zero).
    static func relativeRMS(_ q: Tensor, _ f: Tensor) -> Double {
        let a = q.floatValues, b = f.floatValues
        var difference = 0.0, norm = 0.0
        for i in b.indices {
            difference += (Double(a[i]) - Double(b[i])) * (Double(a[i]) - Double(b[i]))
            norm += Double(b[i]) * Double(b[i])
        }
        return norm == 0 ? (difference == 0 ? 0 : .infinity) : (difference / norm).squareRoot()
    }
}

extension Tensor {
    /// float32 elements (other numeric types converted).
    var floatValues: [Float] {
        dtype == .float32 ? scalars(as: Float.self) : (numericValues ?? []).map(Float.init)
    }
}
