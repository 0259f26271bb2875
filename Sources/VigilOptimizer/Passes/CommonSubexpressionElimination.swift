import VigilIR

/// Nodes with the same op, inputs and attributes compute the same values: later ones are dropped and
/// their readers read the first one's outputs.
public struct CommonSubexpressionElimination: OptimizationPass {
    public let name = "cse"
    public init() {}

    public func run(on model: inout Model) throws -> PassStats {
        var stats = PassStats()
        var graph = model.graph
        var seen: [String: [NodeID]] = [:]
        for id in graph.nodeIDs {
            let node = graph[id]
            guard node.subgraphs.isEmpty else { continue }
            let key = ([node.domain, node.opType, node.overload, "\(node.outputs.count)"] + node.inputs + node.attributes.map(\.name)).joined(separator: "\u{1}")
            if let original = seen[key]?.first(where: { graph[$0].attributes == node.attributes }),
               node.outputs.allSatisfy({ $0.isEmpty || !graph.isGraphOutput($0) }) {
                let kept = graph[original]
                graph.removeNode(id)
                for (old, new) in zip(node.outputs, kept.outputs) where !old.isEmpty {
                    _ = graph.substitute(old, with: new)
                }
                stats.nodesRemoved += 1
            } else {
                seen[key, default: []].append(id)
            }
        }
        model.graph = graph
        return stats
    }
}
