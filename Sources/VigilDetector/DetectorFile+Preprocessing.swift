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

    /// Version 2 attributes; version 1 files hold one `input_scale` applied to images of every type.
    static func readPreprocessing(_ root: HDF5Group, version: String, path: String) throws -> Preprocessing {
        func fail(_ reason: String) -> DetectorError { .invalidFile(path: path, reason: reason) }
        func string(_ name: String) throws -> String {
            guard let value = try root.stringAttribute(name) else { throw fail("missing attribute '\(name)'") }
            return value
        }
        func float(_ name: String) throws -> Float {
            guard let value = Float(try string(name)) else { throw fail("attribute '\(name)' is not a number") }
            return value
        }
        func floats(_ name: String) throws -> [Float] {
            let text = try string(name)
            guard !text.isEmpty else { return [] }
            let values = text.split(separator: ",").map { Float($0) }
            guard values.allSatisfy({ $0 != nil }) else { throw fail("attribute '\(name)' is not a list of numbers") }
            return values.map { $0! }
        }
        if version == "1" { return Preprocessing(scale: try float("input_scale")) }
        var p = Preprocessing(mean: try floats("input_mean"), std: try floats("input_std"))
        p.uint8Scale = try float("uint8_scale")
        p.float32Scale = try float("float32_scale")
        if root.hasAttribute("channel_axis") {
            guard let axis = Int(try string("channel_axis")) else { throw fail("attribute 'channel_axis' is not an integer") }
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
            let dims = text.isEmpty ? [] : text.split(separator: ",").map { Int($0) }
            guard dims.allSatisfy({ $0 != nil && $0! > 0 }) else { throw fail("attribute 'image_shape' is not a list of sizes") }
            p.imageShape = dims.map { $0! }
        }
        return p
    }
}
