import VigilIR
import VigilOps
import VigilOptimizer

/// One quantized tensor of a model, as `vigil inspect` shows it: its element type, how its scale
/// applies, and the range of its scales and zero points.
public struct QuantizedTensor: Sendable, Equatable {
    public enum Granularity: Sendable, Equatable, CustomStringConvertible {
        case perTensor
        case perAxis(axis: Int, count: Int)
        case blocked(axis: Int, size: Int)
        /// Parameters computed when the model runs (DynamicQuantizeLinear).
        case dynamic

        public var description: String {
            switch self {
            case .perTensor: "per tensor"
            case .perAxis(let axis, let count): "per axis \(axis) (\(count))"
            case .blocked(let axis, let size): "blocks of \(size) on axis \(axis)"
            case .dynamic: "dynamic"
            }
        }
    }

    /// The tensor holding the quantized values.
    public var name: String
    public var dtype: DType?
    public var granularity: Granularity
    /// Smallest and largest scale, when constant.
    public var scales: ClosedRange<Double>?
    /// Smallest and largest zero point, when constant (0 when omitted).
    public var zeroPoints: ClosedRange<Int>?
    /// Whether the quantized values are constant (a weight or bias).
    public var isConstant: Bool
}

/// The quantized tensors of a model: those a QuantizeLinear writes or a DequantizeLinear reads, the
/// operands of the integer ops (QLinearConv, QLinearMatMul, ConvInteger, MatMulInteger, Vigil's QConv
/// and QMatMul) and the outputs of DynamicQuantizeLinear, each listed once, in graph order.
public enum QuantizedTensors {
    public static func list(in model: Model) -> [QuantizedTensor] {
        let analysis = GraphAnalysis(model)
        var seen = Set<String>(), result: [QuantizedTensor] = []
        func add(_ tensor: String, scale: String?, zero: String?, axis: Int?, block: Int?) {
            guard !tensor.isEmpty, seen.insert(tensor).inserted else { return }
            let scaleValues = scale.flatMap { analysis.constants[$0] }.flatMap { doubles($0) }
            let zeroValues = zero.flatMap { $0.isEmpty ? nil : analysis.constants[$0] }.flatMap { doubles($0) }
            let count = scaleValues?.count ?? 1
            let rank = analysis.types[tensor]?.rank ?? 1
            var granularity = QuantizedTensor.Granularity.perTensor
            if let block, block > 0 {
                granularity = .blocked(axis: normalized(axis ?? 1, rank), size: block)
            } else if count > 1 {
                granularity = .perAxis(axis: normalized(axis ?? 1, rank), count: count)
            }
            var zeroPoints: ClosedRange<Int>?
            if let zero, zero.isEmpty {
                zeroPoints = 0...0
            } else if let v = zeroValues, let low = v.min(), let high = v.max() {
                zeroPoints = Int(low)...Int(high)
            }
            result.append(QuantizedTensor(
                name: tensor, dtype: analysis.types[tensor]?.dtype, granularity: granularity,
                scales: scaleValues.flatMap { v in v.min().map { $0...v.max()! } }, zeroPoints: zeroPoints,
                isConstant: analysis.constants[tensor] != nil))
        }
        for node in model.graph.nodes {
            let input = { (i: Int) -> String? in i < node.inputs.count && !node.inputs[i].isEmpty ? node.inputs[i] : nil }
            let axis = node.attribute("axis").flatMap { if case .int(let v) = $0 { Int(v) } else { nil } }
            let block = node.attribute("block_size").flatMap { if case .int(let v) = $0 { Int(v) } else { nil } }
            switch (Domain.canonical(node.domain), node.opType) {
            case ("", "QuantizeLinear"):
                add(node.outputs[0], scale: input(1), zero: input(2) ?? "", axis: axis, block: block)
            case ("", "DequantizeLinear"):
                add(node.inputs[0], scale: input(1), zero: input(2) ?? "", axis: axis, block: block)
            case ("", "QLinearConv"), ("", "QLinearMatMul"), (FusedOps.domain, "QConv"), (FusedOps.domain, "QMatMul"):
                add(node.inputs[0], scale: input(1), zero: input(2) ?? "", axis: nil, block: nil)
                add(node.inputs[3], scale: input(4), zero: input(5) ?? "", axis: node.opType.contains("Conv") ? 0 : -1, block: nil)
                if input(6) != nil { add(node.outputs[0], scale: input(6), zero: input(7) ?? "", axis: nil, block: nil) }
            case ("", "ConvInteger"), ("", "MatMulInteger"):
                add(node.inputs[0], scale: nil, zero: input(2) ?? "", axis: nil, block: nil)
                add(node.inputs[1], scale: nil, zero: input(3) ?? "", axis: node.opType == "ConvInteger" ? 0 : -1, block: nil)
            case ("", "DynamicQuantizeLinear"):
                if seen.insert(node.outputs[0]).inserted {
                    result.append(QuantizedTensor(name: node.outputs[0], dtype: .uint8, granularity: .dynamic, scales: nil, zeroPoints: nil,
                                                  isConstant: false))
                }
            default:
                break
            }
        }
        return result
    }

    static func normalized(_ axis: Int, _ rank: Int) -> Int { axis < 0 ? axis + rank : axis }

    static func doubles(_ tensor: Tensor) -> [Double]? {
        switch tensor.dtype {
        case .float32: tensor.scalars(as: Float.self).map(Double.init)
        case .float16: tensor.scalars(as: Float16.self).map(Double.init)
        case .int8: tensor.scalars(as: Int8.self).map(Double.init)
        case .uint8: tensor.scalars(as: UInt8.self).map(Double.init)
        case .int16: tensor.scalars(as: Int16.self).map(Double.init)
        case .uint16: tensor.scalars(as: UInt16.self).map(Double.init)
        case .int32: tensor.scalars(as: Int32.self).map(Double.init)
        default: tensor.packedIntegers?.map(Double.init)
        }
    }
}
