import VigilHDF5
import VigilIR

/// The preprocessing attributes of the detector file (`Formats/detector.md`).
extension DetectorFile {
    static func writePreprocessing(_ p: Preprocessing, _ root: HDF5Group) throws(HDF5Error) {
        try root.setStringAttribute("preprocessing", p.description)
        try root.setStringAttribute("uint8_scale", "\(p.uint8Scale)")
        try root.setStringAttribute("float32_scale", "\(p.float32Scale)")
        try root.setStringAttribute("input_mean", p.mean.map { "\($0)" }.joined(separator: ","))
        try root.setStringAttribute("input_std", p.std.map { "\($0)" }.joined(separator: ","))
        if let axis = p.channelAxis { try root.setStringAttribute("channel_axis", String(axis)) }
        if let type = p.imageType { try root.setStringAttribute("image_dtype", type.rawValue) }
        if let shape = p.imageShape { try root.setStringAttribute("image_shape", shape.map(String.init).joined(separator: ",")) }
    }
}

extension DetectorContents {
    /// The preprocessing: version 2 attributes; version 1 files hold one `input_scale` applied to
    /// images of every type. Scales must be positive and finite, means finite, deviations positive.
    func preprocessing(version: String) throws -> Preprocessing {
        func float(_ name: String) throws -> Float { Float(try positive(name)) }
        func floats(_ name: String, positive: Bool) throws -> [Float] {
            let text = try string(name)
            guard !text.isEmpty else { return [] }
            let values = text.split(separator: ",", omittingEmptySubsequences: false).map { Float($0) }
            guard values.allSatisfy({ $0 != nil && $0!.isFinite && (!positive || $0! > 0) }) else {
                throw fail("attribute '\(name)' is not a list of \(positive ? "positive" : "finite") numbers")
            }
            return values.map { $0! }
        }
        if version == "1" { return Preprocessing(scale: try float("input_scale")) }
        var p = Preprocessing(mean: try floats("input_mean", positive: false), std: try floats("input_std", positive: true))
        p.uint8Scale = try float("uint8_scale")
        p.float32Scale = try float("float32_scale")
        if root.hasAttribute("channel_axis") {
            let text = try string("channel_axis")
            guard let axis = Int(text), (-64...64).contains(axis) else { throw fail("attribute 'channel_axis' is not an axis: '\(text.prefix(40))'") }
            p.channelAxis = axis
        }
        if root.hasAttribute("image_dtype") {
            guard let type = DType(rawValue: try string("image_dtype")), type == .uint8 || type == .float32 else {
                throw fail("attribute 'image_dtype' must be uint8 or float32")
            }
            p.imageType = type
        }
        if root.hasAttribute("image_shape") {
            let text = try string("image_shape")
            let dims = text.isEmpty ? [] : text.split(separator: ",", omittingEmptySubsequences: false).map { Int($0) }
            guard dims.count <= 64, dims.allSatisfy({ $0 != nil && (1...(1 << 30)).contains($0!) }) else {
                throw fail("attribute 'image_shape' is not a list of sizes")
            }
            p.imageShape = dims.map { $0! }
        }
        return p
    }
}
