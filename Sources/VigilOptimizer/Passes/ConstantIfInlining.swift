import VigilIR
import VigilOps

/// Replaces an `If` whose condition is a constant with the nodes of the branch it takes (what
/// exporters leave behind from Python `if`s on shapes): branch-local values and initializers get
/// fresh names in the enclosing graph, and the branch's outputs become the If's outputs. A branch
/// whose own nodes hold subgraphs capturing branch-local values stays as it is.
public struct ConstantIfInlining: GraphRewritePass {
    public let name = "inline-constant-if"
    public init() {}

    public func rewrite(_ r: inout Rewrite) throws {
        for id in r.graph.nodeIDs {
            guard let node = r.graph.node(id), node.isOp("If"), node.inputs.count == 1,
                  let condition = r.analysis.constants[node.inputs[0]], condition.dtype == .bool, condition.elementCount == 1,
                  let bytes = condition.buffer?.bytes, let flag = bytes.first
            else { continue }
            guard let branch = node.attribute(flag != 0 ? "then_branch" : "else_branch")?.subgraphs.first,
                  branch.outputs.count == node.outputs.count,
                  let inlined = try Self.inline(branch, into: &r.graph, outputs: node.outputs)
            else { continue }
            r.graph.removeNode(id)
            for replacement in inlined { _ = try r.graph.addNode(replacement) }
            r.stats.nodesRemoved += 1
        }
    }

    /// The branch's nodes renamed into `graph` (its initializers are added there), writing `outputs`;
    /// `nil` when a nested subgraph captures a branch-local value.
    static func inline(_ branch: Graph, into graph: inout Graph, outputs: [String]) throws -> [Node]? {
        var local = Set(branch.initializerNames).union(branch.inputs.map(\.name))
        for node in branch.nodes { local.formUnion(node.outputs.filter { !$0.isEmpty }) }
        for node in branch.nodes where node.subgraphs.contains(where: { !$0.capturedValues.isDisjoint(with: local) }) { return nil }
        var names: [String: String] = [:]
        // A branch output produced by a branch node is written under the If's output name.
        for (output, target) in zip(branch.outputs.map(\.name), outputs) where !target.isEmpty {
            if branch.nodes.contains(where: { $0.outputs.contains(output) }), names[output] == nil { names[output] = target }
        }
        for name in local.sorted() where names[name] == nil { names[name] = graph.freshName("\(name)_inlined") }
        for (name, tensor) in branch.initializers { graph.setInitializer(names[name]!, tensor) }
        var nodes: [Node] = branch.nodes.map { node in
            var copy = node
            copy.inputs = node.inputs.map { $0.isEmpty ? $0 : (names[$0] ?? $0) }
            copy.outputs = node.outputs.map { $0.isEmpty ? $0 : names[$0]! }
            return copy
        }
        // Outputs that are outer values, initializers or repeated outputs: an Identity writes them.
        for (output, target) in zip(branch.outputs.map(\.name), outputs) where !target.isEmpty && names[output] != target {
            nodes.append(Node(name: target, opType: "Identity", inputs: [names[output] ?? output], outputs: [target]))
        }
        return nodes
    }
}
