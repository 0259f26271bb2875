import VigilIR

/// Writes a model's static int8 form in the standard QDQ format, as onnxruntime's `quantize_static`
/// does: every quantized activation tensor t gets `QuantizeLinear → DequantizeLinear` (per tensor,
/// uint8 or int8, scale and zero point from its calibrated range) and its readers read the
/// dequantized value; weights are stored as int8, symmetric ([-127, 127]), one scale per output
/// channel (per tensor below opset 13), behind a `DequantizeLinear`; biases as int32 in units of
/// input scale × weight scale. Graph outputs stay float.
public enum QDQBuilder {
    /// The quantized model and where each quantized activation's dequantized value is.
    public struct Result: Sendable {
        public var model: Model
        /// Original activation tensor → its DequantizeLinear output.
        public var dequantized: [String: String]
        /// Activation scales and zero points by tensor.
        public var parameters: [String: AffineParameters]
    }

    /// - Parameter ranges: calibrated [low, high] per activation tensor (targets whose input has none are left in float).
    public static func build(_ model: Model, targets: [QuantizationTarget], ranges: [String: (low: Float, high: Float)],
                             activationType: DType) throws -> Result {
        let opset = Int(model.opsetVersion(for: "") ?? 0)
        guard opset >= 10 else { throw QuantizationError("QuantizeLinear needs opset 10 or later; the model imports opset \(opset)") }
        var graph = model.graph
        var names = NameSource(graph)
        let kept = targets.filter { ranges[$0.input] != nil }
        var parameters: [String: AffineParameters] = [:], dequantized: [String: String] = [:]
        for t in kept {
            for tensor in [t.input, t.quantizedOutput] where parameters[tensor] == nil && !graph.isGraphOutput(tensor) {
                guard let range = ranges[tensor] else { continue }
                let p = AffineParameters(low: range.low, high: range.high, type: activationType)
                parameters[tensor] = p
                dequantized[tensor] = try insertQDQ(tensor, p, type: activationType, graph: &graph, names: &names)
            }
        }
        var weights = WeightQuantizer(perChannel: opset >= 13)
        for t in kept {
            guard let id = graph.nodeIDs.first(where: { graph[$0].outputs.first == t.output }), let x = parameters[t.input] else { continue }
            let (dq, scales) = try weights.dequantized(t, inputScale: x.scale, graph: &graph, names: &names)
            graph.setInput(of: id, slot: 1, to: dq)
            if let bias = t.bias {
                let value = try quantizedBias(bias, t: t, inputScale: x.scale, weightScales: scales, graph: &graph, names: &names, perChannel: opset >= 13)
                graph.setInput(of: id, slot: 2, to: value)
            }
        }
        for name in weights.replaced.union(kept.compactMap(\.bias)) where graph.users(of: name).isEmpty && !graph.isGraphOutput(name) {
            graph.removeInitializer(name)
        }
        try graph.sortTopologically()
        var result = model
        result.graph = graph
        return Result(model: result, dequantized: dequantized, parameters: parameters)
    }

    /// Inserts t → QuantizeLinear → DequantizeLinear and makes t's node readers read the dequantized
    /// value, which it returns.
    static func insertQDQ(_ t: String, _ p: AffineParameters, type: DType, graph: inout Graph, names: inout NameSource) throws -> String {
        let scale = names.fresh("\(t)_scale"), zero = names.fresh("\(t)_zero_point")
        let quantized = names.fresh("\(t)_quantized"), value = names.fresh("\(t)_dequantized")
        graph.setInitializer(scale, try Tensor(float32: [p.scale], shape: []))
        graph.setInitializer(zero, type == .int8 ? try Tensor(.int8, shape: [], scalars: [Int8(p.zeroPoint)])
                                                 : try Tensor(.uint8, shape: [], scalars: [UInt8(p.zeroPoint)]))
        let readers = graph.users(of: t)
        try graph.addNode(Node(name: names.fresh("\(t)_QuantizeLinear"), opType: "QuantizeLinear", inputs: [t, scale, zero], outputs: [quantized]))
        try graph.addNode(Node(name: names.fresh("\(t)_DequantizeLinear"), opType: "DequantizeLinear", inputs: [quantized, scale, zero],
                               outputs: [value]))
        for use in readers { graph.setInput(of: use.node, slot: use.slot, to: value) }
        return value
    }

    /// A bias as int32 in units of input scale × weight scale (per channel), behind a DequantizeLinear.
    static func quantizedBias(_ bias: String, t: QuantizationTarget, inputScale: Float, weightScales: [Float], graph: inout Graph,
                              names: inout NameSource, perChannel: Bool) throws -> String {
        let values = graph.initializer(bias)!.scalars(as: Float.self)
        let scales = (0..<t.channels).map { inputScale * weightScales[weightScales.count == 1 ? 0 : $0] }
        let q = (0..<t.channels).map { c -> Int32 in
            let v = (Double(values[values.count == 1 ? 0 : c]) / Double(scales[c])).rounded(.toNearestOrEven)
            return v.isFinite ? Int32(max(Double(Int32.min), min(Double(Int32.max), v))) : 0
        }
        let quantized = names.fresh("\(bias)_quantized"), scale = names.fresh("\(bias)_scale"), value = names.fresh("\(bias)_dequantized")
        graph.setInitializer(quantized, try Tensor(.int32, shape: [t.channels], scalars: q))
        let perTensor = weightScales.count == 1
        graph.setInitializer(scale, try Tensor(float32: perTensor ? [scales[0]] : scales, shape: perTensor ? [] : [t.channels]))
        try graph.addNode(Node(name: names.fresh("\(bias)_DequantizeLinear"), opType: "DequantizeLinear", inputs: [quantized, scale],
                               outputs: [value], attributes: perTensor || !perChannel ? [] : [Attribute(name: "axis", value: .int(0))]))
        return value
    }
}

/// Quantizes weight initializers once each (per output channel, symmetric int8 in [-127, 127]) and
/// remembers them.
struct WeightQuantizer {
    let perChannel: Bool
    /// (weight, axis) → DequantizeLinear output and scales.
    private var done: [String: (String, [Float])] = [:]
    /// The float weights that were replaced.
    private(set) var replaced = Set<String>()

    init(perChannel: Bool) { self.perChannel = perChannel }

    /// Symmetric int8 values and scales of `w` (one scale per index of `axis`, or one for all); `scales`
    /// when given, else max |w| / 127 per channel, as onnxruntime's symmetric int8 weights (computed in
    /// double precision, stored as float32).
    static func quantize(_ w: Tensor, axis: Int?, scales given: [Float]? = nil) -> (values: [Int8], scales: [Float]) {
        let values = w.scalars(as: Float.self)
        let channels = axis.map { w.shape[$0] } ?? 1
        let inner = axis.map { w.shape[($0 + 1)...].reduce(1, *) } ?? values.count
        var maxima = [Float](repeating: 0, count: channels)
        for (i, v) in values.enumerated() where v.isFinite {
            let c = (i / inner) % channels
            maxima[c] = max(maxima[c], abs(v))
        }
        let scales = given ?? maxima.map { $0 > 0 && Double($0) / 127 >= Double(Float.leastNormalMagnitude) ? Float(Double($0) / 127) : 1 }
        let q = values.enumerated().map { i, v -> Int8 in
            let t = (v / scales[(i / inner) % channels]).rounded(.toNearestOrEven)
            return t.isNaN ? 0 : Int8(max(-127, min(127, t)))
        }
        return (q, scales)
    }

    /// Weight scales raised, as onnxruntime's `_adjust_weight_scale_for_int32_bias` raises them, where
    /// the bias would not fit int32 in units of input scale × weight scale (a channel of near-zero
    /// weights with a bias: its output is the bias).
    static func adjusted(_ scales: [Float], bias: [Float], inputScale: Float) -> [Float] {
        let range = Double(Int32.max) - Double(Int32.min + 1)
        let absmax = bias.map { abs(Double($0)) }
        return scales.indices.map { i in
            let smallest = 1.0001 * 2 * (scales.count == 1 ? absmax.max() ?? 0 : absmax[bias.count == 1 ? 0 : i]) / range
            let candidate = Double(inputScale) * Double(scales[i])
            return candidate > 0 && candidate < smallest ? Float(Double(scales[i]) * smallest / candidate) : scales[i]
        }
    }

    /// The DequantizeLinear of the target's quantized weights (added on first use) and their scales.
    mutating func dequantized(_ t: QuantizationTarget, inputScale: Float, graph: inout Graph, names: inout NameSource) throws -> (String, [Float]) {
        let key = "\(t.weight)|\(perChannel ? t.weightAxis : -1)"
        if let found = done[key] { return found }
        let w = graph.initializer(t.weight)!
        var (values, scales) = Self.quantize(w, axis: perChannel ? t.weightAxis : nil)
        if let bias = t.bias.flatMap({ graph.initializer($0) }) {
            let raised = Self.adjusted(scales, bias: bias.scalars(as: Float.self), inputScale: inputScale)
            if raised != scales { (values, scales) = Self.quantize(w, axis: perChannel ? t.weightAxis : nil, scales: raised) }
        }
        let quantized = names.fresh("\(t.weight)_quantized"), scale = names.fresh("\(t.weight)_scale")
        let zero = names.fresh("\(t.weight)_zero_point"), value = names.fresh("\(t.weight)_dequantized")
        graph.setInitializer(quantized, try Tensor(.int8, shape: w.shape, scalars: values))
        graph.setInitializer(scale, try Tensor(float32: scales, shape: perChannel ? [scales.count] : []))
        graph.setInitializer(zero, try Tensor(.int8, shape: perChannel ? [scales.count] : [], scalars: [Int8](repeating: 0, count: scales.count)))
        try graph.addNode(Node(name: names.fresh("\(t.weight)_DequantizeLinear"), opType: "DequantizeLinear", inputs: [quantized, scale, zero],
                               outputs: [value], attributes: perChannel ? [Attribute(name: "axis", value: .int(Int64(t.weightAxis)))] : []))
        done[key] = (value, scales)
        replaced.insert(t.weight)
        return (value, scales)
    }
}

/// Unused value names in a graph.
struct NameSource {
    private var taken: Set<String>

    init(_ graph: Graph) {
        taken = Set(graph.inputs.map(\.name)).union(graph.outputs.map(\.name)).union(graph.initializerNames)
        for node in graph.nodes {
            taken.formUnion(node.outputs)
            taken.formUnion(node.inputs)
            taken.insert(node.name)
        }
    }

    /// `base`, or `base_1`, `base_2`, … whichever is free first; the name is then taken.
    mutating func fresh(_ base: String) -> String {
        var name = base, counter = 1
        while taken.contains(name) {
            name = "\(base)_\(counter)"
            counter += 1
        }
        taken.insert(name)
        return name
    }
}
