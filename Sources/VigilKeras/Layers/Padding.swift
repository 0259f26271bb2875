import VigilIR

/// ZeroPadding1D/2D/3D, Cropping1D/2D/3D and UpSampling2D.
enum Padding {
    /// Per spatial axis (before, after) from `padding`/`cropping`: an int, one pair per axis, or one int per axis.
    /// Each amount lies in 0…`LayerCall.largestWindowFactor`, so that shape arithmetic cannot overflow.
    static func amounts(_ call: LayerCall, key: String, axes n: Int) throws -> [(Int, Int)] {
        let pairs = try pairs(call, key: key, axes: n)
        let range = 0...LayerCall.largestWindowFactor
        guard pairs.allSatisfy({ range.contains($0.0) && range.contains($0.1) }) else {
            throw call.error(.invalidConfig, "'\(key)' is \(pairs); each amount must be between 0 and \(range.upperBound)")
        }
        return pairs
    }

    private static func pairs(_ call: LayerCall, key: String, axes n: Int) throws -> [(Int, Int)] {
        guard let value = call.config[key] else { throw call.error(.invalidConfig, "config lacks '\(key)'") }
        if let int = value.int { return Array(repeating: (int, int), count: n) }
        guard let array = value.array else { throw call.error(.invalidConfig, "'\(key)' is malformed") }
        if n == 1, let pair = value.ints, pair.count == 2 { return [(pair[0], pair[1])] }
        if array.count == n, let flat = value.ints { return flat.map { ($0, $0) } }
        guard array.count == n else { throw call.error(.invalidConfig, "'\(key)' has \(array.count) entries, expected \(n)") }
        return try array.map { entry in
            if let int = entry.int { return (int, int) }
            guard let pair = entry.ints, pair.count == 2 else { throw call.error(.invalidConfig, "'\(key)' is malformed") }
            return (pair[0], pair[1])
        }
    }

    /// The spatial axes of a channels-last (1…rank−2) or channels-first (2…rank−1) tensor.
    static func spatialAxes(_ x: KTensor, _ call: LayerCall) throws -> [Int] {
        try call.channelsLast ? Array(1..<(x.rank - 1)) : Array(2..<x.rank)
    }

    static func zeroPadding(_ call: LayerCall) throws -> [KTensor] {
        let x = try call.input
        let axes = try spatialAxes(x, call)
        let amounts = try amounts(call, key: "padding", axes: axes.count)
        var begins = [Int](repeating: 0, count: x.rank), ends = begins
        var shape = x.shape
        for (axis, (before, after)) in zip(axes, amounts) {
            begins[axis] = before
            ends[axis] = after
            shape[axis] = shape[axis].map { $0 + before + after }
        }
        let pads = try call.builder.intConstant("\(call.layerPath)/pads", begins + ends)
        let y = try call.op("Pad", [x.name, pads], [.string("mode", "constant")])
        return [KTensor(name: y, shape: shape)]
    }

    static func cropping(_ call: LayerCall) throws -> [KTensor] {
        let x = try call.input
        let axes = try spatialAxes(x, call)
        let amounts = try amounts(call, key: "cropping", axes: axes.count)
        var shape = x.shape
        var starts: [Int] = [], ends: [Int] = []
        for (axis, (before, after)) in zip(axes, amounts) {
            starts.append(before)
            if let size = x.shape[axis] {
                guard before + after < size else { throw call.error(.invalidConfig, "cropping \(before)+\(after) leaves nothing of size \(size)") }
                ends.append(size - after)
            } else {
                ends.append(after == 0 ? Int(Int64.max) : -after)
            }
            shape[axis] = shape[axis].map { $0 - before - after }
        }
        let b = call.builder
        let y = try call.op("Slice", [
            x.name, try b.intConstant("\(call.layerPath)/starts", starts), try b.intConstant("\(call.layerPath)/ends", ends),
            try b.intConstant("\(call.layerPath)/axes", axes),
        ])
        return [KTensor(name: y, shape: shape)]
    }

    /// Nearest (repeat) or bilinear (half-pixel) upsampling by integer factors.
    static func upSampling(_ call: LayerCall) throws -> [KTensor] {
        let x = try call.input
        guard x.rank == 4 else { throw call.error(.invalidConfig, "expects a rank-4 input, got rank \(x.rank)") }
        let last = try call.channelsLast
        let size = try call.positiveInts("size", count: 2, 2)
        let interpolation = try call.string("interpolation", "nearest").lowercased()
        var attributes: [Attribute]
        switch interpolation {
        case "nearest":
            attributes = [.string("mode", "nearest"), .string("coordinate_transformation_mode", "asymmetric"),
                          .string("nearest_mode", "floor")]
        case "bilinear":
            attributes = [.string("mode", "linear"), .string("coordinate_transformation_mode", "half_pixel")]
        default:
            throw call.error(.unsupportedOption, "interpolation '\(interpolation)' is not supported")
        }
        let scales = try call.builder.floatConstant("\(call.layerPath)/scales", shape: [4]) { [1, 1, Float(size[0]), Float(size[1])] }
        let y = try Convolution.inChannelsFirst(x, channelsLast: last, call) { xt in
            try call.op("Resize", [xt, "", scales], attributes)
        }
        let axes = last ? [1, 2] : [2, 3]
        var shape = x.shape
        for (axis, factor) in zip(axes, size) { shape[axis] = shape[axis].map { $0 * factor } }
        return [KTensor(name: y, shape: shape)]
    }
}
