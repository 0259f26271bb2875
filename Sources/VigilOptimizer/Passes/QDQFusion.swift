import VigilIR
import VigilOps

/// Fuses the QDQ patterns of quantized models into Vigil's integer ops (domain `ai.vigil`, see
/// `Quantization` in VigilOps): a Conv, Gemm or MatMul whose activation input is a per-tensor
/// `DequantizeLinear` of int8/uint8 values and whose weights are a `DequantizeLinear` of constant
/// int8/uint8 weights (per tensor, or per output channel) becomes `QConv` / `QMatMul`, which reads the
/// quantized tensors themselves and runs on the int8 GEMM. The bias (a `DequantizeLinear` of int32
/// values in units of the input and weight scales, as QDQ models store it, or a float constant; for
/// MatMul, the constant row vector of a following Add), a following piecewise-linear activation
/// (Relu, LeakyRelu, Clip with constant bounds) and a following per-tensor `QuantizeLinear` are
/// absorbed: the kernel's epilogue adds the bias, applies the activation to the real value and
/// requantizes. Without a QuantizeLinear after it, the fused op writes the float value. An Add of two
/// dequantized tensors (with a piecewise-linear activation), an elementwise activation of one and a
/// MaxPool of one, followed by a QuantizeLinear, become `QAdd`, `QActivation` and `QMaxPool`, which
/// compute on the 8-bit values.
///
/// Weight DequantizeLinears left unfused (a float activation input, weights-only models) are folded
/// into float weights when the executor plans, as constant nodes are; `fold-constants` leaves them
/// alone (`OpTraits.enlargesWhenFolded` in VigilOps), so written models keep their int8 weights.
/// `ExportTransforms.lowerFusedOps` writes the fused ops back as DequantizeLinear → op → QuantizeLinear.
public struct QDQFusion: GraphRewritePass {
    public let name = "fuse-qdq"
    public init() {}

    public func rewrite(_ r: inout Rewrite) throws {
        for id in r.graph.nodeIDs {
            guard let node = r.graph.node(id), node.isDefaultDomain else { continue }
            let linear = ["Conv", "Gemm", "MatMul"].contains(node.opType)
            guard let fused = linear ? Self.fusion(of: node, in: r) : Self.elementwiseFusion(of: node, in: r) else { continue }
            for absorbed in fused.absorbed { r.graph.removeNode(absorbed) }
            try r.graph.replaceNode(id, with: fused.node)
            for (name, tensor) in fused.constants { r.graph.setInitializer(name, tensor) }
            r.stats.nodesFused += 1 + fused.absorbed.count
        }
        if r.stats.changed { r.imports.append(OpsetImport(domain: FusedOps.domain, version: Int64(FusedOps.version))) }
    }

    /// A DequantizeLinear feeding an input: its quantized input, scale, zero point (or "") and the values
    /// of its constants.
    struct Dequantized {
        var quantized: String, scale: String, zero: String
        var scales: [Float], zeros: [Int]?
        var dtype: DType
        /// The axis of a per-axis scale.
        var axis: Int?
    }

    /// The DequantizeLinear producing `value`, when its scale and zero point are constant.
    static func dequantized(_ value: String, in r: Rewrite, weights: Bool) -> Dequantized? {
        guard !value.isEmpty, let id = r.graph.producer(of: value), case let dq = r.graph[id], dq.isOp("DequantizeLinear"),
              dq.inputs.count >= 2, let x = r.analysis.types[dq.inputs[0]], let scale = r.analysis.constants[dq.inputs[1]],
              scale.dtype == .float32, dq.attribute("block_size").map({ $0 == .int(0) }) ?? true
        else { return nil }
        let zero = dq.inputs.count > 2 ? dq.inputs[2] : ""
        let zeros = zero.isEmpty ? nil : r.analysis.constants[zero]
        guard zero.isEmpty || zeros != nil, weights ? r.analysis.constants[dq.inputs[0]] != nil : true else { return nil }
        let integers: [Int]? = zeros.flatMap { t in
            switch t.dtype {
            case .int8: t.scalars(as: Int8.self).map(Int.init)
            case .uint8: t.scalars(as: UInt8.self).map(Int.init)
            case .int32: t.scalars(as: Int32.self).map(Int.init)
            default: nil
            }
        }
        var axis: Int?
        if !Quantization.isPerTensor(Shape(static: scale.shape)) {
            guard scale.shape.count == 1 else { return nil }
            let raw = Int({ if case .int(let a)? = dq.attribute("axis") { return a } else { return 1 } }())
            axis = raw < 0 ? raw + x.rank : raw
        }
        return Dequantized(quantized: dq.inputs[0], scale: dq.inputs[1], zero: zero, scales: scale.scalars(as: Float.self), zeros: integers,
                           dtype: x.dtype, axis: axis)
    }

    /// A fused node, the nodes it absorbs and the constants it needs.
    struct Fused {
        var node: Node
        var absorbed: [NodeID] = []
        var constants: [(String, Tensor)] = []
    }

    static func fusion(of node: Node, in r: Rewrite) -> Fused? {
        guard node.outputs.count == 1, let y = node.outputs.first, !y.isEmpty, r.analysis.types[y]?.dtype == .float32,
              let x = dequantized(node.inputs[0], in: r, weights: false), x.axis == nil, [.int8, .uint8].contains(x.dtype),
              node.inputs.count >= 2, let w = dequantized(node.inputs[1], in: r, weights: true), [.int8, .uint8].contains(w.dtype)
        else { return nil }
        let conv = node.opType == "Conv"
        var attributes = node.attributes
        var transB = false
        if !conv {
            guard case .int(0)? = node.attribute("transA") ?? .int(0) else { return nil }
            transB = node.attribute("transB") == .int(1)
            guard let wRank = r.analysis.types[w.quantized]?.rank, wRank == 2 else { return nil }
            attributes = transB ? [Attribute(name: "transB", value: .int(1))] : []
        }
        // Per-channel weights: one scale per output channel (Conv: axis 0; b [K, N]: axis 1, [N, K]: axis 0).
        if let axis = w.axis, axis != (conv || transB ? 0 : 1) { return nil }
        var fused = Fused(node: node)
        var bScale = w.scale
        if case .float(let alpha)? = node.attribute("alpha"), alpha != 1 {
            bScale = r.graph.freshName(w.scale + "_alpha")
            fused.constants.append((bScale, try! Tensor(float32: w.scales.map { $0 * alpha }, shape: r.analysis.constants[w.scale]!.shape)))
        }
        guard var bias = Self.bias(node, x: x, w: w, in: r, fused: &fused) else { return nil }
        var output = y
        if !conv, bias.isEmpty, let (add, addBias, sum) = addedBias(after: y, in: r, fused: &fused) {
            fused.absorbed.append(add)
            bias = addBias
            output = sum
        }
        let (activation, afterActivation) = absorbActivation(after: output, in: r, fused: &fused)
        var ys = "", yz = ""
        if let (q, scale, zero, quantized) = requantization(after: afterActivation, in: r) {
            fused.absorbed.append(q)
            (ys, yz, output) = (scale, zero, quantized)
        } else {
            output = afterActivation
        }
        if let activation {
            attributes.append(Attribute(name: "activation", value: .string(Array(activation.opType.utf8))))
            if !activation.parameters.isEmpty { attributes.append(Attribute(name: "activation_params", value: .floats(activation.parameters))) }
        }
        var inputs = [x.quantized, x.scale, x.zero, w.quantized, bScale, w.zero, ys, yz, bias]
        while inputs.last == "" { inputs.removeLast() }
        fused.node = Node(name: node.name.isEmpty ? output : node.name, opType: conv ? "QConv" : "QMatMul", domain: FusedOps.domain,
                          inputs: inputs, outputs: [output], attributes: attributes.filter { !["alpha", "beta", "transA"].contains($0.name) },
                          docString: node.docString, metadata: node.metadata)
        return fused
    }
}

extension QDQFusion {
    /// The number of output channels of a Conv (w [M, …]) or Gemm/MatMul (b [K, N], or [N, K] with transB).
    static func channels(_ node: Node, _ w: Dequantized, in r: Rewrite) -> Int? {
        guard let shape = r.analysis.staticShape(w.quantized) else { return nil }
        if node.opType == "Conv" { return shape.first }
        return node.attribute("transB") == .int(1) ? shape[0] : shape.last
    }

    /// The bias of the fused op: "" for none, the int32 constant of a DequantizeLinear whose scale is
    /// x_scale · w_scale (used as it is), or a 1-D float32 constant (added to `fused`); `nil` when the
    /// bias is not constant.
    static func bias(_ node: Node, x: Dequantized, w: Dequantized, in r: Rewrite, fused: inout Fused) -> String? {
        let slot = 2
        guard node.opType != "MatMul", node.inputs.count > slot, !node.inputs[slot].isEmpty else { return "" }
        guard let channels = channels(node, w, in: r) else { return nil }
        let name = node.inputs[slot]
        var beta: Float = 1, alpha: Float = 1
        if case .float(let b)? = node.attribute("beta") { beta = b }
        if case .float(let a)? = node.attribute("alpha") { alpha = a }
        if let b = dequantized(name, in: r, weights: true), b.dtype == .int32, b.axis == nil || b.scales.count == channels,
           let values = r.analysis.constants[b.quantized], values.elementCount == channels || values.elementCount == 1 {
            let q = values.scalars(as: Int32.self)
            let expected = (0..<channels).map { x.scales[0] * w.scales[w.scales.count == 1 ? 0 : $0] }
            let given = (0..<channels).map { b.scales[b.scales.count == 1 ? 0 : $0] }
            let zeros = b.zeros ?? []
            if alpha == 1, beta == 1, values.shape == [channels], zeros.allSatisfy({ $0 == 0 }),
               zip(expected, given).allSatisfy({ abs($0 - $1) <= 1e-6 * abs($0) }) {
                return b.quantized
            }
            let real = (0..<channels).map { i in
                Float(Int(q[q.count == 1 ? 0 : i]) - (zeros.isEmpty ? 0 : zeros[zeros.count == 1 ? 0 : i])) * given[i] * beta
            }
            return addConstant(name + "_float", real, in: r, fused: &fused)
        }
        guard let tensor = r.analysis.constants[name], tensor.dtype == .float32, tensor.elementCount == channels || tensor.elementCount == 1
        else { return nil }
        let values = tensor.scalars(as: Float.self)
        if tensor.shape == [channels] && beta == 1 { return name }
        return addConstant(name + "_bias", (0..<channels).map { values[values.count == 1 ? 0 : $0] * beta }, in: r, fused: &fused)
    }

    /// Adds a 1-D float32 constant under a fresh name and returns the name.
    static func addConstant(_ base: String, _ values: [Float], in r: Rewrite, fused: inout Fused) -> String {
        var name = r.graph.freshName(base), counter = 1
        while fused.constants.contains(where: { $0.0 == name }) { name = r.graph.freshName("\(base)_\(counter)"); counter += 1 }
        fused.constants.append((name, try! Tensor(float32: values, shape: [values.count])))
        return name
    }

    /// A MatMul's bias: the Add of a constant row vector ([N], or ones then N) that alone reads `y`.
    /// Returns the Add, the bias constant (1-D) and the Add's output.
    static func addedBias(after y: String, in r: Rewrite, fused: inout Fused) -> (NodeID, String, String)? {
        guard r.readers(of: y) == 1, let use = r.graph.users(of: y).first, case let add = r.graph[use.node], add.isOp("Add"),
              add.inputs.count == 2, let n = r.analysis.staticShape(y)?.last,
              let constant = r.analysis.constants[add.inputs[1 - use.slot]], constant.dtype == .float32, constant.elementCount == n,
              constant.shape.dropLast().allSatisfy({ $0 == 1 }), constant.shape.count <= (r.analysis.staticShape(y)?.count ?? 0),
              let output = add.outputs.first, add.outputs.count == 1
        else { return nil }
        let name = constant.shape == [n] ? add.inputs[1 - use.slot] : addConstant(add.inputs[1 - use.slot] + "_bias", constant.scalars(as: Float.self),
                                                                                 in: r, fused: &fused)
        return (use.node, name, output)
    }

    /// A piecewise-linear activation (Relu, LeakyRelu, Clip) that alone reads `value`: absorbed into
    /// `fused`, returning it and its output (or `nil` and `value`).
    static func absorbActivation(after value: String, in r: Rewrite, fused: inout Fused) -> (FusedActivation?, String) {
        guard r.readers(of: value) == 1, let use = r.graph.users(of: value).first, use.slot == 0, case let node = r.graph[use.node],
              let activation = ActivationFusion.activation(node, in: r), activation.piecewiseLinear != nil, let output = node.outputs.first
        else { return (nil, value) }
        fused.absorbed.append(use.node)
        return (activation, output)
    }

    /// A per-tensor int8/uint8 QuantizeLinear with constant parameters that alone reads `value`: the node,
    /// its scale, zero point and output.
    static func requantization(after value: String, in r: Rewrite) -> (NodeID, String, String, String)? {
        guard r.readers(of: value) == 1, let use = r.graph.users(of: value).first, use.slot == 0, case let q = r.graph[use.node],
              q.isOp("QuantizeLinear"), q.inputs.count >= 2, let output = q.outputs.first,
              let scale = r.analysis.constants[q.inputs[1]], scale.dtype == .float32, scale.elementCount == 1,
              let dtype = r.analysis.types[output]?.dtype, dtype == .int8 || dtype == .uint8
        else { return nil }
        let zero = q.inputs.count > 2 ? q.inputs[2] : ""
        if zero.isEmpty {
            guard dtype == .uint8 else { return nil }
        } else {
            guard let z = r.analysis.constants[zero], z.elementCount == 1, z.dtype == dtype else { return nil }
        }
        return (use.node, q.inputs[1], zero, output)
    }
}
