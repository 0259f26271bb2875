import VigilIR

/// How activation ranges are found from the calibration data (as onnxruntime's calibrators do).
public enum CalibrationMethod: Sendable, Equatable, CustomStringConvertible {
    /// The smallest and largest value seen.
    case minMax
    /// The values at the `(100 − p) / 2` and `100 − (100 − p) / 2` percentiles (p = 99.999 by default):
    /// the extreme `100 − p` percent of the values are clipped.
    case percentile(Double)
    /// The clipping threshold of |x| that minimizes the Kullback-Leibler divergence between the
    /// histogram of the values and its quantized form (TensorRT's entropy calibration).
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
