import VigilIR

/// How activation ranges are found from the calibration data: onnxruntime's calibration methods,
/// computed as its calibrators compute them on one batch holding all the calibration data.
public enum CalibrationMethod: Sendable, Equatable, CustomStringConvertible {
    /// The smallest and largest value seen.
    case minMax
    /// onnxruntime's (asymmetric) percentile method: over a histogram of 2048 bins on [−T, T]
    /// (T = max |x|), the left edges of the bins where the cumulative distribution reaches
    /// (100 − p) / 200 and 1 − (100 − p) / 200 (p = 99.999 by default), clamped to [min, max].
    case percentile(Double)
    /// onnxruntime's entropy method (TensorRT's KL-divergence calibration) on the same histogram: the
    /// window around zero whose distribution loses the least information when quantized into 128
    /// levels, clamped to [min, max].
    case entropy

    /// Whether the method needs a histogram (a second pass over the calibration data).
    var needsHistogram: Bool { self != .minMax }

    public var description: String {
        switch self {
        case .minMax: "min-max"
        case .percentile(let p): "percentile \(p)"
        case .entropy: "entropy (KL divergence)"
        }
    }
}

/// What `Quantizer` makes of a float model.
public struct QuantizationOptions: Sendable {
    /// The activations' type: uint8 (default, as onnxruntime) or int8; both asymmetric, per tensor.
    public var activationType: DType
    public var method: CalibrationMethod
    /// Weights only, as onnxruntime's dynamic quantization: int8 weights per output channel, activations
    /// quantized at run time (DynamicQuantizeLinear → ConvInteger/MatMulInteger); no calibration data.
    public var weightsOnly: Bool
    /// Node names and op types kept in float.
    public var exclude: Set<String>
    /// Samples per calibration run.
    public var batchSize: Int
    /// Threads the executor uses.
    public var threads: Int?

    public init(activationType: DType = .uint8, method: CalibrationMethod = .minMax, weightsOnly: Bool = false, exclude: Set<String> = [],
                batchSize: Int = 8, threads: Int? = nil) {
        self.activationType = activationType
        self.method = method
        self.weightsOnly = weightsOnly
        self.exclude = exclude
        self.batchSize = max(1, batchSize)
        self.threads = threads
    }
}

/// A quantization that cannot be done, naming what stands in the way.
public struct QuantizationError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
