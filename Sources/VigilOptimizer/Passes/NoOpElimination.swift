import VigilIR

/// Removes nodes that pass their first input through unchanged. The rules are data: one entry per
/// op type saying when a node of that type is a no-op.
public struct NoOpElimination: GraphRewritePass {
    public let name = "eliminate-no-ops"
    public init() {}

    typealias Rule = @Sendable (Node, GraphAnalysis) -> Bool

    /// When each op type is a no-op.
    static let rules: [String: Rule] = [
        "Identity": { _, _ in true },
        "Dropout": { node, analysis in
            // Inference: y = x unless training_mode (opset 12+ input 2) is constant true.
            if let mode = node.inputs.count > 2 ? node.inputs[2] : nil, !mode.isEmpty {
                guard let value = analysis.constants[mode], value.dtype == .bool, value.scalars(as: UInt8.self) == [0] else { return false }
            }
            return true
        },
        "Cast": { node, analysis in
            guard case .int(let to)? = node.attribute("to"), let input = analysis.types[node.inputs[0]] else { return false }
            return input.dtype.onnxCode == Int32(to)
        },
        "Transpose": { node, analysis in
            guard let rank = analysis.types[node.inputs[0]]?.rank else { return false }
            guard case .ints(let perm)? = node.attribute("perm") else { return rank <= 1 }
            return perm == (0..<Int64(perm.count)).map { $0 }
        },
        "Reshape": sameStaticShape, "Expand": sameStaticShape, "Slice": sameStaticShape, "Tile": sameStaticShape,
        "Flatten": { node, analysis in
            guard analysis.types[node.inputs[0]]?.rank == 2 else { return false }
            guard case .int(let axis)? = node.attribute("axis") else { return true }
            return axis == 1 || axis == -1
        },
        "Pad": { node, analysis in
            if case .string(let mode)? = node.attribute("mode"), String(decoding: mode, as: UTF8.self) != "constant" {
                return sameStaticShape(node, analysis)
            }
            if case .ints(let pads)? = node.attribute("pads") { return pads.allSatisfy { $0 == 0 } }
            guard node.inputs.count > 1, let pads = analysis.constants[node.inputs[1]], pads.dtype == .int64 else { return false }
            return pads.scalars(as: Int64.self).allSatisfy { $0 == 0 }
        },
        "Concat": { node, _ in node.inputs.filter { !$0.isEmpty }.count == 1 },
        "Split": { node, _ in node.outputs.count == 1 },
    ]

    /// Output shape equals input shape, both static.
    static let sameStaticShape: Rule = { node, analysis in
        guard let input = analysis.staticShape(node.inputs[0]), let output = analysis.staticShape(node.outputs[0]) else { return false }
        return input == output && analysis.types[node.inputs[0]]?.dtype == analysis.types[node.outputs[0]]?.dtype
    }

    public func rewrite(_ r: inout Rewrite) throws {
        for id in r.graph.nodeIDs {
            let node = r.graph[id]
            guard node.isDefaultDomain, let rule = Self.rules[node.opType],
                  let input = node.inputs.first, !input.isEmpty, let output = node.outputs.first, !output.isEmpty,
                  node.outputs.dropFirst().allSatisfy({ $0.isEmpty || r.graph.readerCount($0, captured: r.captured) == 0 }),
                  !r.captured.contains(output), rule(node, r.analysis)
            else { continue }
            // A graph output keeps its name: the input's producer must be renamed, which needs one.
            if r.graph.isGraphOutput(output) && (r.graph.producer(of: input) == nil || r.graph.isGraphOutput(input)) { continue }
            r.graph.removeNode(id)
            if r.graph.substitute(output, with: input) {
                r.stats.nodesRemoved += 1
            } else {
                try r.graph.addNode(node)  // cannot happen after the check above; keep the model whole regardless
            }
        }
    }
}
