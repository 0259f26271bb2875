import VigilIR
import VigilOps

/// Quantization parameters given as initializers (V210, V211): every scale must be positive and finite
/// (a zero, negative, infinite or NaN scale makes QuantizeLinear divide by it and DequantizeLinear
/// lose the values); zero points must be 0 where ONNX requires it — for int32 values (a bias) and
/// for float8 and float4 types. Their shapes and axes are checked by inference (V200).
enum QuantizationCheck {
    /// The scale and zero-point slots of each quantizing op, by (domain, op type).
    static let slots: [String: [(scale: Int?, zero: Int)]] = [
        "QuantizeLinear": [(1, 2)], "DequantizeLinear": [(1, 2)],
        "QLinearConv": [(1, 2), (4, 5), (6, 7)], "QLinearMatMul": [(1, 2), (4, 5), (6, 7)],
        "\(FusedOps.domain)::QConv": [(1, 2), (4, 5), (6, 7)], "\(FusedOps.domain)::QMatMul": [(1, 2), (4, 5), (6, 7)],
    ]

    static func run(_ context: VerificationContext) -> [Diagnostic] {
        let graph = context.model.graph
        var out: [Diagnostic] = []
        for (index, node) in graph.nodes.enumerated() {
            guard let pairs = slots[Domain.qualified(node.domain, node.opType)] else { continue }
            for (scaleSlot, zeroSlot) in pairs {
                if let slot = scaleSlot, slot < node.inputs.count, let scale = graph.initializer(node.inputs[slot]),
                   let values = WeightLint.floatValues(scale) {
                    let bad = values.enumerated().filter { !($0.element > 0) || !$0.element.isFinite }
                    if let first = bad.first {
                        var at = Location.node(node, index: index)
                        at.value = node.inputs[slot]
                        out.append(Diagnostic(.quantizationScale, "scale '\(node.inputs[slot])' has \(bad.count) of \(values.count) values that are not positive and finite (first: \(first.element) at index \(first.offset))",
                                              at: at, hint: "a scale must be positive: values are divided by it when quantized and multiplied by it when dequantized"))
                    }
                }
                if zeroSlot < node.inputs.count, let zero = graph.initializer(node.inputs[zeroSlot]) {
                    out += zeroPointDiagnostics(node, index: index, zero: zero, name: node.inputs[zeroSlot])
                }
            }
        }
        return out
    }

    /// A zero point that must be 0 (int32 values, float8/float4 types) but is not.
    static func zeroPointDiagnostics(_ node: Node, index: Int, zero: Tensor, name: String) -> [Diagnostic] {
        let mustBeZero: Set<DType> = [.int32, .float8e4m3fn, .float8e4m3fnuz, .float8e5m2, .float8e5m2fnuz, .float4e2m1, .float8e8m0]
        guard mustBeZero.contains(zero.dtype), let buffer = zero.buffer, buffer.bytes.contains(where: { $0 != 0 }) else { return [] }
        // Float8 negative zero (0x80) is still zero for the types that have one.
        if [.float8e4m3fn, .float8e5m2].contains(zero.dtype) && buffer.bytes.allSatisfy({ $0 == 0 || $0 == 0x80 }) { return [] }
        var at = Location.node(node, index: index)
        at.value = name
        return [Diagnostic(.quantizationZeroPoint, "zero point '\(name)' (\(zero.dtype)) is not 0; \(zero.dtype) quantized values have no zero point",
                           at: at, hint: "ONNX defines the zero point of \(zero.dtype) values as 0")]
    }
}
