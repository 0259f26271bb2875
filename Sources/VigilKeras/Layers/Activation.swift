import VigilIR

/// The Activation layer, the `activation` option of other layers, and the activation layers
/// (ReLU, LeakyReLU, PReLU, ELU, Softmax).
enum Activations {
    static func activation(_ call: LayerCall) throws -> [KTensor] {
        [try apply(call.config["activation"], to: try call.input, call)]
    }

    /// The activation's name from a config value: `"relu"`, or a serialized function object.
    static func name(_ value: JSONValue?) -> String? {
        guard let value else { return nil }
        if let name = value.string { return name }
        if let name = value["config"]?.string ?? value["config"]?["name"]?.string { return name }
        return value["class_name"]?.string
    }

    /// Applies a named activation (`linear`/absent is the identity).
    static func apply(_ value: JSONValue?, to x: KTensor, _ call: LayerCall) throws -> KTensor {
        guard let name = name(value) else { return x }
        let v = x.name
        let result: String
        switch name.lowercased() {
        case "linear", "identity": return x
        case "relu": result = try call.op("Relu", [v])
        case "relu6": result = try call.op("Clip", [v, try call.builder.scalar(0), try call.builder.scalar(6)])
        case "sigmoid": result = try call.op("Sigmoid", [v])
        case "hard_sigmoid":
            // Keras 3: relu6(x + 3) / 6; Keras 2: clip(0.2·x + 0.5, 0, 1).
            let alpha = call.kerasMajor >= 3 ? 1.0 / 6.0 : 0.2
            result = try call.op("HardSigmoid", [v], [.float("alpha", alpha), .float("beta", 0.5)])
        case "tanh": result = try call.op("Tanh", [v])
        case "softmax": result = try call.op("Softmax", [v], [.int("axis", -1)])
        case "log_softmax": result = try call.op("LogSoftmax", [v], [.int("axis", -1)])
        case "softplus": result = try call.op("Softplus", [v])
        case "softsign": result = try call.op("Softsign", [v])
        case "elu": result = try call.op("Elu", [v], [.float("alpha", 1)])
        case "selu": result = try call.op("Selu", [v])
        case "swish", "silu": result = try call.op("Mul", [v, try call.op("Sigmoid", [v])])
        case "gelu":
            // Exact GELU: 0.5·x·(1 + erf(x/√2)) (Keras's default, approximate=False).
            let scaled = try call.op("Mul", [v, try call.builder.scalar(Float(1 / 2.0.squareRoot()))])
            let erf = try call.op("Add", [try call.op("Erf", [scaled]), try call.builder.scalar(1)])
            result = try call.op("Mul", [try call.op("Mul", [v, try call.builder.scalar(0.5)]), erf])
        case "exponential": result = try call.op("Exp", [v])
        case "leaky_relu": result = try call.op("LeakyRelu", [v], [.float("alpha", 0.2)])
        case "hard_swish", "hard_silu": result = try call.op("HardSwish", [v])
        case "mish":
            result = try call.op("Mul", [v, try call.op("Tanh", [try call.op("Softplus", [v])])])
        default:
            throw call.error(.unsupportedOption, "activation '\(name)' is not supported")
        }
        return KTensor(name: result, shape: x.shape)
    }

    /// ReLU with Keras's `max_value`, `negative_slope` and `threshold`, computed as Keras does:
    /// clip(x if x > threshold else 0, 0, max_value) − negative_slope · relu(threshold − x).
    static func relu(_ call: LayerCall) throws -> [KTensor] {
        let x = try call.input
        let maxValue = try call.optionalDouble("max_value")
        let slope = try call.double("negative_slope", 0)
        let threshold = try call.double("threshold", 0)
        let b = call.builder
        var y: String
        if threshold != 0 {
            let t = try b.scalar(Float(threshold))
            y = try call.op("Where", [try call.op("Greater", [x.name, t]), x.name, try b.scalar(0)])
        } else {
            y = try call.op("Relu", [x.name])
        }
        if let maxValue { y = try call.op("Clip", [y, try b.scalar(0), try b.scalar(Float(maxValue))]) }
        if slope != 0 {
            let negative = try call.op("Relu", [try call.op("Sub", [try b.scalar(Float(threshold)), x.name])])
            y = try call.op("Sub", [y, try call.op("Mul", [negative, try b.scalar(Float(slope))])])
        }
        return [KTensor(name: y, shape: x.shape)]
    }

    /// LeakyReLU: `negative_slope` (Keras 3) or `alpha` (Keras 2), default 0.3.
    static func leakyRelu(_ call: LayerCall) throws -> [KTensor] {
        let x = try call.input
        let slope = try call.optionalDouble("negative_slope") ?? call.optionalDouble("alpha") ?? 0.3
        return [KTensor(name: try call.op("LeakyRelu", [x.name], [.float("alpha", slope)]), shape: x.shape)]
    }

    /// PReLU: a learned slope per element of the input (1 along `shared_axes`).
    static func prelu(_ call: LayerCall) throws -> [KTensor] {
        let x = try call.input
        var shape: [Int] = []
        let shared = Set(call.config["shared_axes"]?.ints ?? [])
        for axis in 1..<x.rank {
            if shared.contains(axis) { shape.append(1); continue }
            guard let size = x.shape[axis] else { throw call.error(.invalidConfig, "the input's dimension \(axis) is unknown") }
            shape.append(size)
        }
        let weights = try call.weights([("alpha", shape)])
        let slope = try call.constant("alpha", shape: shape) { weights[0].values }
        return [KTensor(name: try call.op("PRelu", [x.name, slope]), shape: x.shape)]
    }

    static func elu(_ call: LayerCall) throws -> [KTensor] {
        let x = try call.input
        return [KTensor(name: try call.op("Elu", [x.name], [.float("alpha", try call.double("alpha", 1))]), shape: x.shape)]
    }

    static func softmax(_ call: LayerCall) throws -> [KTensor] {
        let x = try call.input
        let axes = try call.axes("axis", rank: x.rank, [-1])
        guard axes.count == 1 else { throw call.error(.unsupportedOption, "softmax over several axes \(axes) is not supported") }
        return [KTensor(name: try call.op("Softmax", [x.name], [.int("axis", axes[0])]), shape: x.shape)]
    }
}
