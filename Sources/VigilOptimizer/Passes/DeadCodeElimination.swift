import VigilIR

/// Removes nodes whose outputs nothing reads, then initializers nothing reads.
/// Initializers that are also graph inputs (IR < 4 style) are part of the interface and stay.
public struct DeadCodeElimination: OptimizationPass {
    public let name = "dead-code"
    public init() {}

    public func run(on model: inout Model) throws -> PassStats {
        var stats = PassStats()
        var graph = model.graph
        var removedAny = true
        while removedAny {
            removedAny = false
            let captured = graph.capturedBySubgraphs
            for id in graph.nodeIDs.reversed() {
                let node = graph[id]
                if node.outputs.allSatisfy({ $0.isEmpty || graph.readerCount($0, captured: captured) == 0 }) {
                    graph.removeNode(id)
                    stats.nodesRemoved += 1
                    removedAny = true
                }
            }
        }
        let captured = graph.capturedBySubgraphs
        let inputNames = Set(graph.inputs.map(\.name))
        for (name, tensor) in graph.initializers where !inputNames.contains(name) && graph.readerCount(name, captured: captured) == 0 {
            graph.removeInitializer(name)
            stats.bytesSaved += tensor.byteCount
        }
        if stats.changed { graph.pruneValueInfo() }
        model.graph = graph
        return stats
    }
}
