import VigilIR

/// How images become network inputs — stated, recorded in the detector file, and the same in the
/// exported ONNX model:
///
///     input = (x · scale − mean) / std,   reshaped to the network's input shape
///
/// where `scale` depends on the images' element type: 1/255 for uint8 by default (pixels to [0, 1]),
/// 1 for float32 (values go to the network unchanged). `mean` and `std` are optional: one value, or
/// one per channel along ``channelAxis`` of the network input.
public struct Preprocessing: Sendable, Equatable, CustomStringConvertible {
    /// The default scale of uint8 images: 1/255.
    public static let defaultUInt8Scale: Float = 1.0 / 255.0

    /// Multiplies uint8 pixels.
    public var uint8Scale: Float
    /// Multiplies float32 values (1: unchanged).
    public var float32Scale: Float
    /// Subtracted after scaling: none (empty), one value, or one per channel.
    public var mean: [Float]
    /// Divides after the mean is subtracted: none (empty), one value, or one per channel.
    public var std: [Float]
    /// The axis of the network input (batch axis 0) that per-channel `mean`/`std` run along.
    public var channelAxis: Int?
    /// The element type of the images the detector was fitted on (what the exported model takes).
    public var imageType: DType?
    /// Their per-sample shape (without the batch axis).
    public var imageShape: [Int]?

    /// - Parameters:
    ///   - scale: multiplies images of every element type; `nil` for the defaults (uint8 · 1/255,
    ///     float32 unchanged).
    ///   - mean: subtracted after scaling: none (empty), one value, or one per channel.
    ///   - std: divides after the mean is subtracted: none (empty), one value, or one per channel.
    ///   - channelAxis: the network input's axis that per-channel `mean` and `std` run along.
    public init(scale: Float? = nil, mean: [Float] = [], std: [Float] = [], channelAxis: Int? = nil) {
        self.uint8Scale = scale ?? Self.defaultUInt8Scale
        self.float32Scale = scale ?? 1
        self.mean = mean
        self.std = std
        self.channelAxis = channelAxis
    }

    /// The scale for images of `dtype`.
    public func scale(for dtype: DType) -> Float { dtype == .uint8 ? uint8Scale : float32Scale }

    /// The values per channel (`mean`/`std` with more than one entry), or 1.
    var channels: Int { max(mean.count, std.count, 1) }

    /// `uint8 x · 1/255, float32 x unchanged` and the mean and std when given.
    public var description: String {
        func scaleText(_ s: Float) -> String { s == Self.defaultUInt8Scale ? "x · 1/255" : s == 1 ? "x unchanged" : "x · \(s)" }
        var text = "uint8 \(scaleText(uint8Scale)), float32 \(scaleText(float32Scale))"
        func list(_ values: [Float]) -> String { values.count == 1 ? "\(values[0])" : "[\(values.map { "\($0)" }.joined(separator: ", "))]" }
        if !mean.isEmpty { text += "; minus mean \(list(mean))" }
        if !std.isEmpty { text += "; divided by std \(list(std))" }
        if channels > 1, let channelAxis { text += " along input axis \(channelAxis)" }
        return text
    }

    /// Checks the settings and, for per-channel values, finds the channel axis of a network input
    /// whose per-sample shape is `sampleShape`: axis 1 when it has that many entries (NCHW), else the
    /// last axis (NHWC).
    ///
    /// - Throws: ``DetectorError/invalidArgument(_:)`` for a non-finite scale, a zero std or lists of
    ///   different lengths; ``DetectorError/modelInterface(_:)`` when no axis has that many entries.
    public func resolved(sampleShape: [Int]?) throws(DetectorError) -> Preprocessing {
        guard uint8Scale.isFinite, float32Scale.isFinite, uint8Scale != 0, float32Scale != 0 else {
            throw .invalidArgument("the scale must be finite and non-zero")
        }
        guard (mean + std).allSatisfy(\.isFinite), !std.contains(0) else { throw .invalidArgument("mean and std must be finite and std non-zero") }
        if mean.count > 1 && std.count > 1 && mean.count != std.count {
            throw .invalidArgument("--mean has \(mean.count) values and --std \(std.count); give one value or one per channel")
        }
        var result = self
        guard channels > 1 else {
            result.channelAxis = nil
            return result
        }
        guard let sampleShape, !sampleShape.isEmpty else {
            throw .modelInterface("per-channel mean or std need a model input of static shape")
        }
        if let axis = channelAxis {
            guard axis >= 1, axis <= sampleShape.count, sampleShape[axis - 1] == channels else {
                throw .modelInterface("input axis \(channelAxis!) does not have \(channels) channels (input [N, \(sampleShape.map(String.init).joined(separator: ", "))])")
            }
        } else if sampleShape[0] == channels {
            result.channelAxis = 1
        } else if sampleShape.last == channels {
            result.channelAxis = sampleShape.count
        } else {
            throw .modelInterface("\(channels) mean/std values but the input [N, \(sampleShape.map(String.init).joined(separator: ", "))] has no axis of \(channels) channels (axis 1 or the last)")
        }
        return result
    }

    /// The network input values for `images` (`[N, …]`, uint8 or float32) laid out as samples of
    /// `sampleShape` (the network's per-sample input shape; element order is kept).
    public func apply(_ images: Tensor, sampleShape: [Int]) throws(DetectorError) -> [Float] {
        let scale = self.scale(for: images.dtype)
        var values: [Float]
        switch images.dtype {
        case .uint8: values = images.scalars(as: UInt8.self).map { Float($0) * scale }
        case .float32: values = scale == 1 ? images.scalars(as: Float.self) : images.scalars(as: Float.self).map { $0 * scale }
        default: throw .unsupportedImageType(images.dtype)
        }
        guard !mean.isEmpty || !std.isEmpty else { return values }
        let c = channels
        // Channel of element j of a sample: (j / inner) % c, inner = elements after the channel axis.
        let inner = c > 1 ? sampleShape.dropFirst(channelAxis ?? 1).reduce(1, *) : 1
        let means = mean.isEmpty ? [Float](repeating: 0, count: c) : (mean.count == 1 ? [Float](repeating: mean[0], count: c) : mean)
        let stds = std.isEmpty ? [Float](repeating: 1, count: c) : (std.count == 1 ? [Float](repeating: std[0], count: c) : std)
        for index in values.indices {
            let channel = c > 1 ? (index / inner) % c : 0
            var v = values[index]
            if !mean.isEmpty { v -= means[channel] }
            if !std.isEmpty { v /= stds[channel] }
            values[index] = v
        }
        return values
    }
}
