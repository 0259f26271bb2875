import Foundation
import VigilFiles
import VigilIR
import VigilOps
import VigilParity
import VigilVerifier

/// The graph view of `vigil inspect --html` and `vigil parity --layerwise --html`: one self-contained
/// page (inline SVG, CSS and a little script; no network) that draws the graph in layers with op types,
/// shapes on the edges, initializer sizes, the diagnostics of `vigil check` on their nodes, and — from
/// parity — each node coloured by its error against the reference, the first diverging one marked.
enum GraphPage {
    /// Writes the page for `model` (read from `file`) to `path`, whole or not at all.
    static func write(model: Model, file: String, parity: ParityReport? = nil, to path: String) throws {
        let diagnostics = Verifier(options: .init()).verify(model)
        let page = html(model: model, file: file, diagnostics: diagnostics, parity: parity)
        do { try OutputFile.write(Array(page.utf8), to: path, protecting: CommandFiles.inputs) } catch {
            throw CommandFiles.failure(error)
        }
    }

    /// One drawn box: a graph input, a node or a graph output.
    struct Item {
        enum Kind { case input, node, output }
        var kind: Kind
        var lines: [String]
        var tooltip: String
        var nodeIndex: Int?
        /// The node's name, for finding it from the tables.
        var name: String?
        var diagnostics: [Diagnostic] = []
        var comparison: ParityComparison?
        var comparedValues: [String] = []
        var firstDivergence = false
    }

    static func html(model: Model, file: String, diagnostics: [Diagnostic], parity: ParityReport?) -> String {
        let (items, edges) = graphItems(model, diagnostics: diagnostics, parity: parity)
        let boxes = items.map { item -> GraphLayout.Box in
            // About 7.8 px per character of the bold 12.5 px op line, 6.5 of the others.
            let widest = item.lines.enumerated().map { Double($0.element.count) * ($0.offset == 0 ? 7.8 : 6.5) }.max() ?? 60
            return GraphLayout.Box(width: min(max(widest + 24, 96), 320), height: 14 + 14.5 * Double(item.lines.count))
        }
        let inputs = Set(items.indices.filter { items[$0].kind == .input })
        let layout = GraphLayout(boxes: boxes, edges: edges.map { ($0.from, $0.to) }, anchored: inputs)
        let svg = drawing(items: items, boxes: boxes, edges: edges, layout: layout, parity: parity != nil)
        return page(model: model, file: file, svg: svg, items: items, diagnostics: diagnostics, parity: parity)
    }

    struct Edge {
        var from: Int
        var to: Int
        var label: String
        var tooltip: String
        /// Whether this edge carries the label of its value (the first edge of each value).
        var labelled: Bool
    }

    /// The boxes in topological order and the edges between them.
    static func graphItems(_ model: Model, diagnostics: [Diagnostic], parity: ParityReport?) -> ([Item], [Edge]) {
        var graph = model.graph
        let original = Dictionary(uniqueKeysWithValues: graph.nodeIDs.enumerated().map { ($1, $0) })
        try? graph.sortTopologically()
        let types = GraphShapes.infer(model)
        let initializers = Set(graph.initializerNames)
        var items: [Item] = []
        var producer: [String: Int] = [:]
        for input in graph.runtimeInputs {
            producer[input.name] = items.count
            items.append(Item(kind: .input, lines: ["input", short(input.name, 40), input.type?.description ?? "undeclared"],
                              tooltip: "graph input '\(input.name)': \(input.type?.description ?? "undeclared")"))
        }
        for id in graph.nodeIDs {
            let node = graph[id]
            for output in node.outputs where !output.isEmpty { producer[output] = items.count }
            items.append(nodeItem(node, index: original[id]!, graph: graph, initializers: initializers))
        }
        for output in graph.outputs {
            items.append(Item(kind: .output, lines: ["output", short(output.name, 40), output.type?.description ?? types[output.name]?.description ?? "?"],
                              tooltip: "graph output '\(output.name)'"))
        }
        attach(diagnostics, to: &items, producer: producer)
        if let parity { attach(parity, to: &items, producer: producer) }
        for index in items.indices {
            // What the markings mean, written in the box too (the tooltip has the rest).
            for d in items[index].diagnostics.prefix(2) { items[index].lines.append("\(d.severity.rawValue) \(d.code.rawValue) (\(d.code.name))") }
            if let c = items[index].comparison {
                items[index].lines.append("max abs \(ParityReport.number(c.maxAbsoluteError))" + (c.passed ? "" : " · \(c.mismatches)/\(c.elements) outside"))
            }
        }
        var edges: [Edge] = []
        var labelled = Set<String>()
        func connect(_ value: String, to target: Int) {
            guard let source = producer[value], source != target else { return }
            let type = types[value]
            edges.append(Edge(from: source, to: target, label: type.map(shapeLabel) ?? "",
                              tooltip: "'\(value)': \(type?.description ?? "type not inferred")", labelled: labelled.insert(value).inserted))
        }
        var index = graph.runtimeInputs.count
        for id in graph.nodeIDs {
            for input in Set(graph[id].inputs) where !input.isEmpty && !initializers.contains(input) { connect(input, to: index) }
            index += 1
        }
        for output in graph.outputs {
            connect(output.name, to: index)
            index += 1
        }
        return (items, edges)
    }

    static func nodeItem(_ node: Node, index: Int, graph: Graph, initializers: Set<String>) -> Item {
        let op = Domain.qualified(node.domain, node.opType)
        var lines = [op]
        if !node.name.isEmpty { lines.append(short(node.name, 40)) }
        let weights = node.inputs.filter { initializers.contains($0) }
        for name in weights.prefix(3) {
            guard let tensor = graph.initializer(name) else { continue }
            let bytes = tensor.dtype.storageBytes(count: tensor.elementCount) ?? 0
            lines.append("\(short(lastComponent(name), 16)) \(tensor.shape.isEmpty ? "scalar" : tensor.shape.map(String.init).joined(separator: "×")) · \(byteString(bytes))")
        }
        if weights.count > 3 { lines.append("+\(weights.count - 3) more initializers") }
        let attributes = node.attributes.map(\.name).sorted().joined(separator: ", ")
        let tooltip = "node #\(index) '\(node.name)' (\(op))" + (attributes.isEmpty ? "" : "\nattributes: \(attributes)")
            + "\ninputs: \(node.inputs.joined(separator: ", "))\noutputs: \(node.outputs.joined(separator: ", "))"
        return Item(kind: .node, lines: lines, tooltip: tooltip, nodeIndex: index, name: node.name.isEmpty ? nil : node.name)
    }

    /// Diagnostics on their nodes (by node index, else by the value they name).
    static func attach(_ diagnostics: [Diagnostic], to items: inout [Item], producer: [String: Int]) {
        for d in diagnostics where d.location.graphPath.isEmpty {
            if let index = d.location.nodeIndex, let item = items.firstIndex(where: { $0.nodeIndex == index }) {
                items[item].diagnostics.append(d)
            } else if let value = d.location.value, let item = producer[value] {
                items[item].diagnostics.append(d)
            }
        }
    }

    /// Each node gets the worst comparison of the values it produces; the first divergence is marked.
    static func attach(_ parity: ParityReport, to items: inout [Item], producer: [String: Int]) {
        for layer in parity.layers ?? [] {
            guard let item = producer[layer.value], items[item].kind == .node else { continue }
            items[item].comparedValues.append(layer.value)
            if let current = items[item].comparison, severity(current) >= severity(layer.comparison) { continue }
            items[item].comparison = layer.comparison
        }
        if let first = parity.firstDivergence, let item = producer[first.value] { items[item].firstDivergence = true }
    }

    /// Orders comparisons: failing ones above passing ones, then by max abs error.
    static func severity(_ c: ParityComparison) -> (Int, Double) {
        (c.passed ? 0 : 1, c.maxAbsoluteError.isNaN ? .infinity : c.maxAbsoluteError)
    }

    static func shapeLabel(_ type: TensorType) -> String {
        let dims = type.shape.dims.map(\.description).joined(separator: "×")
        return (type.dtype == .float32 ? "" : "\(type.dtype) ") + (dims.isEmpty ? "scalar" : dims)
    }

    static func short(_ text: String, _ limit: Int) -> String {
        text.count <= limit ? text : String(text.prefix(limit / 2 - 1)) + "…" + String(text.suffix(limit / 2 - 1))
    }

    static func lastComponent(_ name: String) -> String {
        String(name.split(whereSeparator: { $0 == "/" || $0 == ":" }).last ?? Substring(name))
    }

    static func esc(_ s: String) -> String { SVGChart.escape(s) }
}
