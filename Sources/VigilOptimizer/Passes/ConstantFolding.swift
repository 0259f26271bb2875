import VigilExecutor
import VigilIR

/// Evaluates nodes whose inputs are all constants with the executor and stores their outputs as
/// initializers, under a size cap. Values that inference already knows (a `Shape` of a static shape,
/// and so the Shape → Gather → Unsqueeze → Concat → Reshape chains exporters emit) fold the same way.
///
/// Initializers count as constants; the `initializers-not-inputs` pass runs first so that none of
/// them can be overridden at run time.
public struct ConstantFolding: OptimizationPass {
    public let name = "fold-constants"
    /// Largest folded output, in bytes.
    public var maximumBytes: Int

    public init(maximumBytes: Int = 64 << 20) { self.maximumBytes = maximumBytes }

    public func run(on model: inout Model) throws -> PassStats {
        var stats = PassStats()
        let analysis = GraphAnalysis(model)
        var graph = model.graph
        let captured = graph.capturedBySubgraphs
        let inputs = Set(graph.inputs.map(\.name))
        for id in graph.nodeIDs {
            let node = graph[id]
            let outputs = node.outputs.filter { !$0.isEmpty }
            // A folded graph output becomes an initializer of the same name, as ONNX allows.
            guard node.subgraphs.isEmpty, !outputs.isEmpty, outputs.allSatisfy({ !captured.contains($0) }) else { continue }
            var values: [String: Tensor] = [:]
            for output in outputs { if let known = analysis.constants[output] { values[output] = known } }
            if values.count < outputs.count {
                guard node.inputs.allSatisfy({ $0.isEmpty || (graph.initializer($0) != nil && !inputs.contains($0)) }),
                      let computed = try? evaluate(node, graph: graph, model: model)
                else { continue }
                values = computed
            }
            guard values.values.reduce(0, { $0 + $1.byteCount }) <= maximumBytes else { continue }
            graph.removeNode(id)
            for output in outputs where graph.readerCount(output, captured: captured) > 0 {
                graph.setInitializer(output, values[output]!)
            }
            stats.nodesRemoved += 1
        }
        if stats.changed { graph.pruneValueInfo() }
        model.graph = graph
        return stats
    }

    /// Runs one node on its constant inputs.
    func evaluate(_ node: Node, graph source: Graph, model: Model) throws -> [String: Tensor] {
        var graph = Graph(name: "fold")
        for input in node.inputs where !input.isEmpty && graph.initializer(input) == nil {
            graph.setInitializer(input, source.initializer(input)!)
        }
        try graph.addNode(node)
        graph.outputs = node.outputs.filter { !$0.isEmpty }.map { ValueInfo(name: $0, type: nil) }
        let single = Model(irVersion: max(model.irVersion, 4), opsetImports: model.opsetImports, graph: graph)
        let session = try InferenceSession(model: single, options: .init(threads: 1))
        return try session.run([:])
    }
}

/// Initializers listed as graph inputs (required below IR 4) become plain constants, so that the
/// other passes may fold them. The model's real inputs are unchanged.
public struct InitializersNotInputs: OptimizationPass {
    public let name = "initializers-not-inputs"
    public init() {}

    public func run(on model: inout Model) throws -> PassStats {
        let before = model.graph.inputs.count
        let graph = model.graph
        model.graph.inputs.removeAll { graph.initializer($0.name) != nil }
        let removed = before - model.graph.inputs.count
        if removed > 0 && model.irVersion < 4 { model.irVersion = 4 }
        return PassStats(otherChanges: removed)
    }
}
