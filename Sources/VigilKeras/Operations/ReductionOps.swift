import VigilIR

/// Keras 3 reductions (`ops.mean`, `ops.sum`, `ops.max`, `ops.min`, `ops.var`, `ops.std`,
/// `ops.argmax`, `ops.argmin`): `axis` (null for all axes) and `keepdims` from the config.
enum ReductionOps {
    /// The normalized axes (all when `axis` is null) and the output shape.
    static func axes(_ call: OperationCall, _ x: KTensor) throws -> (axes: [Int], keep: Bool, shape: [Int?]) {
        let axes = try (call.ints("axis") ?? Array(0..<x.rank)).map { try call.axis($0, rank: x.rank) }.sorted()
        let keep = call.config["keepdims"]?.bool ?? false
        var shape: [Int?] = []
        for (i, d) in x.shape.enumerated() { if axes.contains(i) { if keep { shape.append(1) } } else { shape.append(d) } }
        return (axes, keep, shape)
    }

    /// A reduction with its axes given as an input (ReduceSum from opset 13; the others read the
    /// `axes` attribute at the importer's opset 17).
    static func reduce(_ onnx: String) -> OperationLowering {
        { call in
            let x = try call.tensor(0, "x")
            if call.config["initial"] != nil { throw call.unsupported("'initial' is not supported") }
            let (axes, keep, shape) = try axes(call, x)
            let y: String
            if onnx == "ReduceSum" {
                y = try call.op(onnx, [x.name, try call.builder.intConstant("axes", axes)], [.int("keepdims", keep ? 1 : 0)])
            } else {
                y = try call.op(onnx, [x.name], [.ints("axes", axes), .int("keepdims", keep ? 1 : 0)])
            }
            return [KTensor(name: y, shape: shape)]
        }
    }

    /// Population variance (or its square root): mean((x − mean(x))²).
    static func variance(root: Bool) -> OperationLowering {
        { call in
            let x = try call.tensor(0, "x")
            let (axes, keep, shape) = try axes(call, x)
            let mean = try call.op("ReduceMean", [x.name], [.ints("axes", axes), .int("keepdims", 1)])
            let centered = try call.op("Sub", [x.name, mean])
            let variance = try call.op("ReduceMean", [try call.op("Mul", [centered, centered])], [.ints("axes", axes), .int("keepdims", keep ? 1 : 0)])
            return [KTensor(name: root ? try call.op("Sqrt", [variance]) : variance, shape: shape)]
        }
    }

    static func arg(_ onnx: String) -> OperationLowering {
        { call in
            let x = try call.tensor(0, "x")
            guard let raw = call.config["axis"]?.int else { throw call.unsupported("\(onnx) over all axes (axis=None) is not supported") }
            let axis = try call.axis(raw, rank: x.rank), keep = call.config["keepdims"]?.bool ?? false
            var shape = x.shape
            if keep { shape[axis] = 1 } else { shape.remove(at: axis) }
            return [KTensor(name: try call.op(onnx, [x.name], [.int("axis", axis), .int("keepdims", keep ? 1 : 0)]), shape: shape, dtype: .int64)]
        }
    }
}
