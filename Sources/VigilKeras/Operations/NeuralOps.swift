import VigilIR

/// Keras 3 `keras.ops.nn` activations, lowered as the matching Keras activations are.
enum NeuralOps {
    /// An activation without options, by its Keras activation name.
    static func activation(_ name: String) -> OperationLowering {
        { call in [try Activations.apply(.string(name), to: try call.tensor(0, "x"), call.layer)] }
    }

    static func elu(_ call: OperationCall) throws -> [KTensor] {
        let x = try call.tensor(0, "x")
        let alpha = call.config["alpha"]?.double ?? 1
        return [KTensor(name: try call.op("Elu", [x.name], [.float("alpha", alpha)]), shape: x.shape)]
    }

    static func leakyRelu(_ call: OperationCall) throws -> [KTensor] {
        let x = try call.tensor(0, "x")
        let slope = call.config["negative_slope"]?.double ?? 0.2
        return [KTensor(name: try call.op("LeakyRelu", [x.name], [.float("alpha", slope)]), shape: x.shape)]
    }

    /// `ops.gelu(x, approximate=True)` (Keras's default) is the tanh form; `False` the exact one.
    static func gelu(_ call: OperationCall) throws -> [KTensor] {
        let x = try call.tensor(0, "x")
        guard call.config["approximate"]?.bool ?? true else { return [try Activations.apply(.string("gelu"), to: x, call.layer)] }
        let v = x.name, b = call.builder
        // 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
        let cube = try call.op("Mul", [try call.op("Mul", [v, v]), v])
        let inner = try call.op("Add", [v, try call.op("Mul", [cube, try b.scalar(0.044715)])])
        let t = try call.op("Tanh", [try call.op("Mul", [inner, try b.scalar(Float((2 / Double.pi).squareRoot()))])])
        let y = try call.op("Mul", [try call.op("Mul", [v, try b.scalar(0.5)]), try call.op("Add", [t, try b.scalar(1)])])
        return [KTensor(name: y, shape: x.shape)]
    }

    static func softmax(_ onnx: String) -> OperationLowering {
        { call in
            let x = try call.tensor(0, "x")
            let axis = try call.axis(call.config["axis"]?.int ?? -1, rank: x.rank)
            return [KTensor(name: try call.op(onnx, [x.name], [.int("axis", axis)]), shape: x.shape)]
        }
    }
}
