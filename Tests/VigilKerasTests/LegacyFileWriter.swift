import Foundation
import VigilHDF5

/// Writes Keras 2 style legacy `.h5` files from Swift (for crafted error cases and the benchmark).
enum LegacyFileWriter {
    /// A Sequential MLP: `widths[0]` inputs, then one Dense layer per further width; weights are a
    /// deterministic ramp. Returns the Keras 2 config JSON it stored.
    /// How the Sequential config declares its input.
    enum Style {
        /// An InputLayer with `batch_input_shape` (Keras 2.4+).
        case inputLayer
        /// No InputLayer; the first Dense has `batch_input_shape`.
        case firstLayerShape
        /// Keras ≤ 2.2: the config is the bare list of layers.
        case bareList
    }

    @discardableResult
    static func writeMLP(to path: String, widths: [Int], style: Style = .inputLayer) throws -> String {
        var layers: [[String: Any]] = style == .inputLayer ? [[
            "class_name": "InputLayer",
            "config": ["batch_input_shape": [NSNull(), widths[0]], "dtype": "float32", "name": "input_1"],
        ]] : []
        for index in 1..<widths.count {
            var config: [String: Any] = [
                "name": "dense_\(index)", "units": widths[index], "activation": index == widths.count - 1 ? "linear" : "relu",
                "use_bias": true, "dtype": "float32",
            ]
            if index == 1 && style != .inputLayer { config["batch_input_shape"] = [NSNull(), widths[0]] }
            layers.append(["class_name": "Dense", "config": config])
        }
        let config: [String: Any] = style == .bareList
            ? ["class_name": "Sequential", "config": layers]
            : ["class_name": "Sequential", "config": ["name": "sequential", "layers": layers]]
        let json = String(decoding: try JSONSerialization.data(withJSONObject: config), as: UTF8.self)

        let file = try HDF5File.create(path: path)
        defer { file.close() }
        let root = try file.root()
        defer { root.close() }
        try root.setStringAttribute("model_config", json)
        try root.setStringAttribute("keras_version", "2.13.1")
        try root.setStringAttribute("backend", "tensorflow")
        let weights = try root.createGroup("model_weights")
        defer { weights.close() }
        let names = (1..<widths.count).map { "dense_\($0)" }
        try weights.setFixedStringsAttribute("layer_names", names)
        for (offset, name) in names.enumerated() {
            let (inputs, units) = (widths[offset], widths[offset + 1])
            let group = try weights.createGroup(name)
            try group.setFixedStringsAttribute("weight_names", ["\(name)/kernel:0", "\(name)/bias:0"])
            let scale = 1 / Float(inputs)
            try group.writeDataset("\(name)/kernel:0", shape: [inputs, units],
                                   values: (0..<(inputs * units)).map { Float($0 % 7 - 3) * scale })
            try group.writeDataset("\(name)/bias:0", shape: [units], values: (0..<units).map { Float($0 % 5) * 0.1 })
            group.close()
        }
        return json
    }
}
