import VigilIR

/// Writes a model's dynamic-range int8 form, as onnxruntime's `quantize_dynamic` does: weights are
/// stored as int8 (symmetric, per output channel); each quantized node's input is quantized when the
/// model runs (`DynamicQuantizeLinear`: uint8 over the batch's own range) and the node becomes
/// `ConvInteger` / `MatMulInteger`, whose int32 result is scaled back to float (`Cast`, `Mul` by
/// input scale × weight scale) and gets its float bias (`Add`). No calibration data is needed.
public enum DynamicBuilder {
    public static func build(_ model: Model, targets: [QuantizationTarget]) throws -> Model {
        let opset = Int(model.opsetVersion(for: "") ?? 0)
        guard opset >= 11 else {
            throw QuantizationError("dynamic quantization needs DynamicQuantizeLinear (opset 11 or later); the model imports opset \(opset)")
        }
        var graph = model.graph
        var names = NameSource(graph)
        var quantizedInputs: [String: (String, String, String)] = [:]
        for t in targets {
            guard let id = graph.nodeIDs.first(where: { graph[$0].outputs.first == t.output }) else { continue }
            let node = graph[id]
            if quantizedInputs[t.input] == nil {
                let outputs = [names.fresh("\(t.input)_quantized"), names.fresh("\(t.input)_scale"), names.fresh("\(t.input)_zero_point")]
                try graph.addNode(Node(name: names.fresh("\(t.input)_DynamicQuantizeLinear"), opType: "DynamicQuantizeLinear", inputs: [t.input],
                                       outputs: outputs))
                quantizedInputs[t.input] = (outputs[0], outputs[1], outputs[2])
            }
            let (xq, xs, xz) = quantizedInputs[t.input]!
            graph.removeNode(id)
            for replacement in try integerNodes(node, t, x: (xq, xs, xz), graph: &graph, names: &names) { try graph.addNode(replacement) }
        }
        for name in targets.flatMap({ [$0.weight] + ($0.bias.map { [$0] } ?? []) })
        where graph.initializer(name) != nil && graph.users(of: name).isEmpty && !graph.isGraphOutput(name) {
            graph.removeInitializer(name)
        }
        try graph.sortTopologically()
        var result = model
        result.graph = graph
        return result
    }

    /// The integer op, the rescaling and the bias that replace one node.
    static func integerNodes(_ node: Node, _ t: QuantizationTarget, x: (String, String, String), graph: inout Graph,
                             names: inout NameSource) throws -> [Node] {
        let w = graph.initializer(t.weight)!
        let conv = t.opType == "Conv"
        // MatMulInteger multiplies a [K, N] matrix: Gemm's transposed weights are stored transposed back.
        var weight = w
        if !conv && t.weightAxis == 0 { weight = transposed(w) }
        let (values, scales) = WeightQuantizer.quantize(weight, axis: conv ? 0 : 1)
        var alpha: Float = 1
        if case .float(let a)? = node.attribute("alpha") { alpha = a }
        let stem = t.name
        let wq = names.fresh("\(t.weight)_quantized"), ws = names.fresh("\(t.weight)_scale")
        graph.setInitializer(wq, try Tensor(.int8, shape: weight.shape, scalars: values))
        // Per-channel scales shaped to broadcast over the output: [1, M, 1, …] for Conv, [N] for the others.
        let shape = conv ? [1, t.channels] + [Int](repeating: 1, count: w.shape.count - 2) : [t.channels]
        graph.setInitializer(ws, try Tensor(float32: scales.map { $0 * alpha }, shape: shape))
        let integer = names.fresh("\(stem)_int32"), real = names.fresh("\(stem)_float"), scale = names.fresh("\(stem)_output_scale")
        var nodes = [
            conv ? Node(name: names.fresh("\(stem)_ConvInteger"), opType: "ConvInteger", inputs: [x.0, wq, x.2], outputs: [integer],
                        attributes: node.attributes)
                 : Node(name: names.fresh("\(stem)_MatMulInteger"), opType: "MatMulInteger", inputs: [x.0, wq, x.2], outputs: [integer]),
            Node(name: names.fresh("\(stem)_Cast"), opType: "Cast", inputs: [integer], outputs: [real],
                 attributes: [Attribute(name: "to", value: .int(Int64(DType.float32.onnxCode)))]),
            Node(name: names.fresh("\(stem)_scale_Mul"), opType: "Mul", inputs: [x.1, ws], outputs: [scale]),
        ]
        let biasSlot = node.opType == "MatMul" ? nil : 2
        let bias = biasSlot.flatMap { $0 < node.inputs.count && !node.inputs[$0].isEmpty ? node.inputs[$0] : nil }
        let scaled = bias == nil ? t.output : names.fresh("\(stem)_scaled")
        nodes.append(Node(name: names.fresh("\(stem)_Mul"), opType: "Mul", inputs: [real, scale], outputs: [scaled]))
        if let bias {
            var addend = bias
            var beta: Float = 1
            if case .float(let b)? = node.attribute("beta") { beta = b }
            if let b = graph.initializer(bias), b.dtype == .float32, conv || beta != 1 {
                addend = names.fresh("\(bias)_broadcast")
                graph.setInitializer(addend, try Tensor(float32: b.scalars(as: Float.self).map { $0 * beta },
                                                        shape: conv ? [1, b.elementCount] + [Int](repeating: 1, count: w.shape.count - 2) : b.shape))
            }
            nodes.append(Node(name: names.fresh("\(stem)_bias_Add"), opType: "Add", inputs: [scaled, addend], outputs: [t.output]))
        }
        return nodes
    }

    /// A 2-D tensor transposed.
    static func transposed(_ w: Tensor) -> Tensor {
        let (rows, columns) = (w.shape[0], w.shape[1])
        let values = w.scalars(as: Float.self)
        var result = [Float](repeating: 0, count: values.count)
        for r in 0..<rows { for c in 0..<columns { result[c * rows + r] = values[r * columns + c] } }
        return try! Tensor(float32: result, shape: [columns, rows])
    }
}
