import VigilIR
import VigilOps

/// Moves a Transpose below the op that reads it when that op commutes with layout changes
/// (`OpTraits.commutesWithLayout`: elementwise on its first input, scalars elsewhere), so
/// Transpose→Relu becomes Relu→Transpose and the layout transposes an importer puts around each
/// convolution (NCHW → NHWC → activation → NCHW) meet and cancel in `merge-layout-ops`.
public struct TransposeSinking: GraphRewritePass {
    public let name = "sink-transposes"
    public init() {}

    public var needsAnalysis: Bool { false }

    public func rewrite(_ r: inout Rewrite) throws {
        for id in r.graph.nodeIDs {
            guard let transpose = r.graph.node(id), transpose.isOp("Transpose"),
                  let output = transpose.outputs.first, r.readers(of: output) == 1,
                  let use = r.graph.users(of: output).first, use.slot == 0
            else { continue }
            let follower = r.graph[use.node]
            guard let version = r.opsets.version(for: follower.domain),
                  r.context.registry.descriptor(for: follower, opset: version)?.traits.commutesWithLayout == true,
                  follower.outputs.count == 1, let result = follower.outputs.first, !result.isEmpty
            else { continue }
            let moved = r.graph.freshName(result + "_untransposed")
            var newFollower = follower
            newFollower.inputs[0] = transpose.inputs[0]
            newFollower.outputs = [moved]
            var newTranspose = transpose
            newTranspose.inputs = [moved]
            newTranspose.outputs = [result]
            r.graph.removeNode(id)
            try r.graph.replaceNode(use.node, with: newFollower)
            try r.graph.addNode(newTranspose)
            r.stats.otherChanges += 1
        }
    }
}
