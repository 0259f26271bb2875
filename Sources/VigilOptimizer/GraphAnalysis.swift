import VigilIR
import VigilOps

/// Types and constant values of a graph's values, from the declared input types, the initializers and
/// each op's own inference in VigilOps (the same inference the executor and the verifier use).
/// Values whose inference fails simply stay unknown: passes that need them skip those nodes.
struct GraphAnalysis {
    private(set) var types: [String: TensorType] = [:]
    private(set) var constants: [String: Tensor] = [:]

    init(_ model: Model, registry: OpRegistry = .standard) {
        let graph = model.graph
        var opsets: [String: Int] = [:]
        for entry in model.opsetImports { opsets[entry.domain == "ai.onnx" ? "" : entry.domain] = Int(entry.version) }
        for (name, tensor) in graph.initializers {
            constants[name] = tensor
            types[name] = TensorType(tensor.dtype, static: tensor.shape)
        }
        for input in graph.inputs where constants[input.name] == nil {
            if case .tensor(let dtype?, let shape?)? = input.type { types[input.name] = TensorType(dtype, shape) }
        }
        for node in graph.nodes where node.subgraphs.isEmpty {
            let inputTypes = node.inputs.map { $0.isEmpty ? nil : types[$0] }
            if zip(node.inputs, inputTypes).contains(where: { !$0.0.isEmpty && $0.1 == nil }) { continue }
            let context = OpContext(
                node: node, opset: opsets[node.domain == "ai.onnx" ? "" : node.domain] ?? 1, inputTypes: inputTypes,
                inputValues: node.inputs.map { $0.isEmpty ? nil : constants[$0] })
            guard let outputs = try? registry.infer(context) else { continue }
            for (name, output) in zip(node.outputs, outputs) where !name.isEmpty {
                types[name] = output.type
                if let value = output.value { constants[name] = value }
            }
        }
    }

    /// The static sizes of a value, when known.
    func staticShape(_ value: String) -> [Int]? { types[value]?.shape.staticSizes }
}

extension Graph {
    /// Values read by subgraphs of this graph's nodes (outer-scope captures).
    var capturedBySubgraphs: Set<String> {
        var captured = Set<String>()
        for node in nodes { for subgraph in node.subgraphs { captured.formUnion(subgraph.capturedValues) } }
        return captured
    }

    /// How many places read a value: node inputs, graph outputs and subgraph captures.
    func readerCount(_ value: String, captured: Set<String>) -> Int {
        users(of: value).count + outputs.filter { $0.name == value }.count + (captured.contains(value) ? 1 : 0)
    }

    /// Makes every reader of `old` read `new` instead, where `old`'s producer is being removed.
    ///
    /// Graph output names are the model's interface and never change: when `old` is a graph output,
    /// `new`'s producer is renamed to produce `old` instead — possible only when `new` is produced by
    /// a node and is not itself a graph output. Returns `false` (changing nothing) when impossible.
    mutating func substitute(_ old: String, with new: String) -> Bool {
        guard isGraphOutput(old) else {
            replaceAllUses(of: old, with: new)
            return true
        }
        guard producer(of: old) == nil, let producerID = producer(of: new), !isGraphOutput(new) else { return false }
        var node = self[producerID]
        guard let index = node.outputs.firstIndex(of: new) else { return false }
        node.outputs[index] = old
        do { try replaceNode(producerID, with: node) } catch { return false }
        for use in users(of: new) { setInput(of: use.node, slot: use.slot, to: old) }
        return true
    }

    /// A name not used by any value, initializer or input of this graph.
    func freshName(_ base: String) -> String {
        var candidate = base
        var counter = 1
        while producer(of: candidate) != nil || initializer(candidate) != nil || inputs.contains(where: { $0.name == candidate })
            || !users(of: candidate).isEmpty || isGraphOutput(candidate) {
            candidate = "\(base)_\(counter)"
            counter += 1
        }
        return candidate
    }

    /// Drops value_info entries for values that no longer exist.
    mutating func pruneValueInfo() {
        let defined = Set(nodes.flatMap(\.outputs)).union(initializerNames).union(inputs.map(\.name))
        valueInfo.removeAll { !defined.contains($0.name) }
    }
}

extension Tensor {
    /// float32 elements, or `nil` for other types.
    var floats: [Float]? { dtype == .float32 ? scalars(as: Float.self) : nil }
}
