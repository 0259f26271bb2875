import VigilIR
import VigilOps

extension QDQFusion {
    /// An Add (then a piecewise-linear activation), an elementwise activation or a MaxPool whose inputs are
    /// per-tensor DequantizeLinears of 8-bit values and whose output only a per-tensor QuantizeLinear reads.
    static func elementwiseFusion(of node: Node, in r: Rewrite) -> Fused? {
        guard node.outputs.count == 1, let y = node.outputs.first, !y.isEmpty, r.analysis.types[y]?.dtype == .float32 else { return nil }
        func eight(_ value: String) -> Dequantized? {
            guard let d = dequantized(value, in: r, weights: false), d.axis == nil, [.int8, .uint8].contains(d.dtype) else { return nil }
            return d
        }
        var fused = Fused(node: node)
        switch node.opType {
        case "Add":
            // One shape, symbolic dims included (the same symbol is the same size): no broadcasting.
            guard node.inputs.count == 2, let a = eight(node.inputs[0]), let b = eight(node.inputs[1]),
                  let shape = r.analysis.types[node.inputs[0]]?.shape, !shape.dims.contains(.unknown),
                  r.analysis.types[node.inputs[1]]?.shape == shape
            else { return nil }
            let (activation, output) = absorbActivation(after: y, in: r, fused: &fused)
            guard let (q, scale, zero, quantized) = requantization(after: output, in: r) else { return nil }
            fused.absorbed.append(q)
            var attributes: [Attribute] = []
            if let activation {
                attributes.append(Attribute(name: "activation", value: .string(Array(activation.opType.utf8))))
                if !activation.parameters.isEmpty { attributes.append(Attribute(name: "activation_params", value: .floats(activation.parameters))) }
            }
            fused.node = quantizedNode(node, "QAdd", [a.quantized, a.scale, a.zero, b.quantized, b.scale, b.zero, scale, zero], quantized, attributes)
        case "MaxPool":
            guard node.inputs.count == 1, let x = eight(node.inputs[0]), let (q, scale, zero, quantized) = requantization(after: y, in: r) else { return nil }
            fused.absorbed.append(q)
            fused.node = quantizedNode(node, "QMaxPool", [x.quantized, x.scale, x.zero, scale, zero], quantized, node.attributes)
        default:
            guard let activation = ActivationFusion.activation(node, in: r), let x = eight(node.inputs[0]),
                  let (q, scale, zero, quantized) = requantization(after: y, in: r) else { return nil }
            fused.absorbed.append(q)
            var attributes = [Attribute(name: "activation", value: .string(Array(activation.opType.utf8)))]
            if !activation.parameters.isEmpty { attributes.append(Attribute(name: "activation_params", value: .floats(activation.parameters))) }
            fused.node = quantizedNode(node, "QActivation", [x.quantized, x.scale, x.zero, scale, zero], quantized, attributes)
        }
        return fused
    }

    /// A fused node of Vigil's domain in place of `node`, writing `output`.
    static func quantizedNode(_ node: Node, _ opType: String, _ inputs: [String], _ output: String, _ attributes: [Attribute]) -> Node {
        var inputs = inputs
        while inputs.last == "" { inputs.removeLast() }
        return Node(name: node.name.isEmpty ? output : node.name, opType: opType, domain: FusedOps.domain, inputs: inputs, outputs: [output],
                    attributes: attributes, docString: node.docString, metadata: node.metadata)
    }
}
