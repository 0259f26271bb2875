import VigilIR

/// Elementwise ops, defined by tables: unary ops keep the input type, binary and variadic ops
/// broadcast numpy-style, comparisons and logic produce `bool`.
public enum Elementwise {
    /// Unary ops over floats: output type = input type.
    public static let unaryFloat: [String] = [
        "Relu", "LeakyRelu", "Elu", "Selu", "Celu", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh", "Softplus",
        "Softsign", "Gelu", "Erf", "Exp", "Log", "Sqrt", "Reciprocal", "Floor", "Ceil", "Round",
    ]
    /// Unary ops over any signed number.
    public static let unaryNumeric: [String] = ["Abs", "Neg", "Sign"]
    /// Binary arithmetic: output type = input type.
    public static let arithmetic: [String] = ["Add", "Sub", "Mul", "Div"]
    /// Binary comparisons: output `bool`.
    public static let comparisons: [String] = ["Equal", "Greater", "Less", "GreaterOrEqual", "LessOrEqual"]
    /// Binary logic over `bool`.
    public static let logical: [String] = ["And", "Or", "Xor"]
    /// Variadic broadcasting ops.
    public static let variadic: [String] = ["Max", "Min", "Sum", "Mean"]

    static var definitions: [OpDefinition] {
        var defs: [OpDefinition] = []
        for op in unaryFloat { defs.append(OpDefinition(op, inputs: 1...1, infer: unary(TypeSets.float.union(op == "Relu" ? TypeSets.signedNumeric : [])))) }
        for op in unaryNumeric { defs.append(OpDefinition(op, inputs: 1...1, infer: unary(TypeSets.numeric))) }
        defs.append(OpDefinition("Not", inputs: 1...1, infer: unary([.bool])))
        for op in arithmetic { defs.append(OpDefinition(op, inputs: 2...2, since: 7, infer: broadcasting(TypeSets.numeric, output: nil))) }
        for op in comparisons { defs.append(OpDefinition(op, inputs: 2...2, since: 7, infer: broadcasting(TypeSets.all, output: .bool))) }
        for op in logical { defs.append(OpDefinition(op, inputs: 2...2, since: 7, infer: broadcasting([.bool], output: .bool))) }
        for op in variadic { defs.append(OpDefinition(op, inputs: 1...Int.max, since: 6, infer: broadcasting(TypeSets.numeric, output: nil))) }
        defs.append(OpDefinition("Pow", inputs: 2...2, since: 7, infer: inferPow))
        defs.append(OpDefinition("PRelu", inputs: 2...2, since: 7, infer: inferPRelu))
        defs.append(OpDefinition("Clip", inputs: 1...3, since: 6, infer: inferClip))
        defs.append(OpDefinition("Where", inputs: 3...3, since: 9, infer: inferWhere))
        return defs
    }

    /// Inference for a unary op whose output has the input's type.
    static func unary(_ allowed: Set<DType>) -> OpDefinition.Inference {
        { (c: OpContext) throws(OpError) -> [InferredOutput] in
            [InferredOutput(try c.requireType(0, in: allowed))]
        }
    }

    /// Inference for a broadcasting op over all its inputs, which share one element type.
    static func broadcasting(_ allowed: Set<DType>, output: DType?) -> OpDefinition.Inference {
        { (c: OpContext) throws(OpError) -> [InferredOutput] in
            let indices = Array(c.node.inputs.indices)
            for i in indices { _ = try c.requireType(i, in: allowed) }
            let dtype = try c.sameType(indices)
            let shape = try broadcast(c, indices)
            return [InferredOutput(TensorType(output ?? dtype, shape))]
        }
    }

    /// The broadcast shape of the given inputs, with a located error on a clash.
    public static func broadcast(_ c: OpContext, _ indices: [Int]) throws(OpError) -> Shape {
        var shapes: [Shape] = []
        for i in indices { shapes.append(try c.input(i).shape) }
        switch broadcastShapes(shapes) {
        case .success(let shape): return shape
        case .failure(let clash):
            let listed = indices.map { (try? c.input($0).shape.description) ?? "?" }.joined(separator: " and ")
            throw c.error("inputs cannot broadcast: shapes \(listed) clash at output axis \(clash.axis) (\(clash.a) vs \(clash.b))")
        }
    }

    static func inferPow(_ c: OpContext) throws(OpError) -> [InferredOutput] {
        let base = try c.requireType(0, in: TypeSets.numeric)
        _ = try c.requireType(1, in: TypeSets.numeric)
        return [InferredOutput(TensorType(base.dtype, try broadcast(c, [0, 1])))]
    }

    static func inferPRelu(_ c: OpContext) throws(OpError) -> [InferredOutput] {
        let x = try c.requireType(0, in: TypeSets.signedNumeric)
        _ = try c.sameType([0, 1])
        let shape = try broadcast(c, [0, 1])
        guard shape.rank == x.rank else {
            throw c.error("slope \(try c.input(1).shape) must broadcast to X \(x.shape)", subject: c.inputLabel(1))
        }
        return [InferredOutput(TensorType(x.dtype, shape))]
    }

    static func inferClip(_ c: OpContext) throws(OpError) -> [InferredOutput] {
        let x = try c.requireType(0, in: TypeSets.numeric)
        if c.opset < 11 {
            guard c.node.inputs.count == 1 else { throw c.error("takes min/max as attributes before opset 11") }
        } else {
            for i in 1..<3 where c.hasInput(i) {
                let bound = try c.input(i)
                guard bound.dtype == x.dtype, bound.shape.elementCount == .fixed(1) || bound.rank == 0 else {
                    throw c.error("\(c.inputLabel(i)) must be a scalar of type \(x.dtype), got \(bound)", subject: c.inputLabel(i))
                }
            }
        }
        return [InferredOutput(x)]
    }

    static func inferWhere(_ c: OpContext) throws(OpError) -> [InferredOutput] {
        _ = try c.requireType(0, in: [.bool])
        let dtype = try c.sameType([1, 2])
        return [InferredOutput(TensorType(dtype, try broadcast(c, [0, 1, 2])))]
    }
}
