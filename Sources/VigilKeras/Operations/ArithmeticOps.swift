import VigilIR

/// Elementwise Keras 3 operations: arithmetic and comparisons with numpy broadcasting (a Python
/// number or constant tensor on either side becomes an initializer), unary math, Where, Clip,
/// Matmul and Cast.
enum ArithmeticOps {
    /// A binary broadcasting op (`x + 3.0`, `2.0 * x`, `ops.maximum(x, -2.0)`).
    static func binary(_ onnx: String) -> OperationLowering {
        { call in
            let a = try call.tensor(0, "x1"), b = try call.tensor(1, "x2")
            return [KTensor(name: try call.op(onnx, [a.name, b.name]), shape: Merge.broadcast([a.shape, b.shape]))]
        }
    }

    /// A comparison (bool output).
    static func comparison(_ onnx: String) -> OperationLowering {
        { call in
            let a = try call.tensor(0, "x1"), b = try call.tensor(1, "x2")
            return [KTensor(name: try call.op(onnx, [a.name, b.name]), shape: Merge.broadcast([a.shape, b.shape]), dtype: .bool)]
        }
    }

    static func unary(_ onnx: String) -> OperationLowering {
        { call in
            let x = try call.tensor(0, "x")
            return [KTensor(name: try call.op(onnx, [x.name]), shape: x.shape)]
        }
    }

    static func square(_ call: OperationCall) throws -> [KTensor] {
        let x = try call.tensor(0, "x")
        return [KTensor(name: try call.op("Mul", [x.name, x.name]), shape: x.shape)]
    }

    static func where_(_ call: OperationCall) throws -> [KTensor] {
        let condition = try call.tensor(0, "condition"), x = try call.tensor(1, "x1"), y = try call.tensor(2, "x2")
        return [KTensor(name: try call.op("Where", [condition.name, x.name, y.name]), shape: Merge.broadcast([condition.shape, x.shape, y.shape]),
                        dtype: x.dtype)]
    }

    /// `ops.clip(x, x_min, x_max)`: the bounds are in the config (or arguments).
    static func clip(_ call: OperationCall) throws -> [KTensor] {
        let x = try call.tensor(0, "x")
        func bound(_ key: String, _ index: Int) throws -> String {
            if let value = call.config[key]?.double { return try call.builder.scalar(Float(value)) }
            return try call.tensor(index, key).name
        }
        return [KTensor(name: try call.op("Clip", [x.name, try bound("x_min", 1), try bound("x_max", 2)]), shape: x.shape)]
    }

    static func matmul(_ call: OperationCall) throws -> [KTensor] {
        let a = try call.tensor(0, "x1"), b = try call.tensor(1, "x2")
        guard a.rank >= 2, b.rank >= 2 else { throw call.unsupported("Matmul of rank-\(a.rank) and rank-\(b.rank) tensors is not supported") }
        let batch = Merge.broadcast([Array(a.shape.dropLast(2)), Array(b.shape.dropLast(2))])
        return [KTensor(name: try call.op("MatMul", [a.name, b.name]), shape: batch + [a.shape[a.rank - 2], b.shape[b.rank - 1]])]
    }

    /// `ops.cast(x, dtype)`: float32 stays as it is; other dtypes become a Cast.
    static func cast(_ call: OperationCall) throws -> [KTensor] {
        let x = try call.tensor(0, "x")
        let dtype = call.config["dtype"]?.string ?? "float32"
        let codes: [String: DType] = ["float32": .float32, "float64": .float64, "float16": .float16, "int32": .int32, "int64": .int64,
                                      "int8": .int8, "uint8": .uint8, "bool": .bool]
        guard let target = codes[dtype] else { throw call.unsupported("cast to '\(dtype)' is not supported") }
        if target == .float32 { return [x] }
        return [KTensor(name: try call.op("Cast", [x.name], [.int("to", Int(target.onnxCode))]), shape: x.shape, dtype: target)]
    }
}
