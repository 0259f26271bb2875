import VigilIR
import VigilOps

/// Running a batch as chunks of a few samples, one chunk after another through one plan, when the
/// model treats the samples of a batch independently.
///
/// Why: a batch of 32 images through a MobileNet holds activations of hundreds of megabytes, so every
/// layer streams its input and output through memory; a chunk of one or two images keeps them in
/// the caches (measured on the zoo in the README). The results are the same numbers: every node
/// allowed here computes each sample from that sample alone.
///
/// When: every graph input has the same symbolic leading dim, bound to the batch size `B`. The
/// graph is propagated at `B` and at the chunk size `b` (``GraphPropagation``, constants folded), and
/// splitting is allowed only when
/// - every value computed from the inputs (the *batch data*) has shape `[B, rest…]` at `B` and
///   `[b, rest…]` at `b`, and so has every graph output;
/// - every node reading batch data is in ``rules`` and its rule holds (a Softmax over axis 0, a
///   Concat along the batch or a Transpose moving it mixes samples and is refused);
/// - a constant whose value differs between the two (one folded from `Shape`) is read only where a
///   shape is read (``shapeInputs``).
/// Any op not listed keeps the whole batch: the list is a conservative allowance, not a guess.
enum BatchSplitting {
    /// Whether a node reading batch data in its inputs keeps the samples apart, given its context at
    /// the full batch (the shapes are checked separately).
    typealias Rule = @Sendable (OpContext) -> Bool

    /// Per-sample ops: elementwise (every op with an activation trait, besides these), windows over
    /// the spatial axes, normalizations over non-batch axes, and layout ops whose batch axis the shape
    /// check pins down.
    static let perSampleOps: Set<String> = [
        "Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Sum", "Mean", "Mod", "PRelu", "Where",
        "Equal", "Greater", "GreaterOrEqual", "Less", "LessOrEqual", "And", "Or", "Xor", "Not",
        "Abs", "Neg", "Sqrt", "Exp", "Log", "Reciprocal", "Floor", "Ceil", "Round", "Sign", "Erf",
        "Cast", "CastLike", "Identity", "Dropout", "IsNaN", "IsInf",
        "Conv", "ConvTranspose", "FusedConv", "QConv", "MaxPool", "AveragePool", "LpPool",
        "GlobalAveragePool", "GlobalMaxPool", "GlobalLpPool", "QMaxPool",
        "InstanceNormalization", "GroupNormalization", "LRN",
        "MatMul", "QMatMul", "QAdd", "QActivation", "QuantizeLinear", "DequantizeLinear",
        "Reshape", "Expand", "Pad", "Resize", "Upsample", "DepthToSpace", "SpaceToDepth", "Tile",
        "Squeeze", "Unsqueeze",
    ]

    /// Ops that keep samples apart only for some attributes or inputs.
    static let rules: [String: Rule] = {
        /// The op's `axis` attribute (with its default) is not the batch axis.
        @Sendable func axisNotZero(_ c: OpContext) -> Bool {
            guard let rank = c.inputTypes.first??.shape.rank, let axis = try? c.int("axis") else { return false }
            return (axis < 0 ? axis + rank : axis) != 0
        }
        /// The reduced axes (attribute or input 1) exclude the batch axis; none means all.
        @Sendable func axesExcludeZero(_ c: OpContext) -> Bool {
            guard let rank = c.inputTypes.first??.shape.rank else { return false }
            let axes: [Int]?
            if let attribute = try? c.ints("axes") { axes = attribute } else if c.hasInput(1) { axes = (try? c.intsInput(1)) ?? nil } else { axes = nil }
            guard let axes, !axes.isEmpty else { return (try? c.optionalInt("noop_with_empty_axes")) == 1 }
            return !axes.contains { ($0 < 0 ? $0 + rank : $0) == 0 }
        }
        var rules: [String: Rule] = [:]
        for op in ["Softmax", "LogSoftmax", "Hardmax", "LayerNormalization", "Concat", "Split", "Gather",
                   "GatherElements", "Flatten", "ArgMax", "ArgMin", "LpNormalization", "TopK"] {
            rules[op] = axisNotZero
        }
        for op in ["ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2",
                   "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare", "MeanVarianceNormalization"] {
            rules[op] = axesExcludeZero
        }
        rules["Transpose"] = { c in
            guard let perm = try? c.ints("perm") else { return false }
            return perm.first == 0
        }
        rules["Slice"] = { c in
            guard let rank = c.inputTypes.first??.shape.rank else { return false }
            let starts = (try? c.intsInput(1)) ?? nil
            let axes = c.hasInput(3) ? ((try? c.intsInput(3)) ?? nil) : starts.map { Array(0..<$0.count) }
            guard let axes else { return false }
            return !axes.contains { ($0 < 0 ? $0 + rank : $0) == 0 }
        }
        rules["Gemm"] = { c in ((try? c.int("transA")) ?? 0) == 0 }
        rules["FusedGemm"] = rules["Gemm"]
        rules["BatchNormalization"] = { c in ((try? c.optionalInt("training_mode")) ?? 0) == 0 }
        rules["FusedBatchNormalization"] = rules["BatchNormalization"]
        return rules
    }()

    /// Inputs that are read as shapes, sizes or positions: a value folded from `Shape` (which holds
    /// the batch size) may flow there.
    static let shapeInputs: [String: Set<Int>] = [
        "Reshape": [1], "Expand": [1], "Tile": [1], "Slice": [1, 2, 3, 4], "Resize": [3], "ConstantOfShape": [0],
    ]

    /// Whether the node, which reads batch data, keeps the samples apart.
    static func keepsSamplesApart(_ context: OpContext) -> Bool {
        if perSampleOps.contains(context.opType) || context.descriptor?.traits.activation != nil { return true }
        return rules[context.opType]?(context) ?? false
    }

    /// What one node moves per sample: the bytes of the values it reads and writes (`activations`) and
    /// of the constants it reads (`weights`).
    struct NodeTraffic: Equatable {
        var activations: Int
        var weights: Int
    }

    /// What each node that does not fold moves for one sample, from the graph propagated at a batch of
    /// one (a constant read by several nodes counts once); `nil` when a value's size is unknown.
    static func traffic(nodes: [Node], facts: [String: ValueFacts]) -> [NodeTraffic]? {
        var traffic: [NodeTraffic] = []
        var weightsSeen: Set<String> = []
        for node in nodes {
            let outputs = node.outputs.filter { !$0.isEmpty }
            guard !outputs.allSatisfy({ facts[$0]?.value != nil }) else { continue }
            var item = NodeTraffic(activations: 0, weights: 0)
            for name in node.inputs + outputs where !name.isEmpty {
                guard let fact = facts[name], let type = fact.type, let sizes = type.shape.staticSizes,
                      let count = checkedElementCount(sizes), let bytes = type.dtype.storageBytes(count: count) else { return nil }
                if fact.value == nil {
                    item.activations += bytes
                } else if weightsSeen.insert(name).inserted {
                    item.weights += bytes
                }
            }
            traffic.append(item)
        }
        return traffic
    }

    /// The chunk size (among 1, 2, 4, 8, 16 and the whole `batch`) that moves the fewest activation
    /// bytes through memory by a simple model: a node whose chunk of activations exceeds
    /// `activationBudget` streams them from memory for every sample. A chunk must move less than the whole batch;
    /// the smaller chunk wins a tie (less memory). Weights are read again for every chunk, so a model whose weights exceed
    /// `weightBudget` (the last-level cache: ResNet-50's 100 MB, say) runs whole: measured on the zoo,
    /// re-reading them from memory costs more than the activations' traffic saves.
    static func bestChunk(_ nodes: [NodeTraffic], batch: Int, activationBudget: Int, weightBudget: Int) -> Int {
        guard nodes.reduce(0, { $0 + $1.weights }) <= weightBudget else { return batch }
        func cost(_ chunk: Int) -> Int {
            nodes.reduce(0) { $0 + (chunk * $1.activations > activationBudget ? batch * $1.activations : 0) }
        }
        let whole = cost(batch)
        var best = batch, bestCost = whole
        for chunk in [16, 8, 4, 2, 1] where chunk < batch {
            let c = cost(chunk)
            if c < whole && c <= bestCost { (best, bestCost) = (chunk, c) }
        }
        return best
    }

    /// The facts of every value at one batch size, or `nil` when propagation fails there.
    typealias Propagate = (_ batch: Int) -> (facts: [String: ValueFacts], contexts: [OpContext?])?

    /// Whether the graph may run as chunks of `chunk` samples of a batch of `batch`.
    /// - Parameters:
    ///   - nodes: the graph's nodes in topological order.
    ///   - inputNames: the inputs the caller feeds (each carries the batch on axis 0).
    ///   - propagate: the graph's propagation at a batch size.
    static func allows(nodes: [Node], inputNames: [String], outputNames: [String], batch: Int, chunk: Int,
                       propagate: Propagate) -> Bool {
        guard chunk >= 1, chunk < batch, let full = propagate(batch), let part = propagate(chunk) else { return false }
        /// `[B, rest…]` at the full batch and `[b, rest…]` at the chunk.
        func batched(_ name: String) -> Bool {
            guard let a = full.facts[name]?.type?.shape.staticSizes, let b = part.facts[name]?.type?.shape.staticSizes,
                  a.count >= 1, a.count == b.count, a[0] == batch, b[0] == chunk else { return false }
            return a.dropFirst() == b.dropFirst()
        }
        /// A value with the same type, and the same contents when constant, at both sizes.
        func unchanged(_ name: String) -> Bool {
            guard let a = full.facts[name], let b = part.facts[name], a.type == b.type else { return false }
            switch (a.value, b.value) {
            case (nil, nil): return true
            case (let x?, let y?):
                guard x.dtype == y.dtype, x.shape == y.shape, let p = x.buffer, let q = y.buffer else { return false }
                return p.bytes.elementsEqual(q.bytes)
            default: return false
            }
        }
        var data = Set(inputNames)
        guard inputNames.allSatisfy(batched) else { return false }
        for (index, node) in nodes.enumerated() {
            let readsData = node.inputs.contains { data.contains($0) }
            let outputs = node.outputs.filter { !$0.isEmpty }
            if !readsData {
                // Weights, or shape arithmetic: folded at both sizes (a value differing between them is
                // checked where it is read); a node computing batched data from shapes alone
                // (ConstantOfShape of Shape) yields batch data.
                for name in outputs where part.facts[name]?.value == nil || full.facts[name]?.value == nil {
                    guard batched(name) else { return false }
                    data.insert(name)
                }
                continue
            }
            // Shape and Size of batch data fold to constants (their consumers are checked above).
            if outputs.allSatisfy({ full.facts[$0]?.value != nil && part.facts[$0]?.value != nil }) { continue }
            guard let context = full.contexts[index], keepsSamplesApart(context) else { return false }
            for (position, name) in node.inputs.enumerated() where !name.isEmpty && !data.contains(name) {
                guard unchanged(name) || (shapeInputs[node.opType]?.contains(position) ?? false) else { return false }
            }
            for name in outputs {
                guard batched(name) else { return false }
                data.insert(name)
            }
        }
        return outputNames.allSatisfy { data.contains($0) && batched($0) }
    }
}
