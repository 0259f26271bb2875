import VigilIR
import VigilOps

/// Fuses `y · Sigmoid(y)` after a Conv or Gemm — SiLU, which exporters below opset 24 write as a
/// Sigmoid and a Mul both reading the product — into a `FusedConv` / `FusedGemm` (see `FusedOps` in VigilOps)
/// whose activation is Swish with α = 1, applied as the product is written. The Conv/Gemm output must
/// be read only by those two nodes and the Sigmoid's output only by the Mul; the fused node takes the
/// Mul's output name. Exporters lower it back to Sigmoid and Mul below opset 24.
public struct SwishFusion: GraphRewritePass {
    public let name = "fuse-swish"
    public init() {}

    public func rewrite(_ r: inout Rewrite) throws {
        for id in r.graph.nodeIDs {
            guard let node = r.graph.node(id), let base = ActivationFusion.base(node), node.attribute("activation") == nil,
                  node.outputs.count == 1, let y = node.outputs.first, !y.isEmpty, r.analysis.types[y]?.dtype == .float32,
                  let (sigmoid, mul, output) = Self.gate(of: y, in: r)
            else { continue }
            var fused = node
            fused.domain = FusedOps.domain
            fused.opType = "Fused" + base
            fused.name = output
            fused.outputs = [output]
            fused.setAttribute("activation", .string(Array("Swish".utf8)))
            fused.setAttribute("activation_params", .floats([1]))
            r.graph.removeNode(sigmoid)
            r.graph.removeNode(mul)
            try r.graph.replaceNode(id, with: fused)
            r.stats.nodesFused += 2
        }
        if r.stats.changed { r.imports.append(OpsetImport(domain: FusedOps.domain, version: Int64(FusedOps.version))) }
    }

    /// The Sigmoid and Mul computing `y · Sigmoid(y)` when they are y's only readers, and the Mul's output.
    static func gate(of y: String, in r: Rewrite) -> (NodeID, NodeID, String)? {
        let uses = r.graph.users(of: y)
        guard r.readers(of: y) == 2, uses.count == 2,
              let sigmoidUse = uses.first(where: { r.graph[$0.node].isOp("Sigmoid") }),
              let mulUse = uses.first(where: { r.graph[$0.node].isOp("Mul") })
        else { return nil }
        let sigmoid = r.graph[sigmoidUse.node], mul = r.graph[mulUse.node]
        guard sigmoid.outputs.count == 1, let gate = sigmoid.outputs.first, !gate.isEmpty, r.readers(of: gate) == 1,
              mul.inputs.count == 2, Set(mul.inputs) == [y, gate], mul.outputs.count == 1, let output = mul.outputs.first, !output.isEmpty
        else { return nil }
        return (sigmoidUse.node, mulUse.node, output)
    }
}
