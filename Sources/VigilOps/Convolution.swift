import VigilIR

/// The geometry of a sliding window over the spatial dims (Conv, ConvTranspose, pooling):
/// kernel, strides, dilations and the resolved pads, with the output spatial dims.
public struct WindowGeometry: Sendable, Equatable {
    public var kernel: [Int]
    public var strides: [Int]
    public var dilations: [Int]
    public var padsBegin: [Int]
    public var padsEnd: [Int]
    /// Output spatial dims (unknown where the input dim is not known).
    public var outputSpatial: [Dim]

    public var spatialRank: Int { kernel.count }

    /// Resolves strides, dilations, pads and `auto_pad` against the input spatial dims.
    ///
    /// - Parameter ceilMode: pooling's `ceil_mode` (the last window may start in the padding's end).
    public static func resolve(
        _ c: OpContext, inputSpatial: [Dim], kernel: [Int], ceilMode: Bool = false, allowDilations: Bool = true
    ) throws(OpError) -> WindowGeometry {
        let n = kernel.count
        guard inputSpatial.count == n else {
            throw c.error("kernel_shape \(kernel) has \(n) dims but the input has \(inputSpatial.count) spatial dims",
                          subject: "kernel_shape")
        }
        guard kernel.allSatisfy({ $0 > 0 }) else { throw c.error("kernel_shape \(kernel) must be positive", subject: "kernel_shape") }
        let strides = try c.ints("strides") ?? Array(repeating: 1, count: n)
        let dilations = allowDilations ? (try c.ints("dilations") ?? Array(repeating: 1, count: n)) : Array(repeating: 1, count: n)
        guard strides.count == n, strides.allSatisfy({ $0 > 0 }) else {
            throw c.error("strides \(strides) must be \(n) positive values", subject: "strides")
        }
        guard dilations.count == n, dilations.allSatisfy({ $0 > 0 }) else {
            throw c.error("dilations \(dilations) must be \(n) positive values", subject: "dilations")
        }
        let autoPad = try c.string("auto_pad")
        var begin = Array(repeating: 0, count: n), end = Array(repeating: 0, count: n)
        var output = [Dim](repeating: .unknown, count: n)
        switch autoPad {
        case "NOTSET", "":
            if let pads = try c.ints("pads") {
                guard pads.count == 2 * n, pads.allSatisfy({ $0 >= 0 }) else {
                    throw c.error("pads \(pads) must be \(2 * n) non-negative values", subject: "pads")
                }
                begin = Array(pads[0..<n])
                end = Array(pads[n...])
            }
        case "VALID":
            break
        case "SAME_UPPER", "SAME_LOWER":
            for i in 0..<n {
                guard let size = inputSpatial[i].value else { continue }
                let out = (size + strides[i] - 1) / strides[i]
                let extent = (kernel[i] - 1) * dilations[i] + 1
                let total = max(0, (out - 1) * strides[i] + extent - size)
                if autoPad == "SAME_UPPER" {
                    begin[i] = total / 2
                    end[i] = total - total / 2
                } else {
                    begin[i] = total - total / 2
                    end[i] = total / 2
                }
            }
        default:
            throw c.error("unknown auto_pad '\(autoPad)'", subject: "auto_pad")
        }
        for i in 0..<n {
            guard let size = inputSpatial[i].value else { continue }
            let extent = (kernel[i] - 1) * dilations[i] + 1
            let span = size + begin[i] + end[i] - extent
            guard span >= 0 else {
                throw c.error("window extent \(extent) exceeds padded input size \(size + begin[i] + end[i]) on spatial axis \(i)")
            }
            var out = (ceilMode ? (span + strides[i] - 1) / strides[i] : span / strides[i]) + 1
            // A window that would start entirely inside the end padding is dropped.
            if ceilMode && (out - 1) * strides[i] >= size + begin[i] { out -= 1 }
            output[i] = .fixed(out)
        }
        return WindowGeometry(kernel: kernel, strides: strides, dilations: dilations, padsBegin: begin, padsEnd: end,
                              outputSpatial: output)
    }
}

/// Conv and ConvTranspose.
public enum Convolution {
    static var descriptors: [OpDescriptor] { [conv, convTranspose] }

    /// The attributes of a sliding window (Conv, ConvTranspose).
    static let windowAttributes: [AttributeSpec] = [
        .string("auto_pad", "NOTSET"), .optional("dilations", .ints), .int("group", 1), .optional("kernel_shape", .ints),
        .optional("pads", .ints), .optional("strides", .ints),
    ]

    static let conv = OpDescriptor("Conv", inputs: 2...3, since: 1, attributes: windowAttributes, infer: inferConv)

    static let convTranspose = OpDescriptor(
        "ConvTranspose", inputs: 2...3, since: 1,
        attributes: windowAttributes + [.optional("output_padding", .ints), .optional("output_shape", .ints)], infer: inferConvTranspose)

    /// Resolved Conv parameters.
    public struct ConvAttributes: Sendable {
        public var group: Int
        public var geometry: WindowGeometry
        public var outputChannels: Dim

        public init(_ c: OpContext) throws(OpError) {
            let x = try c.requireType(0, in: TypeSets.float)
            let w = try c.requireType(1, in: TypeSets.float)
            _ = try c.sameType([0, 1, 2])
            guard x.rank >= 3 else { throw c.error("X must have rank ≥ 3 (N, C, spatial…), got \(x.shape)", subject: c.inputLabel(0)) }
            guard w.rank == x.rank else {
                throw c.error("W \(w.shape) must have the rank of X \(x.shape)", subject: c.inputLabel(1))
            }
            group = try c.int("group")
            guard group >= 1 else { throw c.error("group must be ≥ 1, got \(group)", subject: "group") }
            let spatial = Array(w.shape.dims.dropFirst(2))
            let kernel: [Int]
            if let k = try c.ints("kernel_shape") {
                kernel = k
                for (i, d) in spatial.enumerated() where d.value != nil && i < k.count && d.value != k[i] {
                    throw c.error("kernel_shape \(k) disagrees with W \(w.shape)", subject: "kernel_shape")
                }
            } else {
                guard let sizes = Shape(spatial).staticSizes else {
                    throw c.error("kernel_shape is absent and W's spatial dims are unknown", subject: "kernel_shape", kind: .unresolved)
                }
                kernel = sizes
            }
            if let cin = x.shape.dims[1].value, let wc = w.shape.dims[1].value, cin != wc * group {
                throw c.error("X has \(cin) channels but W \(w.shape) with group \(group) expects \(wc * group)", subject: c.inputLabel(1))
            }
            if let m = w.shape.dims[0].value, m % group != 0 {
                throw c.error("W has \(m) output channels, not divisible by group \(group)", subject: "group")
            }
            outputChannels = w.shape.dims[0]
            if c.hasInput(2) {
                let b = try c.requireRank(2, 1...1)
                if let m = outputChannels.value, let bm = b.shape.dims[0].value, m != bm {
                    throw c.error("B has \(bm) elements but W has \(m) output channels", subject: c.inputLabel(2))
                }
            }
            geometry = try WindowGeometry.resolve(c, inputSpatial: Array(x.shape.dims.dropFirst(2)), kernel: kernel)
        }
    }

    static func inferConv(_ c: OpContext) throws(OpError) -> [InferredOutput] {
        let attrs = try ConvAttributes(c)
        let x = try c.input(0)
        let shape = Shape([x.shape.dims[0], attrs.outputChannels] + attrs.geometry.outputSpatial)
        return [InferredOutput(TensorType(x.dtype, shape))]
    }

    /// Resolved ConvTranspose parameters.
    public struct ConvTransposeAttributes: Sendable {
        public var group: Int
        public var kernel: [Int]
        public var strides: [Int]
        public var dilations: [Int]
        public var padsBegin: [Int]
        public var padsEnd: [Int]
        public var outputChannels: Dim
        public var outputSpatial: [Dim]

        public init(_ c: OpContext) throws(OpError) {
            let x = try c.requireType(0, in: TypeSets.float)
            let w = try c.requireType(1, in: TypeSets.float)
            _ = try c.sameType([0, 1, 2])
            guard x.rank >= 3, w.rank == x.rank else {
                throw c.error("X \(x.shape) and W \(w.shape) must share a rank ≥ 3")
            }
            let n = x.rank - 2
            group = try c.int("group")
            guard group >= 1 else { throw c.error("group must be ≥ 1", subject: "group") }
            if let cin = x.shape.dims[1].value, let wc = w.shape.dims[0].value, cin != wc {
                throw c.error("X has \(cin) channels but W \(w.shape) expects \(wc)", subject: c.inputLabel(1))
            }
            let spatial = Array(w.shape.dims.dropFirst(2))
            if let k = try c.ints("kernel_shape") { kernel = k } else {
                guard let sizes = Shape(spatial).staticSizes else {
                    throw c.error("kernel_shape is absent and W's spatial dims are unknown", kind: .unresolved)
                }
                kernel = sizes
            }
            strides = try c.ints("strides") ?? Array(repeating: 1, count: n)
            dilations = try c.ints("dilations") ?? Array(repeating: 1, count: n)
            let outputPadding = try c.ints("output_padding") ?? Array(repeating: 0, count: n)
            guard kernel.count == n, strides.count == n, dilations.count == n, outputPadding.count == n else {
                throw c.error("kernel_shape, strides, dilations and output_padding must each have \(n) values")
            }
            outputChannels = w.shape.dims[1] * .fixed(group)
            let autoPad = try c.string("auto_pad")
            let outputShape = try c.ints("output_shape").map { $0.count == n + 2 ? Array($0.dropFirst(2)) : $0 }
            padsBegin = Array(repeating: 0, count: n)
            padsEnd = Array(repeating: 0, count: n)
            outputSpatial = Array(repeating: .unknown, count: n)
            if let pads = try c.ints("pads"), outputShape == nil, autoPad == "NOTSET" {
                guard pads.count == 2 * n else { throw c.error("pads must have \(2 * n) values", subject: "pads") }
                padsBegin = Array(pads[0..<n])
                padsEnd = Array(pads[n...])
            }
            for i in 0..<n {
                guard let size = x.shape.dims[2 + i].value else { continue }
                let extent = (kernel[i] - 1) * dilations[i] + 1
                let full = strides[i] * (size - 1) + outputPadding[i] + extent
                var target: Int? = outputShape?[i]
                if target == nil, autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER" { target = size * strides[i] }
                if let target {
                    let total = full - target
                    // As the ONNX definition states: SAME_UPPER puts the odd unit at the end, otherwise at the start.
                    // A negative total (a larger requested output) extends the end, like output_padding.
                    if total < 0 {
                        padsBegin[i] = 0
                        padsEnd[i] = total
                    } else if autoPad == "SAME_UPPER" {
                        padsBegin[i] = total / 2
                        padsEnd[i] = total - total / 2
                    } else {
                        padsBegin[i] = total - total / 2
                        padsEnd[i] = total / 2
                    }
                }
                outputSpatial[i] = .fixed(full - padsBegin[i] - padsEnd[i])
            }
        }
    }

    static func inferConvTranspose(_ c: OpContext) throws(OpError) -> [InferredOutput] {
        let attrs = try ConvTransposeAttributes(c)
        let x = try c.input(0)
        return [InferredOutput(TensorType(x.dtype, Shape([x.shape.dims[0], attrs.outputChannels] + attrs.outputSpatial)))]
    }
}
