import VigilIR
import VigilOps

/// The element type and shape of every value of a model's main graph, as VigilOps's one
/// propagation infers them (the rules the executor and verifier use), with value_info and output
/// declarations where a rule cannot tell.
enum GraphShapes {
    static func infer(_ model: Model) -> [String: TensorType] {
        var graph = model.graph
        try? graph.sortTopologically()
        var fallback: [String: TensorType] = [:]
        for info in graph.valueInfo + graph.outputs { fallback[info.name] = GraphPropagation.declaredType(info.type) }
        var propagation = GraphPropagation(opsets: Opsets(model: model))
        propagation.seed(graph)
        propagation.walk(graph.nodes) { step in
            for (index, name) in step.node.outputs.enumerated() where !name.isEmpty && step.outputs[index].type == nil {
                step.outputs[index] = ValueFacts(type: fallback[name])
            }
        }
        return propagation.facts.compactMapValues(\.type)
    }
}
