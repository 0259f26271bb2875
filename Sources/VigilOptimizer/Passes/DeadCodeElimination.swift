import VigilIR

/// Removes nodes whose outputs nothing reads, then initializers nothing reads.
/// Initializers that are also graph inputs (IR < 4 style) are part of the interface and stay.
public struct DeadCodeElimination: GraphRewritePass {
    public let name = "dead-code"
    public init() {}

    public func rewrite(_ r: inout Rewrite) throws {
        var removedAny = true
        while removedAny {
            removedAny = false
            for id in r.graph.nodeIDs.reversed() {
                let node = r.graph[id]
                if node.outputs.allSatisfy({ $0.isEmpty || r.graph.readerCount($0, captured: r.captured) == 0 }) {
                    r.graph.removeNode(id)
                    r.stats.nodesRemoved += 1
                    removedAny = true
                }
            }
        }
        let inputNames = Set(r.graph.inputs.map(\.name))
        for (name, tensor) in r.graph.initializers where !inputNames.contains(name) && r.graph.readerCount(name, captured: r.captured) == 0 {
            r.graph.removeInitializer(name)
            r.stats.bytesSaved += tensor.byteCount
        }
    }
}
