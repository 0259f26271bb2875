import VigilIR

/// Conv1D/2D/3D (padding valid/same/causal, strides, dilation, groups), DepthwiseConv2D,
/// SeparableConv2D and Conv2DTranspose. Channels-last inputs are transposed to NCHW around each ONNX
/// convolution (the optimizer cancels adjacent transposes).
enum Convolution {
    /// Spatial geometry shared by convolutions and pooling.
    struct Window {
        var kernel: [Int]
        var strides: [Int]
        var dilations: [Int]
        /// ONNX `pads`: begins then ends; `nil` with `autoPad` set when a size is unknown.
        var pads: [Int]?
        var autoPad: String?
        var outputSpatial: [Int?]

        var attributes: [Attribute] {
            var result: [Attribute] = [.ints("kernel_shape", kernel), .ints("strides", strides)]
            if let pads { result.append(.ints("pads", pads)) }
            if let autoPad { result.append(.string("auto_pad", autoPad)) }
            return result
        }
    }

    /// Keras padding (`valid`, `same`, `causal`) as explicit ONNX pads for the given spatial sizes.
    static func window(spatial: [Int?], kernel: [Int], strides: [Int], dilations: [Int], padding: String,
                       _ call: LayerCall) throws -> Window {
        let n = spatial.count
        var begins = [Int](repeating: 0, count: n), ends = [Int](repeating: 0, count: n)
        var output: [Int?] = []
        var autoPad: String?
        for i in 0..<n {
            let effective = (kernel[i] - 1) * dilations[i] + 1
            switch padding.lowercased() {
            case "valid":
                if let size = spatial[i], size < effective {
                    throw call.error(.invalidConfig, "the window \(effective) (kernel \(kernel[i]), dilation \(dilations[i])) is larger than the input's size \(size) on spatial axis \(i)")
                }
                output.append(spatial[i].map { ($0 - effective) / strides[i] + 1 })
            case "same":
                guard let size = spatial[i] else { autoPad = "SAME_UPPER"; output.append(nil); continue }
                let out = (size + strides[i] - 1) / strides[i]
                let total = max((out - 1) * strides[i] + effective - size, 0)
                begins[i] = total / 2
                ends[i] = total - total / 2
                output.append(out)
            case "causal":
                guard n == 1 else { throw call.error(.unsupportedOption, "causal padding needs a 1-D convolution") }
                begins[i] = effective - 1
                output.append(spatial[i].map { ($0 + effective - 1 - effective) / strides[i] + 1 })
            default:
                throw call.error(.unsupportedOption, "padding '\(padding)' is not supported")
            }
        }
        if autoPad != nil { return Window(kernel: kernel, strides: strides, dilations: dilations, pads: nil, autoPad: autoPad, outputSpatial: output) }
        return Window(kernel: kernel, strides: strides, dilations: dilations, pads: begins + ends, autoPad: nil, outputSpatial: output)
    }

    /// Splits a channels-last or channels-first input into (spatial sizes, channels).
    static func layout(_ x: KTensor, _ call: LayerCall) throws -> (spatial: [Int?], channels: Int, channelsLast: Bool) {
        guard x.rank >= 3 else { throw call.error(.invalidConfig, "expects an input of rank 3 or more, got rank \(x.rank)") }
        let last = try call.channelsLast
        let channels = last ? x.shape[x.rank - 1] : x.shape[1]
        guard let channels else { throw call.error(.invalidConfig, "the input's channel dimension is unknown") }
        return (last ? Array(x.shape[1..<(x.rank - 1)]) : Array(x.shape[2...]), channels, last)
    }

    /// Wraps an NCHW computation for a channels-last layer.
    static func inChannelsFirst(_ x: KTensor, channelsLast: Bool, _ call: LayerCall,
                                _ body: (String) throws -> String) throws -> String {
        guard channelsLast else { return try body(x.name) }
        let y = try body(try call.toChannelsFirst(x.name, rank: x.rank))
        return try call.toChannelsLast(y, rank: x.rank)
    }

    static func outputShape(_ x: KTensor, spatial: [Int?], channels: Int, channelsLast: Bool) -> [Int?] {
        channelsLast ? [x.shape[0]] + spatial + [channels] : [x.shape[0], channels] + spatial
    }

    /// Conv1D, Conv2D, Conv3D. Kernel (k…, in/groups, filters) → ONNX (filters, in/groups, k…).
    static func conv(_ call: LayerCall) throws -> [KTensor] {
        let x = try call.input
        let (spatial, inChannels, last) = try layout(x, call)
        let n = spatial.count
        let filters = try call.int("filters", 0)
        let groups = try call.int("groups", 1)
        guard groups >= 1, inChannels % groups == 0, filters % groups == 0 else {
            throw call.error(.invalidConfig, "groups \(groups) does not divide the \(inChannels) input channels and \(filters) filters")
        }
        let kernel = try call.positiveInts("kernel_size", count: n)
        let window = try self.window(
            spatial: spatial, kernel: kernel, strides: try call.positiveInts("strides", count: n, 1),
            dilations: try call.positiveInts("dilation_rate", count: n, 1), padding: try call.string("padding", "valid"), call)
        let useBias = try call.bool("use_bias", true)
        let kernelShape = kernel + [inChannels / groups, filters]
        var expected: [(role: String, shape: [Int])] = [("kernel", kernelShape)]
        if useBias { expected.append(("bias", [filters])) }
        let weights = try call.weights(expected)
        let onnxShape = [filters, inChannels / groups] + kernel
        let w = try call.constant("kernel", shape: onnxShape) {
            permute(weights[0].values, shape: kernelShape, perm: [n + 1, n] + Array(0..<n))
        }
        var inputs = [w]
        if useBias { inputs.append(try call.constant("bias", weight: weights[1])) }
        let y = try inChannelsFirst(x, channelsLast: last, call) { xt in
            try call.op("Conv", [xt] + inputs, window.attributes + [.ints("dilations", window.dilations), .int("group", groups)])
        }
        let output = KTensor(name: y, shape: outputShape(x, spatial: window.outputSpatial, channels: filters, channelsLast: last))
        return [try Activations.apply(call.config["activation"], to: output, call)]
    }

    /// Depthwise kernel (kh, kw, in, multiplier) → grouped ONNX weight (in·multiplier, 1, kh, kw);
    /// output channel c·multiplier + m, as in Keras.
    static func depthwiseWeight(_ values: [Float], kernel: [Int], channels: Int, multiplier: Int) -> [Float] {
        permute(values, shape: kernel + [channels * multiplier], perm: [kernel.count] + Array(0..<kernel.count))
    }

    static func depthwise(_ call: LayerCall) throws -> [KTensor] {
        let x = try call.input
        let (spatial, channels, last) = try layout(x, call)
        let n = spatial.count
        let multiplier = try call.positiveInt("depth_multiplier", 1)
        let kernel = try call.positiveInts("kernel_size", count: n)
        let window = try self.window(
            spatial: spatial, kernel: kernel, strides: try call.positiveInts("strides", count: n, 1),
            dilations: try call.positiveInts("dilation_rate", count: n, 1), padding: try call.string("padding", "valid"), call)
        let useBias = try call.bool("use_bias", true)
        let outChannels = channels * multiplier
        var expected: [(role: String, shape: [Int])] = [("depthwise_kernel", kernel + [channels, multiplier])]
        if useBias { expected.append(("bias", [outChannels])) }
        let weights = try call.weights(expected)
        let w = try call.constant("depthwise_kernel", shape: [outChannels, 1] + kernel) {
            depthwiseWeight(weights[0].values, kernel: kernel, channels: channels, multiplier: multiplier)
        }
        var inputs = [w]
        if useBias { inputs.append(try call.constant("bias", weight: weights[1])) }
        let y = try inChannelsFirst(x, channelsLast: last, call) { xt in
            try call.op("Conv", [xt] + inputs, window.attributes + [.ints("dilations", window.dilations), .int("group", channels)])
        }
        let output = KTensor(name: y, shape: outputShape(x, spatial: window.outputSpatial, channels: outChannels, channelsLast: last))
        return [try Activations.apply(call.config["activation"], to: output, call)]
    }

    /// A depthwise convolution (with the strides, padding and dilation) then a pointwise 1×1 convolution.
    static func separable(_ call: LayerCall) throws -> [KTensor] {
        let x = try call.input
        let (spatial, channels, last) = try layout(x, call)
        let n = spatial.count
        let multiplier = try call.positiveInt("depth_multiplier", 1)
        let filters = try call.int("filters", 0)
        let kernel = try call.positiveInts("kernel_size", count: n)
        let window = try self.window(
            spatial: spatial, kernel: kernel, strides: try call.positiveInts("strides", count: n, 1),
            dilations: try call.positiveInts("dilation_rate", count: n, 1), padding: try call.string("padding", "valid"), call)
        let useBias = try call.bool("use_bias", true)
        let middle = channels * multiplier
        let ones = [Int](repeating: 1, count: n)
        var expected: [(role: String, shape: [Int])] = [
            ("depthwise_kernel", kernel + [channels, multiplier]), ("pointwise_kernel", ones + [middle, filters]),
        ]
        if useBias { expected.append(("bias", [filters])) }
        let weights = try call.weights(expected)
        let depthwise = try call.constant("depthwise_kernel", shape: [middle, 1] + kernel) {
            depthwiseWeight(weights[0].values, kernel: kernel, channels: channels, multiplier: multiplier)
        }
        let pointwise = try call.constant("pointwise_kernel", shape: [filters, middle] + ones) {
            permute(weights[1].values, shape: [middle, filters], perm: [1, 0])
        }
        var pointwiseInputs = [pointwise]
        if useBias { pointwiseInputs.append(try call.constant("bias", weight: weights[2])) }
        let y = try inChannelsFirst(x, channelsLast: last, call) { xt in
            let d = try call.op("Conv", [xt, depthwise], window.attributes + [.ints("dilations", window.dilations), .int("group", channels)])
            return try call.op("Conv", [d] + pointwiseInputs, [.ints("kernel_shape", ones)])
        }
        let output = KTensor(name: y, shape: outputShape(x, spatial: window.outputSpatial, channels: filters, channelsLast: last))
        return [try Activations.apply(call.config["activation"], to: output, call)]
    }

    /// Conv2DTranspose. Kernel (kh, kw, filters, in) → ONNX ConvTranspose (in, filters, kh, kw); the
    /// pads follow Keras's own conversion of `padding`/`output_padding` (as its jax backend does).
    static func transpose(_ call: LayerCall) throws -> [KTensor] {
        let x = try call.input
        let (spatial, channels, last) = try layout(x, call)
        let n = spatial.count
        let filters = try call.int("filters", 0)
        let kernel = try call.positiveInts("kernel_size", count: n)
        let strides = try call.positiveInts("strides", count: n, 1)
        let dilations = try call.positiveInts("dilation_rate", count: n, 1)
        let padding = try call.string("padding", "valid").lowercased()
        let outputPaddingOption: [Int]? = call.config["output_padding"] == nil ? nil : try call.ints("output_padding", count: n)
        var begins: [Int] = [], ends: [Int] = [], extra: [Int] = []
        var outSpatial: [Int?] = []
        for i in 0..<n {
            let effective = (kernel[i] - 1) * dilations[i] + 1
            let s = strides[i]
            let left: Int, right: Int
            if padding == "valid" {
                let outputPadding = outputPaddingOption?[i] ?? (max(effective, s) - effective)
                left = effective - 1
                right = effective - 1 + outputPadding
            } else if padding == "same" {
                let length = outputPaddingOption.map { effective + effective % 2 - 2 + $0[i] } ?? (s + effective - 2)
                left = min(length / 2 + length % 2, effective - 1)
                right = length - left
            } else {
                throw call.error(.unsupportedOption, "padding '\(padding)' is not supported")
            }
            // A convolution of the stride-dilated input padded by (left, right) equals ONNX ConvTranspose
            // with pads (k−1−left, k−1−right), the latter negative part moved into output_padding.
            begins.append(effective - 1 - left)
            let end = effective - 1 - right
            ends.append(max(end, 0))
            extra.append(max(-end, 0))
            outSpatial.append(spatial[i].map { s * ($0 - 1) + effective - begins[i] - ends[i] + extra[i] })
        }
        guard begins.allSatisfy({ $0 >= 0 }) else { throw call.error(.unsupportedOption, "output_padding larger than the kernel is not supported") }
        let useBias = try call.bool("use_bias", true)
        let kernelShape = kernel + [filters, channels]
        var expected: [(role: String, shape: [Int])] = [("kernel", kernelShape)]
        if useBias { expected.append(("bias", [filters])) }
        let weights = try call.weights(expected)
        let w = try call.constant("kernel", shape: [channels, filters] + kernel) {
            permute(weights[0].values, shape: kernelShape, perm: [n + 1, n] + Array(0..<n))
        }
        var inputs = [w]
        if useBias { inputs.append(try call.constant("bias", weight: weights[1])) }
        var attributes: [Attribute] = [
            .ints("kernel_shape", kernel), .ints("strides", strides), .ints("dilations", dilations), .ints("pads", begins + ends),
        ]
        if extra.contains(where: { $0 != 0 }) { attributes.append(.ints("output_padding", extra)) }
        let y = try inChannelsFirst(x, channelsLast: last, call) { xt in
            try call.op("ConvTranspose", [xt] + inputs, attributes)
        }
        let output = KTensor(name: y, shape: outputShape(x, spatial: outSpatial, channels: filters, channelsLast: last))
        return [try Activations.apply(call.config["activation"], to: output, call)]
    }
}
