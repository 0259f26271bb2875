import VigilIR

/// Resize (opset 10+) and Upsample (opset 7–9), nearest and (multi)linear.
public enum Resampling {
    static var descriptors: [OpDescriptor] {
        [
            OpDescriptor("Resize", inputs: 1...4, since: 10,
                         attributes: [
                             .int("antialias", 0), .optional("axes", .ints), .string("coordinate_transformation_mode", "half_pixel"),
                             .float("cubic_coeff_a", -0.75), .int("exclude_outside", 0), .float("extrapolation_value", 0),
                             .string("keep_aspect_ratio_policy", "stretch"), .string("mode", "nearest"),
                             .string("nearest_mode", "round_prefer_floor"),
                         ],
                         infer: inferResize),
            OpDescriptor("Upsample", inputs: 1...2, since: 7,
                         attributes: [.string("mode", "nearest"), .optional("scales", .floats)],
                         infer: inferResize),
        ]
    }

    /// Resolved Resize parameters against a static input shape.
    public struct ResizeAttributes: Sendable {
        /// `nearest` or `linear`.
        public var mode: String
        public var coordinateMode: String
        public var nearestMode: String
        public var extrapolationValue: Float
        /// Per-axis scale (output / input).
        public var scales: [Float]
        public var outputShape: [Int]
        /// The region of interest for `tf_crop_and_resize`: starts then ends, per axis.
        public var roi: [Float]

        public init(_ c: OpContext, shape: [Int]) throws(OpError) {
            let rank = shape.count
            var mode = try c.string("mode")
            if mode == "bilinear" || mode == "trilinear" { mode = "linear" }
            guard mode == "nearest" || mode == "linear" else {
                // 'cubic' is valid ONNX that Vigil does not implement; anything else is invalid.
                throw c.error("unsupported mode '\(mode)'", subject: "mode", kind: mode == "cubic" ? .unsupported : .invalid)
            }
            self.mode = mode
            let isUpsample = c.opType == "Upsample"
            coordinateMode = isUpsample || c.opset < 11 ? "asymmetric" : try c.string("coordinate_transformation_mode")
            nearestMode = isUpsample || c.opset < 11 ? "floor" : try c.string("nearest_mode")
            extrapolationValue = isUpsample ? 0 : try c.float("extrapolation_value")
            let known = ["half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners", "asymmetric", "tf_crop_and_resize"]
            guard known.contains(coordinateMode) else {
                throw c.error("unsupported coordinate_transformation_mode '\(coordinateMode)'", subject: "coordinate_transformation_mode")
            }
            guard ["round_prefer_floor", "round_prefer_ceil", "floor", "ceil"].contains(nearestMode) else {
                throw c.error("unsupported nearest_mode '\(nearestMode)'", subject: "nearest_mode")
            }
            if !isUpsample, try c.int("antialias") != 0 {
                throw c.error("antialias=1 is not supported", subject: "antialias", kind: .unsupported)
            }
            if !isUpsample, try c.string("keep_aspect_ratio_policy") != "stretch" {
                throw c.error("keep_aspect_ratio_policy other than 'stretch' is not supported", subject: "keep_aspect_ratio_policy", kind: .unsupported)
            }
            var scaleList: [Float]?
            var sizeList: [Int]?
            var roiList: [Float]?
            if isUpsample {
                scaleList = c.opset >= 9 ? try c.floatsInput(1) : try c.floats("scales")
            } else if c.opset < 11 {
                scaleList = try c.floatsInput(1)
            } else {
                roiList = try c.floatsInput(1)
                if c.hasInput(2), let s = try c.floatsInput(2), !s.isEmpty { scaleList = s }
                if c.hasInput(3), let s = try c.intsInput(3), !s.isEmpty { sizeList = s }
            }
            var axes = Array(0..<rank)
            if c.opset >= 18, let a = try c.ints("axes") {
                axes = []
                for x in a { axes.append(try c.axis(x, rank: rank)) }
            }
            scales = Array(repeating: 1, count: rank)
            outputShape = shape
            roi = Array(repeating: 0, count: rank) + Array(repeating: 1, count: rank)
            if let roiList, roiList.count == 2 * axes.count {
                for (i, a) in axes.enumerated() {
                    roi[a] = roiList[i]
                    roi[rank + a] = roiList[axes.count + i]
                }
            }
            if let sizeList {
                guard scaleList == nil else { throw c.error("only one of scales and sizes may be given") }
                guard sizeList.count == axes.count else { throw c.error("sizes \(sizeList) must have \(axes.count) values") }
                for (i, a) in axes.enumerated() {
                    guard sizeList[i] >= 0 else { throw c.error("sizes must be non-negative, got \(sizeList)", subject: c.inputLabel(3)) }
                    outputShape[a] = sizeList[i]
                    scales[a] = shape[a] == 0 ? 1 : Float(sizeList[i]) / Float(shape[a])
                }
            } else if let scaleList {
                guard scaleList.count == axes.count else { throw c.error("scales \(scaleList) must have \(axes.count) values") }
                for (i, a) in axes.enumerated() {
                    guard scaleList[i] > 0, scaleList[i].isFinite else { throw c.error("scales must be positive and finite, got \(scaleList)") }
                    scales[a] = scaleList[i]
                    let size = (Double(shape[a]) * Double(scaleList[i])).rounded(.down)
                    guard size < Double(1 << 53) else { throw c.error("scale \(scaleList[i]) makes axis \(a) too large to count") }
                    outputShape[a] = Int(size)
                }
            } else {
                throw c.error("one of scales and sizes is required")
            }
        }
    }

    static func inferResize(_ c: OpContext) throws(OpError) -> [InferredOutput] {
        let x = try c.input(0)
        guard let sizes = x.shape.staticSizes else {
            throw c.error("resizing a tensor with symbolic dims \(x.shape) is not supported", kind: .unresolved)
        }
        let attrs = try ResizeAttributes(c, shape: sizes)
        return [InferredOutput(TensorType(x.dtype, Shape(static: attrs.outputShape)))]
    }
}
