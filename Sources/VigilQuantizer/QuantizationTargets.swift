import VigilExecutor
import VigilIR
import VigilOps
import VigilOptimizer

/// A Conv, Gemm or MatMul that can be quantized: its float activation input, its constant weights
/// (quantized per output channel along `weightAxis`), its constant bias, and the tensor whose
/// quantization stands for its output — the output of a Relu, LeakyRelu or Clip that alone reads it
/// (the integer kernel applies those before requantizing), else its own output.
public struct QuantizationTarget: Sendable, Equatable {
    /// The node's name, or its output's when it has none (what `--exclude` names).
    public var name: String
    public var opType: String
    /// The node's first output (unique in the graph).
    public var output: String
    public var input: String
    public var weight: String
    public var weightAxis: Int
    /// Output channels.
    public var channels: Int
    /// A float32 constant with one value per output channel (Conv's B, Gemm's C when β = 1), quantized to
    /// int32 in units of the input and weight scales.
    public var bias: String?
    /// The tensor quantized as the node's output (after an absorbed activation).
    public var quantizedOutput: String
}

/// Finds the quantizable nodes of a model.
public enum QuantizationTargets {
    /// The quantizable nodes (in graph order), and the Conv/Gemm/MatMul nodes left in float with the reason.
    /// - Parameter sampleShapes: shapes of sample inputs (calibration data, batch first): the graph inputs'
    ///   unknown dims are taken from them (batch 1) for the type analysis, so that shapes computed from
    ///   the input's (Shape → Gather → Concat → Reshape, as a channel shuffle) are known.
    public static func find(in model: Model, exclude: Set<String> = [], sampleShapes: [String: [Int]] = [:])
        -> (targets: [QuantizationTarget], skipped: [(name: String, reason: String)]) {
        var graph = model.graph
        try? graph.sortTopologically()
        let analysis = GraphAnalysis(withSampleShapes(model, sampleShapes), evaluator: KernelEvaluator(), evaluationLimit: 1 << 20)
        var targets: [QuantizationTarget] = [], skipped: [(String, String)] = []
        for node in graph.nodes where node.isDefaultDomain && ["Conv", "Gemm", "MatMul"].contains(node.opType) {
            let name = node.name.isEmpty ? (node.outputs.first ?? node.opType) : node.name
            if exclude.contains(name) || exclude.contains(node.opType) {
                skipped.append((name, "excluded"))
                continue
            }
            switch target(node, name: name, graph: graph, analysis: analysis) {
            case .success(var target):
                target.quantizedOutput = absorbedActivation(after: target.output, graph: graph, model: model, analysis: analysis) ?? target.output
                targets.append(target)
            case .failure(let reason):
                skipped.append((name, reason.message))
            }
        }
        return (targets, skipped)
    }

    /// The model with its inputs' unknown dims set from `shapes` (the first, the batch, to 1).
    static func withSampleShapes(_ model: Model, _ shapes: [String: [Int]]) -> Model {
        var model = model
        for (i, input) in model.graph.inputs.enumerated() {
            guard let sample = shapes[input.name], case .tensor(let dtype, let shape?)? = input.type, shape.rank == sample.count else { continue }
            let dims = shape.dims.enumerated().map { d, dim in dim.value == nil ? Dim.fixed(d == 0 ? 1 : sample[d]) : dim }
            model.graph.inputs[i].type = .tensor(dtype, Shape(dims))
        }
        return model
    }

    static func target(_ node: Node, name: String, graph: Graph, analysis: GraphAnalysis) -> Result<QuantizationTarget, QuantizationError> {
        guard node.outputs.count == 1, let output = node.outputs.first, !output.isEmpty, node.inputs.count >= 2 else {
            return .failure(QuantizationError("not a plain \(node.opType) with one output"))
        }
        let input = node.inputs[0], weightName = node.inputs[1]
        guard analysis.types[input]?.dtype == .float32, analysis.constants[input] == nil else {
            return .failure(QuantizationError("its input is not a float32 activation"))
        }
        guard let weight = graph.initializer(weightName), weight.dtype == .float32 else {
            return .failure(QuantizationError("its weights are not a float32 initializer"))
        }
        var axis = 0, biasSlot: Int?
        switch node.opType {
        case "Conv":
            guard [3, 4].contains(weight.shape.count) else { return .failure(QuantizationError("only 1-D and 2-D convolutions are quantized")) }
            biasSlot = 2
        case "Gemm":
            guard node.attribute("transA").map({ $0 == .int(0) }) ?? true else { return .failure(QuantizationError("transA is set")) }
            axis = node.attribute("transB") == .int(1) ? 0 : 1
            if (node.attribute("beta").map { $0 == .float(1) } ?? true) { biasSlot = 2 }
        default:
            guard weight.shape.count == 2 else { return .failure(QuantizationError("its weights are not a 2-D matrix")) }
            axis = 1
        }
        let channels = weight.shape[axis]
        var bias: String?
        if let slot = biasSlot, slot < node.inputs.count, !node.inputs[slot].isEmpty {
            if let b = graph.initializer(node.inputs[slot]), b.dtype == .float32, b.elementCount == channels, b.shape.count <= 2 {
                bias = node.inputs[slot]
            }
        }
        return .success(QuantizationTarget(name: name, opType: node.opType, output: output, input: input, weight: weightName, weightAxis: axis,
                                           channels: channels, bias: bias, quantizedOutput: output))
    }

    /// The output of a piecewise-linear activation (Relu, LeakyRelu, Clip with constant bounds) that alone
    /// reads `value`, or `nil`.
    static func absorbedActivation(after value: String, graph: Graph, model: Model, analysis: GraphAnalysis) -> String? {
        guard !graph.isGraphOutput(value), graph.users(of: value).count == 1, let use = graph.users(of: value).first, use.slot == 0,
              case let node = graph[use.node], node.isDefaultDomain, node.outputs.count == 1,
              let opset = model.opsetVersion(for: "").map({ Int($0) }),
              let descriptor = OpRegistry.standard.descriptor(for: node, opset: opset), let activation = descriptor.traits.activation
        else { return nil }
        let context = OpContext(node: node, opset: opset, inputTypes: node.inputs.map { analysis.types[$0] },
                                inputValues: node.inputs.map { analysis.constants[$0] }, descriptor: descriptor)
        guard activation.fusable, let parameters = try? activation.parameterValues(context), activation.piecewiseLinear?(parameters) != nil
        else { return nil }
        return node.outputs[0]
    }
}
