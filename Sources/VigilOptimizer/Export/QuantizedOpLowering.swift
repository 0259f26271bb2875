import VigilIR
import VigilOps

extension ExportTransforms {
    /// Vigil's fused quantized ops written back as the QDQ pattern they came from:
    /// `QConv` → DequantizeLinear (x, w, an int32 bias with scale x_scale · w_scale) → Conv →
    /// activation → QuantizeLinear (when it has y_scale); `QMatMul` → DequantizeLinear (a, b) →
    /// [Transpose] → MatMul → [Add bias] → activation → QuantizeLinear. Constants the nodes need (the
    /// bias scale) are added to `graph`.
    static func quantizedLowering(_ fused: Node, opset: Int, graph: inout Graph) throws -> [Node] {
        let context = OpContext(node: fused, opset: FusedOps.version, inputTypes: [], inputValues: [])
        let activation: FusedActivation?
        do { activation = try FusedActivation(fusedNode: context) } catch {
            throw OptimizerError(pass: "lower-fused-ops", message: "\(fused.label): \(error)")
        }
        guard fused.outputs.count == 1, let output = fused.outputs.first, !output.isEmpty, fused.inputs.count >= 6 else {
            throw OptimizerError(pass: "lower-fused-ops", message: "\(fused.label) must have one output and at least 6 inputs")
        }
        let input = { (i: Int) in i < fused.inputs.count ? fused.inputs[i] : "" }
        let stem = fused.name.isEmpty ? output : fused.name
        let fresh = FreshNames(graph)
        let conv = fused.opType == "QConv", transB = fused.attribute("transB") == .int(1)
        let perChannel = (graph.initializer(input(4))?.elementCount ?? 1) > 1
        func dequantize(_ slots: [Int], _ suffix: String, axis: Int?) throws -> (Node, String) {
            let name = fresh("\(stem)_\(suffix)")
            var inputs = slots.map(input)
            while inputs.last == "" { inputs.removeLast() }
            if inputs.count == 2, let zero = try explicitZeroPoint(data: inputs[0], scale: inputs[1], name: fresh("\(stem)_\(suffix)_zero_point"), graph: &graph) {
                inputs.append(zero)
            }
            let attributes = axis.map { [Attribute(name: "axis", value: .int(Int64($0)))] } ?? []
            return (Node(name: name, opType: "DequantizeLinear", inputs: inputs, outputs: [name], attributes: opset >= 13 ? attributes : []), name)
        }
        var nodes: [Node] = []
        let (x, xValue) = try dequantize([0, 1, 2], "x", axis: nil)
        let (w, wValue) = try dequantize([3, 4, 5], "w", axis: perChannel ? (conv || transB ? 0 : 1) : nil)
        nodes += [x, w]
        var bias = input(8)
        if !bias.isEmpty, graph.initializer(bias)?.dtype == .int32 {
            let (dq, value, scale) = try dequantizedBias(fused, bias: bias, stem: stem, graph: graph, fresh: { fresh($0) })
            graph.setInitializer(scale.0, scale.1)
            nodes.append(dq)
            bias = value
        }
        var value = fresh("\(stem)_\(conv ? "conv" : "matmul")")
        let attributes = fused.attributes.filter { !["activation", "activation_params", "transB"].contains($0.name) }
        if conv {
            nodes.append(Node(name: fused.name, opType: "Conv", inputs: [xValue, wValue] + (bias.isEmpty ? [] : [bias]), outputs: [value],
                              attributes: attributes, docString: fused.docString, metadata: fused.metadata))
        } else {
            var b = wValue
            if transB {
                b = fresh("\(stem)_wt")
                nodes.append(Node(name: b, opType: "Transpose", inputs: [wValue], outputs: [b], attributes: [Attribute(name: "perm", value: .ints([1, 0]))]))
            }
            nodes.append(Node(name: fused.name, opType: "MatMul", inputs: [xValue, b], outputs: [value], docString: fused.docString, metadata: fused.metadata))
            if !bias.isEmpty {
                let sum = fresh("\(stem)_sum")
                nodes.append(Node(name: sum, opType: "Add", inputs: [value, bias], outputs: [sum]))
                value = sum
            }
        }
        if let activation {
            let out = fresh("\(stem)_act")
            var constants: [(String, Tensor)] = []
            let lowering = ActivationLowering(
                opType: activation.opType, parameters: activation.parameters, opset: opset, input: value, output: out, stem: stem,
                freshName: { fresh($0) }, addConstant: { base, tensor in
                    let name = fresh(base)
                    constants.append((name, tensor))
                    return name
                })
            nodes += try activation.lowered(lowering)
            for (name, tensor) in constants { graph.setInitializer(name, tensor) }
            value = out
        }
        if input(6).isEmpty {
            renameLastOutput(&nodes, from: value, to: output)
        } else {
            var inputs = [value, input(6), input(7)]
            while inputs.last == "" { inputs.removeLast() }
            nodes.append(Node(name: "\(stem)_quantize", opType: "QuantizeLinear", inputs: inputs, outputs: [output]))
        }
        return nodes
    }

    /// Makes the node writing `from` write `to` instead.
    static func renameLastOutput(_ nodes: inout [Node], from: String, to: String) {
        for index in nodes.indices.reversed() {
            if let slot = nodes[index].outputs.firstIndex(of: from) {
                nodes[index].outputs[slot] = to
                return
            }
        }
    }

    /// The DequantizeLinear of an int32 bias whose scale is x_scale · w_scale (a new constant), its output,
    /// and that constant.
    static func dequantizedBias(_ fused: Node, bias: String, stem: String, graph: Graph, fresh: (String) -> String) throws
        -> (Node, String, (String, Tensor)) {
        guard let xs = graph.initializer(fused.inputs[1]), xs.dtype == .float32, let ws = graph.initializer(fused.inputs[4]), ws.dtype == .float32
        else {
            throw OptimizerError(pass: "lower-fused-ops", message: "\(fused.label): an int32 bias needs constant float32 scales to be written back")
        }
        let x = xs.scalars(as: Float.self)[0], w = ws.scalars(as: Float.self)
        let scaleName = fresh("\(stem)_bias_scale")
        let scale = try Tensor(float32: w.map { x * $0 }, shape: w.count == 1 ? [] : [w.count])
        let value = fresh("\(stem)_bias")
        let node = Node(name: value, opType: "DequantizeLinear", inputs: [bias, scaleName], outputs: [value],
                        attributes: w.count > 1 ? [Attribute(name: "axis", value: .int(0))] : [])
        return (node, value, (scaleName, scale))
    }
}

extension ExportTransforms {
    /// For constant, non-uint8 data dequantized without a zero point: an explicit zero of the data's
    /// type (added to the graph as `name`). onnxruntime's graph optimizer (1.22–1.32) re-quantizes a
    /// DequantizeLinear → Transpose pair with the default uint8 type and then rejects the model it
    /// made for int8 weights; with the zero point written out it keeps the type.
    static func explicitZeroPoint(data: String, scale: String, name: String, graph: inout Graph) throws -> String? {
        guard let data = graph.initializer(data), data.dtype != .uint8, let scale = graph.initializer(scale),
              let count = data.dtype.storageBytes(count: scale.elementCount) else { return nil }
        graph.setInitializer(name, try Tensor(data.dtype, shape: scale.shape, scalars: [UInt8](repeating: 0, count: count)))
        return name
    }

    /// `QAdd`, `QActivation` and `QMaxPool` written back as DequantizeLinear → Add [→ activation] /
    /// activation / MaxPool → QuantizeLinear.
    static func quantizedElementwiseLowering(_ fused: Node, opset: Int, graph: inout Graph) throws -> [Node] {
        guard fused.outputs.count == 1, let output = fused.outputs.first, !output.isEmpty else {
            throw OptimizerError(pass: "lower-fused-ops", message: "\(fused.label) must have one output")
        }
        let activation: FusedActivation?
        do { activation = try FusedActivation(fusedNode: OpContext(node: fused, opset: FusedOps.version, inputTypes: [], inputValues: [])) } catch {
            throw OptimizerError(pass: "lower-fused-ops", message: "\(fused.label): \(error)")
        }
        let input = { (i: Int) in i < fused.inputs.count ? fused.inputs[i] : "" }
        let stem = fused.name.isEmpty ? output : fused.name
        let fresh = FreshNames(graph)
        func dequantize(_ slots: [Int]) -> Node {
            let name = fresh("\(stem)_dequantized")
            var inputs = slots.map(input)
            while inputs.last == "" { inputs.removeLast() }
            return Node(name: name, opType: "DequantizeLinear", inputs: inputs, outputs: [name])
        }
        var nodes: [Node] = [], value = fresh("\(stem)_real"), quantizeSlots = [3, 4]
        switch fused.opType {
        case "QAdd":
            let (a, b) = (dequantize([0, 1, 2]), dequantize([3, 4, 5]))
            nodes += [a, b, Node(name: fused.name, opType: "Add", inputs: [a.outputs[0], b.outputs[0]], outputs: [value])]
            quantizeSlots = [6, 7]
        case "QMaxPool":
            let x = dequantize([0, 1, 2])
            nodes += [x, Node(name: fused.name, opType: "MaxPool", inputs: [x.outputs[0]], outputs: [value], attributes: fused.attributes)]
        default:
            let x = dequantize([0, 1, 2])
            nodes.append(x)
            value = x.outputs[0]
        }
        if let activation {
            let out = fresh("\(stem)_activated")
            var constants: [(String, Tensor)] = []
            nodes += try activation.lowered(ActivationLowering(
                opType: activation.opType, parameters: activation.parameters, opset: opset, input: value, output: out, stem: stem, freshName: { fresh($0) },
                addConstant: { base, tensor in
                    let name = fresh(base)
                    constants.append((name, tensor))
                    return name
                }))
            for (name, tensor) in constants { graph.setInitializer(name, tensor) }
            value = out
        }
        var inputs = [value] + quantizeSlots.map(input)
        while inputs.last == "" { inputs.removeLast() }
        nodes.append(Node(name: "\(stem)_quantize", opType: "QuantizeLinear", inputs: inputs, outputs: [output]))
        return nodes
    }
}
