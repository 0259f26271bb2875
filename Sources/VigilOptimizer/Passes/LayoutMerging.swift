import VigilIR

/// Merges consecutive layout ops: Transpose∘Transpose becomes one Transpose (or nothing when the
/// perms cancel), and Reshape∘Reshape becomes the second Reshape.
public struct LayoutMerging: GraphRewritePass {
    public let name = "merge-layout-ops"
    public init() {}

    public func rewrite(_ r: inout Rewrite) throws {
        for secondID in r.graph.nodeIDs {
            guard let second = r.graph.node(secondID), second.domain.isEmpty, let input = second.inputs.first,
                  let firstID = r.graph.producer(of: input), r.graph.readerCount(input, captured: r.captured) == 1
            else { continue }
            let first = r.graph[firstID]
            guard first.domain.isEmpty, first.opType == second.opType else { continue }
            switch second.opType {
            case "Transpose":
                // Both must be valid permutations of the same rank (a malformed perm is the verifier's to report).
                guard case .ints(let p1)? = first.attribute("perm"), case .ints(let p2)? = second.attribute("perm"), p1.count == p2.count,
                      Set(p1) == Set(0..<Int64(p1.count)), Set(p2) == Set(0..<Int64(p2.count))
                else { continue }
                let combined = p2.map { p1[Int($0)] }
                var merged = second
                merged.inputs = first.inputs
                merged.setAttribute("perm", .ints(combined))
                r.graph.removeNode(firstID)
                try r.graph.replaceNode(secondID, with: merged)
                r.stats.nodesFused += 1
            case "Reshape":
                // The second shape must not copy dims from the intermediate (0 entries) and must be constant.
                guard second.inputs.count == 2, let shape = r.analysis.constants[second.inputs[1]], shape.dtype == .int64,
                      !shape.scalars(as: Int64.self).contains(0)
                else { continue }
                var merged = second
                merged.inputs[0] = first.inputs[0]
                r.graph.removeNode(firstID)
                try r.graph.replaceNode(secondID, with: merged)
                r.stats.nodesFused += 1
            default:
                continue
            }
        }
    }
}
