/// A use of a value: input slot `slot` of node `node`.
public struct Use: Hashable, Sendable {
    public let node: NodeID
    public let slot: Int
    public init(node: NodeID, slot: Int) {
        self.node = node
        self.slot = slot
    }
}

/// A named sparse initializer.
public struct SparseInitializer: Sendable, Equatable {
    public var name: String
    public var tensor: SparseTensor
    public init(name: String, tensor: SparseTensor) {
        self.name = name
        self.tensor = tensor
    }
}

/// Quantization parameters attached to a tensor (ONNX `TensorAnnotation`).
public struct QuantizationAnnotation: Sendable, Equatable {
    public var tensorName: String
    public var parameters: [MetadataEntry]
    public init(tensorName: String, parameters: [MetadataEntry]) {
        self.tensorName = tensorName
        self.parameters = parameters
    }
}

/// Errors from graph edits that would break SSA form or refer to missing nodes.
public enum GraphError: Error, Equatable, CustomStringConvertible {
    /// A value would get a second producer.
    case duplicateProducer(value: String, existing: String, new: String)
    /// The node id is not (or no longer) in the graph.
    case unknownNode(NodeID)
    /// The nodes cannot be ordered: the named values form a cycle or depend on one.
    case cycle(values: [String])

    public var description: String {
        switch self {
        case .duplicateProducer(let value, let existing, let new):
            "value '\(value)' is produced by both \(existing) and \(new)"
        case .unknownNode(let id): "no node \(id) in the graph"
        case .cycle(let values):
            "the graph has a cycle through " + values.prefix(5).map { "'\($0)'" }.joined(separator: ", ")
        }
    }
}

/// A computation graph in SSA form: every value has at most one producer.
///
/// Nodes live in a stable order (which readers keep as the file's order) and are addressed by
/// ``NodeID``. The graph indexes each value's producer and users, and every edit keeps those indexes
/// consistent, so rewriting passes find neighbours in constant time.
public struct Graph: Sendable {
    public var name: String
    public var docString: String
    public var metadata: [MetadataEntry]
    /// Graph inputs. Since IR 4 initializers need not be listed here.
    public var inputs: [ValueInfo]
    public var outputs: [ValueInfo]
    /// Declared types of intermediate values.
    public var valueInfo: [ValueInfo]
    public var sparseInitializers: [SparseInitializer]
    public var quantizationAnnotations: [QuantizationAnnotation]

    private var store: [NodeID: Node] = [:]
    private var order: [NodeID] = []
    private var nextID = 0
    private var producers: [String: NodeID] = [:]
    private var uses: [String: [Use]] = [:]
    private var initializerStore: [String: Tensor] = [:]
    private var initializerOrder: [String] = []

    /// An empty graph.
    public init(
        name: String = "", docString: String = "", metadata: [MetadataEntry] = [],
        inputs: [ValueInfo] = [], outputs: [ValueInfo] = [], valueInfo: [ValueInfo] = []
    ) {
        self.name = name
        self.docString = docString
        self.metadata = metadata
        self.inputs = inputs
        self.outputs = outputs
        self.valueInfo = valueInfo
        self.sparseInitializers = []
        self.quantizationAnnotations = []
    }

    // MARK: Nodes

    /// Node ids in graph order.
    public var nodeIDs: [NodeID] {
        if order.count == store.count { return order }
        return order.filter { store[$0] != nil }
    }

    /// Nodes in graph order.
    public var nodes: [Node] { nodeIDs.map { store[$0]! } }

    public var nodeCount: Int { store.count }

    /// The node with this id. Traps when the id is not in the graph.
    public subscript(id: NodeID) -> Node {
        guard let node = store[id] else { preconditionFailure("no node \(id) in graph '\(name)'") }
        return node
    }

    /// The node with this id, or `nil`.
    public func node(_ id: NodeID) -> Node? { store[id] }

    /// Appends a node at the end of the order.
    @discardableResult
    public mutating func addNode(_ node: Node) throws(GraphError) -> NodeID {
        let id = try register(node)
        order.append(id)
        return id
    }

    /// Inserts a node just before another one in the order.
    @discardableResult
    public mutating func insertNode(_ node: Node, before other: NodeID) throws(GraphError) -> NodeID {
        compactOrder()
        guard let position = order.firstIndex(of: other) else { throw .unknownNode(other) }
        let id = try register(node)
        order.insert(id, at: position)
        return id
    }

    /// Removes a node. Its outputs lose their producer; users of those outputs keep their names.
    public mutating func removeNode(_ id: NodeID) {
        guard let node = store.removeValue(forKey: id) else { return }
        for output in node.outputs where !output.isEmpty && producers[output] == id {
            producers[output] = nil
        }
        for (slot, input) in node.inputs.enumerated() where !input.isEmpty {
            removeUse(of: input, Use(node: id, slot: slot))
        }
        if order.count > 32 && store.count < order.count / 2 { compactOrder() }
    }

    /// Replaces a node in place, keeping its position and id.
    public mutating func replaceNode(_ id: NodeID, with node: Node) throws(GraphError) {
        guard let old = store[id] else { throw .unknownNode(id) }
        for output in node.outputs where !output.isEmpty {
            if let existing = producers[output], existing != id {
                throw .duplicateProducer(value: output, existing: self[existing].label, new: node.label)
            }
        }
        for output in old.outputs where !output.isEmpty && producers[output] == id { producers[output] = nil }
        for (slot, input) in old.inputs.enumerated() where !input.isEmpty {
            removeUse(of: input, Use(node: id, slot: slot))
        }
        store[id] = node
        index(node, as: id)
    }

    /// Points input `slot` of a node at another value ("" omits an optional input).
    public mutating func setInput(of id: NodeID, slot: Int, to value: String) {
        guard var node = store[id], node.inputs.indices.contains(slot) else { return }
        let old = node.inputs[slot]
        if !old.isEmpty { removeUse(of: old, Use(node: id, slot: slot)) }
        node.inputs[slot] = value
        store[id] = node
        if !value.isEmpty { uses[value, default: []].append(Use(node: id, slot: slot)) }
    }

    /// Makes every user of `old`, graph outputs included, read `new` instead.
    public mutating func replaceAllUses(of old: String, with new: String) {
        guard old != new else { return }
        for use in users(of: old) { setInput(of: use.node, slot: use.slot, to: new) }
        for index in outputs.indices where outputs[index].name == old { outputs[index].name = new }
    }

    /// The node producing a value, or `nil` for graph inputs, initializers and outer-scope values.
    public func producer(of value: String) -> NodeID? { producers[value] }

    /// The node inputs reading a value, in no particular order (graph outputs are not included).
    public func users(of value: String) -> [Use] { uses[value] ?? [] }

    /// Whether a graph output reads this value.
    public func isGraphOutput(_ value: String) -> Bool { outputs.contains { $0.name == value } }

    /// Values read by nodes of this graph or its subgraphs that none of them defines:
    /// for a subgraph, the outer-scope values it captures.
    public var capturedValues: Set<String> {
        var defined = Set(inputs.map(\.name))
        defined.formUnion(initializerOrder)
        defined.formUnion(sparseInitializers.map(\.name))
        var read = Set<String>()
        for node in nodes {
            read.formUnion(node.inputs.filter { !$0.isEmpty })
            for subgraph in node.subgraphs { read.formUnion(subgraph.capturedValues) }
            defined.formUnion(node.outputs)
        }
        read.formUnion(outputs.map(\.name))
        return read.subtracting(defined)
    }

    /// Reorders nodes so that every producer precedes its users (subgraph captures count as uses),
    /// keeping the current order wherever it is already valid.
    public mutating func sortTopologically() throws(GraphError) {
        let ids = nodeIDs
        var position: [NodeID: Int] = [:]
        for (index, id) in ids.enumerated() { position[id] = index }
        var pending = [Int](repeating: 0, count: ids.count)
        var dependents = [[Int]](repeating: [], count: ids.count)
        for (index, id) in ids.enumerated() {
            let node = store[id]!
            var needed = Set(node.inputs.filter { !$0.isEmpty })
            for subgraph in node.subgraphs { needed.formUnion(subgraph.capturedValues) }
            for value in needed {
                guard let producer = producers[value], let source = position[producer], source != index else {
                    if producers[value] == id { pending[index] += 1 }  // self-loop: never ready
                    continue
                }
                pending[index] += 1
                dependents[source].append(index)
            }
        }
        // Ready nodes in ascending original position (a binary heap keeps this O(n log n)).
        var heap = Heap<Int>()
        for index in ids.indices where pending[index] == 0 { heap.insert(index) }
        var sorted: [NodeID] = []
        sorted.reserveCapacity(ids.count)
        while let index = heap.popMin() {
            sorted.append(ids[index])
            for dependent in dependents[index] {
                pending[dependent] -= 1
                if pending[dependent] == 0 { heap.insert(dependent) }
            }
        }
        guard sorted.count == ids.count else {
            let stuck = ids.indices.filter { pending[$0] > 0 }.flatMap { store[ids[$0]]!.outputs }
            throw .cycle(values: stuck.filter { !$0.isEmpty })
        }
        order = sorted
    }

    // MARK: Initializers

    /// Initializers in order.
    public var initializers: [(name: String, tensor: Tensor)] {
        initializerOrder.map { ($0, initializerStore[$0]!) }
    }

    public var initializerNames: [String] { initializerOrder }

    /// The initializer with this name.
    public func initializer(_ name: String) -> Tensor? { initializerStore[name] }

    /// Adds or replaces an initializer (a new one goes last).
    public mutating func setInitializer(_ name: String, _ tensor: Tensor) {
        if initializerStore.updateValue(tensor, forKey: name) == nil { initializerOrder.append(name) }
    }

    /// Removes an initializer.
    public mutating func removeInitializer(_ name: String) {
        if initializerStore.removeValue(forKey: name) != nil { initializerOrder.removeAll { $0 == name } }
    }

    // MARK: Private

    private mutating func register(_ node: Node) throws(GraphError) -> NodeID {
        let id = NodeID(rawValue: nextID)
        var seen = Set<String>()
        for output in node.outputs where !output.isEmpty {
            if let existing = producers[output] {
                throw .duplicateProducer(value: output, existing: self[existing].label, new: node.label)
            }
            if !seen.insert(output).inserted {
                throw .duplicateProducer(value: output, existing: node.label, new: node.label)
            }
        }
        nextID += 1
        store[id] = node
        index(node, as: id)
        return id
    }

    private mutating func index(_ node: Node, as id: NodeID) {
        for output in node.outputs where !output.isEmpty { producers[output] = id }
        for (slot, input) in node.inputs.enumerated() where !input.isEmpty {
            uses[input, default: []].append(Use(node: id, slot: slot))
        }
    }

    private mutating func removeUse(of value: String, _ use: Use) {
        guard var list = uses[value], let index = list.firstIndex(of: use) else { return }
        list.remove(at: index)
        uses[value] = list.isEmpty ? nil : list
    }

    private mutating func compactOrder() {
        if order.count != store.count { order = order.filter { store[$0] != nil } }
    }
}

extension Graph: Equatable {
    /// Graphs are equal when their contents in order are equal; node ids are not compared.
    public static func == (lhs: Graph, rhs: Graph) -> Bool {
        lhs.name == rhs.name && lhs.docString == rhs.docString && lhs.metadata == rhs.metadata
            && lhs.inputs == rhs.inputs && lhs.outputs == rhs.outputs && lhs.valueInfo == rhs.valueInfo
            && lhs.initializerOrder == rhs.initializerOrder && lhs.initializerStore == rhs.initializerStore
            && lhs.sparseInitializers == rhs.sparseInitializers
            && lhs.quantizationAnnotations == rhs.quantizationAnnotations
            && lhs.nodes == rhs.nodes
    }
}

/// A minimal binary min-heap.
struct Heap<Element: Comparable> {
    private var items: [Element] = []

    mutating func insert(_ item: Element) {
        items.append(item)
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard items[child] < items[parent] else { break }
            items.swapAt(child, parent)
            child = parent
        }
    }

    mutating func popMin() -> Element? {
        guard !items.isEmpty else { return nil }
        items.swapAt(0, items.count - 1)
        let minimum = items.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < items.count && items[left] < items[smallest] { smallest = left }
            if right < items.count && items[right] < items[smallest] { smallest = right }
            if smallest == parent { break }
            items.swapAt(parent, smallest)
            parent = smallest
        }
        return minimum
    }
}
