import VigilIR
import VigilOps

/// Types and constant values of a graph's values, from VigilOps's one propagation
/// (`GraphPropagation`: the declared input types, the initializers and each op's own inference,
/// the same inference the executor and the verifier use). Values whose inference fails stay
/// unknown: passes that need them skip those nodes. Initializers that are also graph inputs (IR < 4)
/// may be overridden at run time, so they count as typed, not constant.
public struct GraphAnalysis: Sendable {
    public private(set) var types: [String: TensorType] = [:]
    public private(set) var constants: [String: Tensor] = [:]

    /// - Parameters:
    ///   - model: the model whose main graph is analysed.
    ///   - registry: the op descriptors that infer each node.
    ///   - evaluator: also evaluates all-constant nodes (up to `evaluationLimit` bytes each).
    ///   - evaluationLimit: the largest output, in bytes, that `evaluator` computes.
    public init(_ model: Model, registry: OpRegistry = .standard, evaluator: (any ConstantEvaluator)? = nil, evaluationLimit: Int = 64 << 20) {
        let graph = model.graph
        var propagation = GraphPropagation(opsets: Opsets(model: model), registry: registry, evaluator: evaluator,
                                           evaluationLimit: evaluationLimit)
        propagation.seed(graph)
        for input in graph.inputs where graph.initializer(input.name) != nil {
            propagation.set(input.name, ValueFacts(type: propagation[input.name]?.type))
        }
        propagation.walk(graph.nodes.filter { $0.subgraphs.isEmpty }) { _ in }
        for (name, facts) in propagation.facts {
            if let type = facts.type { types[name] = type }
            if let value = facts.value { constants[name] = value }
        }
    }

    private init() {}

    /// Nothing known (for passes that need no analysis).
    public static let empty = GraphAnalysis()

    /// The static sizes of a value, when known.
    public func staticShape(_ value: String) -> [Int]? { types[value]?.shape.staticSizes }

    /// The shape of a value when every dim is a size or a named symbol (a batch dim `N`): two values with
    /// equal such shapes have the same sizes whatever the symbols are bound to.
    public func knownShape(_ value: String) -> Shape? {
        guard let shape = types[value]?.shape, !shape.dims.contains(.unknown) else { return nil }
        return shape
    }
}

/// The state a ``GraphRewritePass`` edits: the graph, what the analysis knew before the pass, the
/// values subgraphs capture (which must keep their names), the model's opsets, and the stats.
public struct Rewrite {
    public var graph: Graph
    public let analysis: GraphAnalysis
    public let captured: Set<String>
    public let opsets: Opsets
    public let context: PassContext
    public var stats = PassStats()
    /// Opset imports the rewrite needs added to the model (a fused op's domain, say).
    public var imports: [OpsetImport] = []

    /// How many places read a value (nodes, graph outputs, subgraph captures).
    public func readers(of value: String) -> Int { graph.readerCount(value, captured: captured) }

    /// The default-domain opset (0 when the model imports none).
    public var opset: Int { opsets.version(for: "") ?? 0 }
}

/// A pass that edits a graph: the helper builds the ``Rewrite`` (analysis, captures, opsets), and
/// after a change sorts the graph, drops stale value_info and adds the imports the rewrite asked for.
public protocol GraphRewritePass: OptimizationPass {
    /// Whether the rewrite reads ``Rewrite/analysis`` (skipping it saves a propagation).
    var needsAnalysis: Bool { get }
    /// Whether the analysis evaluates all-constant nodes with the context's evaluator.
    var evaluatesConstants: Bool { get }
    func rewrite(_ r: inout Rewrite) throws
}

extension GraphRewritePass {
    public var needsAnalysis: Bool { true }
    public var evaluatesConstants: Bool { false }

    public func run(on model: inout Model, context: PassContext) throws -> PassStats {
        let analysis = needsAnalysis
            ? GraphAnalysis(model, registry: context.registry, evaluator: evaluatesConstants ? context.evaluator : nil)
            : .empty
        var r = Rewrite(graph: model.graph, analysis: analysis, captured: model.graph.capturedBySubgraphs,
                        opsets: Opsets(model: model), context: context)
        try rewrite(&r)
        if r.stats.changed {
            try r.graph.sortTopologically()
            r.graph.pruneValueInfo()
            for entry in r.imports where model.opsetVersion(for: entry.domain) == nil { model.opsetImports.append(entry) }
        }
        model.graph = r.graph
        return r.stats
    }
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

/// Names for the nodes and values that lowering one node into several adds: each unused by the graph
/// (as it was when created) and by every name handed out before.
final class FreshNames {
    private let graph: Graph
    private var taken = Set<String>()

    init(_ graph: Graph) { self.graph = graph }

    /// `base` or the first free `base_N`.
    func callAsFunction(_ base: String) -> String {
        var name = graph.freshName(base), counter = 1
        while taken.contains(name) {
            name = graph.freshName("\(base)_\(counter)")
            counter += 1
        }
        taken.insert(name)
        return name
    }
}
