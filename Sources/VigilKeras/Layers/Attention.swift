import VigilIR

/// MultiHeadAttention (self- or cross-attention over the sequence axis of 3-D inputs), lowered to
/// MatMul, Reshape, Transpose and Softmax as Keras computes it: each head's query, key and value
/// projections (kernels [features, heads, dim]), query scaled by 1/√key_dim, softmax over the keys,
/// and the output projection (kernel [heads, value_dim, output]).
enum Attention {
    /// MultiHeadAttention's sublayers, in the order of its weights.
    static let sublayers = ["query_dense", "key_dense", "value_dense", "output_dense"]

    static func multiHeadAttention(_ call: LayerCall) throws -> [KTensor] {
        guard (2...3).contains(call.inputs.count) else {
            throw call.error(.unsupportedOption, "expects query and value (and optionally key), got \(call.inputs.count) inputs; attention masks are not supported")
        }
        let query = call.inputs[0], value = call.inputs[1], key = call.inputs.count == 3 ? call.inputs[2] : call.inputs[1]
        guard query.rank == 3, value.rank == 3, key.rank == 3 else {
            throw call.error(.unsupportedOption, "only 3-D inputs [batch, sequence, features] are supported")
        }
        if let axes = call.config["attention_axes"]?.ints, axes != [1] {
            throw call.error(.unsupportedOption, "attention_axes \(axes) is not supported (only the sequence axis 1)")
        }
        if try call.bool("use_gate", false) { throw call.error(.unsupportedOption, "use_gate is not supported") }
        if call.config["output_shape"]?.array != nil || call.config["output_shape"]?.int != nil {
            throw call.error(.unsupportedOption, "output_shape is not supported")
        }
        let heads = try call.int("num_heads", 0), keyDim = try call.int("key_dim", 0)
        let valueDim = call.config["value_dim"]?.int ?? keyDim
        guard heads > 0, keyDim > 0, valueDim > 0 else { throw call.error(.invalidConfig, "num_heads, key_dim and value_dim must be positive") }
        guard let qIn = query.shape[2], let kIn = key.shape[2], let vIn = value.shape[2] else {
            throw call.error(.invalidConfig, "the feature dimensions of the inputs are unknown")
        }
        let useBias = try call.bool("use_bias", true)
        var expected: [(role: String, shape: [Int])] = []
        for (role, features, dim) in [("query", qIn, keyDim), ("key", kIn, keyDim), ("value", vIn, valueDim)] {
            expected.append(("\(role)/kernel", [features, heads, dim]))
            if useBias { expected.append(("\(role)/bias", [heads, dim])) }
        }
        expected.append(("attention_output/kernel", [heads, valueDim, qIn]))
        if useBias { expected.append(("attention_output/bias", [qIn])) }
        let weights = try call.weights(expected, sublayers: sublayers)
        let stride = useBias ? 2 : 1
        func projection(_ x: KTensor, _ index: Int, dim: Int) throws -> String {
            let w = weights[index * stride]
            let kernel = try call.constant("\(expected[index * stride].role)_2d", shape: [w.shape[0], heads * dim]) { w.values }
            var y = try call.op("MatMul", [x.name, kernel])
            if useBias {
                let bias = try call.constant("\(expected[index * stride + 1].role)_flat", shape: [heads * dim]) { weights[index * stride + 1].values }
                y = try call.op("Add", [y, bias])
            }
            // [batch, sequence, heads · dim] → [batch, heads, sequence, dim]
            let split = try call.op("Reshape", [y, try call.builder.intConstant("shape", [0, 0, heads, dim])])
            return try call.op("Transpose", [split], [.ints("perm", [0, 2, 1, 3])])
        }
        let q = try call.op("Mul", [try projection(query, 0, dim: keyDim), try call.builder.scalar(Float(1 / Double(keyDim).squareRoot()))])
        let k = try projection(key, 1, dim: keyDim), v = try projection(value, 2, dim: valueDim)
        let scores = try call.op("MatMul", [q, try call.op("Transpose", [k], [.ints("perm", [0, 1, 3, 2])])])
        let probabilities = try call.op("Softmax", [scores], [.int("axis", -1)])
        let context = try call.op("Transpose", [try call.op("MatMul", [probabilities, v])], [.ints("perm", [0, 2, 1, 3])])
        let merged = try call.op("Reshape", [context, try call.builder.intConstant("shape", [0, 0, heads * valueDim])])
        let outWeight = weights[3 * stride]
        let outKernel = try call.constant("attention_output/kernel_2d", shape: [heads * valueDim, qIn]) { outWeight.values }
        var y = try call.op("MatMul", [merged, outKernel])
        if useBias { y = try call.op("Add", [y, try call.constant("attention_output/bias", weight: weights[3 * stride + 1])]) }
        return [KTensor(name: y, shape: [query.shape[0], query.shape[1], qIn])]
    }
}
