import VigilIR

/// Broadcasting elementwise ops, defined by tables: binary arithmetic keeps the input type,
/// comparisons and logic produce `bool`, variadic ops broadcast all their inputs. (Unary float
/// functions are in ``Activations``.)
public enum Elementwise {
    /// Binary arithmetic: output type = input type.
    public static let arithmetic: [String] = ["Add", "Sub", "Mul", "Div"]
    /// Binary comparisons: output `bool`.
    public static let comparisons: [String] = ["Equal", "Greater", "Less", "GreaterOrEqual", "LessOrEqual"]
    /// Binary logic over `bool`.
    public static let logical: [String] = ["And", "Or", "Xor"]
    /// Variadic broadcasting ops.
    public static let variadic: [String] = ["Max", "Min", "Sum", "Mean"]

    static var descriptors: [OpDescriptor] {
        var defs: [OpDescriptor] = []
        defs.append(OpDescriptor("Not", inputs: 1...1, traits: OpTraits(commutesWithLayout: true), infer: unary([.bool])))
        for op in arithmetic { defs.append(OpDescriptor(op, inputs: 2...2, since: 7, infer: broadcasting(TypeSets.numeric, output: nil))) }
        for op in comparisons { defs.append(OpDescriptor(op, inputs: 2...2, since: 7, infer: broadcasting(TypeSets.all, output: .bool))) }
        for op in logical { defs.append(OpDescriptor(op, inputs: 2...2, since: 7, infer: broadcasting([.bool], output: .bool))) }
        for op in variadic { defs.append(OpDescriptor(op, inputs: 1...Int.max, since: 6, infer: broadcasting(TypeSets.numeric, output: nil))) }
        defs.append(OpDescriptor("Pow", inputs: 2...2, since: 7, infer: inferPow))
        defs.append(OpDescriptor("PRelu", inputs: 2...2, since: 7, infer: inferPRelu))
        defs.append(OpDescriptor("Where", inputs: 3...3, since: 9, infer: inferWhere))
        defs.append(OpDescriptor("Mod", inputs: 2...2, since: 10, attributes: [.int("fmod", 0)], infer: inferMod))
        return defs
    }

    /// Inference for a unary op whose output has the input's type.
    static func unary(_ allowed: Set<DType>) -> OpDescriptor.Inference {
        { (c: OpContext) throws(OpError) -> [InferredOutput] in
            [InferredOutput(try c.requireType(0, in: allowed))]
        }
    }

    /// Inference for a broadcasting op over all its inputs, which share one element type.
    static func broadcasting(_ allowed: Set<DType>, output: DType?) -> OpDescriptor.Inference {
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

    /// Mod: integer remainder with the divisor's sign (`fmod` 0, as Python's `%`), or the truncated
    /// remainder (`fmod` 1, C's `fmod`), which floating-point inputs require.
    static func inferMod(_ c: OpContext) throws(OpError) -> [InferredOutput] {
        let a = try c.requireType(0, in: TypeSets.numeric)
        _ = try c.requireType(1, in: TypeSets.numeric)
        let dtype = try c.sameType([0, 1])
        if TypeSets.float.contains(a.dtype), try c.int("fmod") == 0 {
            throw c.error("Mod on \(a.dtype) needs fmod=1", subject: "fmod")
        }
        return [InferredOutput(TensorType(dtype, try broadcast(c, [0, 1])))]
    }

    static func inferWhere(_ c: OpContext) throws(OpError) -> [InferredOutput] {
        _ = try c.requireType(0, in: [.bool])
        let dtype = try c.sameType([1, 2])
        return [InferredOutput(TensorType(dtype, try broadcast(c, [0, 1, 2])))]
    }
}
