import VigilIR

/// Nodes with the same op, inputs and attributes compute the same values: later ones are dropped and
/// their readers read the first one's outputs.
public struct CommonSubexpressionElimination: GraphRewritePass {
    public let name = "cse"
    public init() {}

    public func rewrite(_ r: inout Rewrite) throws {
        var seen: [String: [NodeID]] = [:]
        for id in r.graph.nodeIDs {
            let node = r.graph[id]
            guard node.subgraphs.isEmpty else { continue }
            let key = ([node.domain, node.opType, node.overload, "\(node.outputs.count)"] + node.inputs + node.attributes.map(\.name)).joined(separator: "\u{1}")
            if let original = seen[key]?.first(where: { r.graph[$0].attributes == node.attributes }),
               node.outputs.allSatisfy({ $0.isEmpty || !r.graph.isGraphOutput($0) }) {
                let kept = r.graph[original]
                r.graph.removeNode(id)
                for (old, new) in zip(node.outputs, kept.outputs) where !old.isEmpty {
                    _ = r.graph.substitute(old, with: new)
                }
                r.stats.nodesRemoved += 1
            } else {
                seen[key, default: []].append(id)
            }
        }
    }
}
