import VigilIR
import VigilOps

/// The element type and shape of every value of a model's main graph, as far as VigilOps can infer
/// them (the rules the executor and verifier use): declared inputs, initializers, each node's rule,
/// and value_info where a rule cannot tell.
enum GraphShapes {
    static func infer(_ model: Model) -> [String: TensorType] {
        var graph = model.graph
        try? graph.sortTopologically()
        var types: [String: TensorType] = [:]
        var values: [String: Tensor] = [:]
        func declared(_ info: ValueInfo) -> TensorType? {
            guard case .tensor(let dtype?, let shape?)? = info.type else { return nil }
            return TensorType(dtype, shape)
        }
        for input in graph.inputs { types[input.name] = declared(input) }
        for (name, tensor) in graph.initializers {
            types[name] = TensorType(tensor.dtype, static: tensor.shape)
            if tensor.elementCount <= 1024 { values[name] = tensor }
        }
        var fallback: [String: TensorType] = [:]
        for info in graph.valueInfo + graph.outputs { fallback[info.name] = declared(info) }
        for node in graph.nodes {
            var inferred: [InferredOutput]?
            if let definition = OpRegistry.standard.definition(domain: node.domain, opType: node.opType) {
                let inputTypes = node.inputs.map { $0.isEmpty ? nil : types[$0] }
                if zip(node.inputs, inputTypes).allSatisfy({ $0.0.isEmpty || $0.1 != nil }) {
                    let context = OpContext(
                        node: node, opset: Int(model.opsetVersion(for: node.domain) ?? 1), inputTypes: inputTypes,
                        inputValues: node.inputs.map { $0.isEmpty ? nil : values[$0] })
                    inferred = try? definition.infer(context)
                }
            }
            for (index, name) in node.outputs.enumerated() where !name.isEmpty {
                if let inferred, index < inferred.count {
                    types[name] = inferred[index].type
                    if let value = inferred[index].value, value.elementCount <= 1024 { values[name] = value }
                } else {
                    types[name] = fallback[name]
                }
            }
        }
        return types
    }
}
