import VigilIR

/// InputLayer and Dense.
enum Core {
    /// An InputLayer reached as a layer call (inside a nested model): passes its input through.
    static func input(_ call: LayerCall) throws -> [KTensor] { call.inputs }

    /// `y = activation(x · kernel + bias)` on the last axis, for inputs of any rank.
    static func dense(_ call: LayerCall) throws -> [KTensor] {
        let x = try call.input
        let units = try call.int("units", 0)
        guard let inFeatures = x.shape.last ?? nil else { throw call.error(.invalidConfig, "the input's last dimension is unknown") }
        let useBias = try call.bool("use_bias", true)
        var expected: [(role: String, shape: [Int])] = [("kernel", [inFeatures, units])]
        if useBias { expected.append(("bias", [units])) }
        let weights = try call.weights(expected)
        let kernel = try call.constant("kernel", weight: weights[0])
        var y = try call.op("MatMul", [x.name, kernel])
        if useBias {
            let bias = try call.constant("bias", weight: weights[1])
            y = try call.op("Add", [y, bias])
        }
        let output = KTensor(name: y, shape: Array(x.shape.dropLast()) + [units])
        return [try Activations.apply(call.config["activation"], to: output, call)]
    }
}

/// Layers that keras.applications define for their own architectures (modules
/// `keras.src.applications.*`), whose computation is fixed by Keras itself.
enum ApplicationLayers {
    /// ConvNeXt's LayerScale: `x · gamma` over the last (channel) axis, gamma [projection_dim].
    static func layerScale(_ call: LayerCall) throws -> [KTensor] {
        let x = try call.input
        let dim = try call.int("projection_dim", 0)
        guard dim > 0, x.shape.last == dim else {
            throw call.error(.invalidConfig, "projection_dim \(dim) does not match the input's last dimension \(String(describing: x.shape.last ?? nil))")
        }
        let gamma = try call.weights([("gamma", [dim])])[0]
        return [KTensor(name: try call.op("Mul", [x.name, try call.constant("gamma", weight: gamma)]), shape: x.shape)]
    }
}
