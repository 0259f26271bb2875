import VigilIR

/// Deployment transforms applied on export, after optimization.
public enum ExportTransforms {
    /// Stores float32 initializers of at least `minimumElements` elements as float16, each followed by
    /// a `Cast` back to float32 under the original name, so the graph computes in float32 as before
    /// with weights rounded to half precision. Returns the bytes saved.
    @discardableResult
    public static func storeWeightsAsFloat16(_ model: inout Model, minimumElements: Int = 16) throws -> Int {
        var graph = model.graph
        var saved = 0
        let interface = Set(graph.inputs.map(\.name)).union(graph.outputs.map(\.name))
        var casts: [Node] = []
        for (name, tensor) in graph.initializers where tensor.dtype == .float32 && tensor.elementCount >= minimumElements && !interface.contains(name) {
            let halves = tensor.scalars(as: Float.self).map { Float16($0).bitPattern }
            let storedName = graph.freshName(name + "_fp16")
            graph.setInitializer(storedName, try Tensor(.float16, shape: tensor.shape, scalars: halves))
            graph.removeInitializer(name)
            casts.append(Node(name: storedName + "_cast", opType: "Cast", inputs: [storedName], outputs: [name],
                              attributes: [Attribute(name: "to", value: .int(Int64(DType.float32.onnxCode)))]))
            saved += tensor.byteCount / 2
        }
        for cast in casts { try graph.addNode(cast) }
        try graph.sortTopologically()
        model.graph = graph
        return saved
    }

    /// Rounds float32 initializers through float16 in place (same graph, same types): what
    /// ``storeWeightsAsFloat16(_:minimumElements:)`` computes, for measuring its output deviation.
    public static func roundWeightsThroughFloat16(_ model: inout Model, minimumElements: Int = 16) throws {
        for (name, tensor) in model.graph.initializers where tensor.dtype == .float32 && tensor.elementCount >= minimumElements {
            let rounded = tensor.scalars(as: Float.self).map { Float(Float16($0)) }
            model.graph.setInitializer(name, try Tensor(float32: rounded, shape: tensor.shape))
        }
    }

    /// Drops doc strings everywhere and value_info entries for intermediates (graph inputs and
    /// outputs keep their types).
    public static func strip(_ model: inout Model) {
        model.docString = ""
        model.graph = stripped(model.graph)
    }

    static func stripped(_ source: Graph) -> Graph {
        var graph = source
        graph.docString = ""
        graph.valueInfo = []
        for index in graph.inputs.indices { graph.inputs[index].docString = "" }
        for index in graph.outputs.indices { graph.outputs[index].docString = "" }
        for id in graph.nodeIDs {
            var node = graph[id]
            node.docString = ""
            for index in node.attributes.indices {
                node.attributes[index].docString = ""
                switch node.attributes[index].value {
                case .graph(let subgraph): node.attributes[index].value = .graph(stripped(subgraph))
                case .graphs(let subgraphs): node.attributes[index].value = .graphs(subgraphs.map(stripped))
                default: break
                }
            }
            try? graph.replaceNode(id, with: node)
        }
        return graph
    }
}
