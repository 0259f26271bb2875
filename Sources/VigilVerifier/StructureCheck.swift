import VigilIR

/// Model-level checks: IR version and opset imports.
enum ModelChecks {
    /// IR versions defined by ONNX releases so far (up to what the catalog's onnx release writes).
    static let knownIRVersions: ClosedRange<Int64> = 3...Int64(ONNXOpCatalog.latestIRVersion)

    static func versions(_ context: VerificationContext) -> [Diagnostic] {
        let model = context.model
        var out: [Diagnostic] = []
        if !knownIRVersions.contains(model.irVersion) {
            out.append(Diagnostic(.irVersion, "IR version \(model.irVersion) is outside the known range \(knownIRVersions.lowerBound)–\(knownIRVersions.upperBound)"))
        }
        if model.opsetImports.isEmpty {
            out.append(Diagnostic(.noDefaultOpset, "the model imports no opsets",
                                  hint: "add an opset_import for the default domain \"\" (ai.onnx)"))
        }
        var seen: [String: Int64] = [:]
        for opset in model.opsetImports {
            let domain = Domain.canonical(opset.domain)
            let shown = Domain.display(domain)
            if let earlier = seen[domain] {
                out.append(Diagnostic(.duplicateOpsetImport, "domain '\(shown)' is imported twice (versions \(earlier) and \(opset.version))",
                                      hint: "keep one opset_import per domain"))
                continue
            }
            seen[domain] = opset.version
            if domain.isEmpty {
                if opset.version < 1 || opset.version > Int64(ONNXOpCatalog.latestOpset) {
                    out.append(Diagnostic(.opsetVersion, "ai.onnx opset \(opset.version) does not exist (known: 1–\(ONNXOpCatalog.latestOpset))"))
                } else if let needed = minimumIR(forOpset: Int(opset.version)), Int64(needed) > model.irVersion {
                    out.append(Diagnostic(.opsetNeedsNewerIR, "ai.onnx opset \(opset.version) needs IR version \(needed) or newer, but the model declares \(model.irVersion)",
                                          hint: "set ir_version to at least \(needed)"))
                }
            } else if opset.version < 1 {
                out.append(Diagnostic(.opsetVersion, "domain '\(shown)' is imported at version \(opset.version); versions start at 1"))
            }
        }
        return out
    }

    static func minimumIR(forOpset opset: Int) -> Int? {
        ONNXOpCatalog.minimumIRVersion.filter { $0.key <= opset }.max { $0.key < $1.key }?.value
    }
}

/// Structural checks of the main graph and, recursively, every subgraph (with outer-scope names
/// visible): names and SSA form, definitions before uses, cycles, graph outputs, declared types,
/// attributes, and the ONNX operator schemas (arity, attribute names, types, required ones).
struct StructureCheck {
    let model: Model
    var diagnostics: [Diagnostic] = []
    /// Keys (``VerificationContext/nodeKey``) of nodes with structural or schema errors.
    var broken: Set<String> = []

    init(model: Model) { self.model = model }

    mutating func run() {
        checkGraph(model.graph, outer: [], path: [], isMain: true)
        checkFunctions()
    }

    private mutating func report(_ d: Diagnostic, brokenNode key: String? = nil) {
        diagnostics.append(d)
        if let key, d.severity == .error { broken.insert(key) }
    }

    // MARK: Graph

    /// The names one graph defines, and those its enclosing graphs define.
    private struct Scope {
        let outer: Set<String>
        let path: [String]
        let isMain: Bool
        var defined = Set<String>()

        func contains(_ name: String) -> Bool { defined.contains(name) || outer.contains(name) }
    }

    /// Defines a name in the scope, reporting a redefinition; returns whether the name was new.
    private mutating func define(_ name: String, what: String, at location: Location, in scope: inout Scope) -> Bool {
        if scope.outer.contains(name) {
            report(Diagnostic(.multipleDefinitions, "\(what) '\(name)' redefines a value of the enclosing graph", at: location,
                              hint: "names must be unique across a graph and its subgraphs"))
            return false
        }
        if !scope.defined.insert(name).inserted {
            report(Diagnostic(.multipleDefinitions, "\(what) '\(name)' is defined more than once", at: location))
            return false
        }
        return true
    }

    private mutating func checkGraph(_ graph: Graph, outer: Set<String>, path: [String], isMain: Bool) {
        var scope = Scope(outer: outer, path: path, isMain: isMain)
        if graph.name.isEmpty {
            report(Diagnostic(.emptyName, path.isEmpty ? "the main graph has no name" : "the subgraph has no name", at: Location(graphPath: path),
                              hint: "ONNX requires every graph to be named"))
        }
        checkGraphInputs(graph, &scope)
        checkInitializers(graph, &scope)
        checkNodes(graph, &scope)
        for output in graph.outputs {
            let location = Location.value(output.name, graphPath: path)
            if output.name.isEmpty {
                report(Diagnostic(.emptyName, "a graph output has an empty name", at: location))
                continue
            }
            if !scope.contains(output.name) {
                report(Diagnostic(.outputNotProduced, "graph output '\(output.name)' is not produced by any node, input or initializer", at: location))
            }
            if isMain { checkDeclaredType(output, role: "graph output", path: path) }
        }
    }

    private mutating func checkGraphInputs(_ graph: Graph, _ scope: inout Scope) {
        for input in graph.inputs {
            let location = Location.value(input.name, graphPath: scope.path)
            if input.name.isEmpty {
                report(Diagnostic(.emptyName, "a graph input has an empty name", at: location))
                continue
            }
            _ = define(input.name, what: "graph input", at: location, in: &scope)
            if scope.isMain { checkDeclaredType(input, role: "graph input", path: scope.path) }
        }
    }

    /// Initializers (names are unique and non-empty by construction of Graph; the reader checks) and
    /// sparse initializers.
    private mutating func checkInitializers(_ graph: Graph, _ scope: inout Scope) {
        let inputNames = Set(graph.inputs.map(\.name))
        for name in graph.initializerNames {
            let location = Location.value(name, graphPath: scope.path)
            if name.isEmpty {
                report(Diagnostic(.emptyName, "an initializer has an empty name", at: location))
                continue
            }
            if inputNames.contains(name) {
                if scope.outer.contains(name) { _ = define(name, what: "initializer", at: location, in: &scope) }
                continue
            }
            if scope.isMain && model.irVersion < 4 {
                report(Diagnostic(.initializerNotInput, "initializer '\(name)' is not listed among the graph inputs, which IR version \(model.irVersion) requires",
                                  at: location, hint: "list it as a graph input, or set ir_version to 4 or newer"))
            }
            _ = define(name, what: "initializer", at: location, in: &scope)
        }
        for sparse in graph.sparseInitializers {
            let location = Location.value(sparse.name, graphPath: scope.path)
            if sparse.name.isEmpty {
                report(Diagnostic(.emptyName, "a sparse initializer has an empty name", at: location))
                continue
            }
            if !inputNames.contains(sparse.name) || scope.outer.contains(sparse.name) {
                _ = define(sparse.name, what: "sparse initializer", at: location, in: &scope)
            }
            checkSparse(sparse.tensor, name: sparse.name, at: location)
        }
    }

    private mutating func checkNodes(_ graph: Graph, _ scope: inout Scope) {
        // Where every node output is produced, to tell "defined later" from "never defined".
        let nodes = graph.nodes
        var producedAt: [String: Int] = [:]
        for (index, node) in nodes.enumerated() {
            for output in node.outputs where !output.isEmpty && producedAt[output] == nil { producedAt[output] = index }
        }
        let inCycle = Self.cycleNodes(nodes, producedAt: producedAt)
        if !inCycle.isEmpty {
            let values = inCycle.sorted().flatMap { nodes[$0].outputs.filter { !$0.isEmpty } }
            let first = inCycle.min()!
            report(Diagnostic(.cycle, "nodes form a cycle through " + values.prefix(6).map { "'\($0)'" }.joined(separator: ", "),
                              at: .node(nodes[first], index: first, graphPath: scope.path),
                              hint: "a value cannot depend on itself; break the loop or use a Loop/Scan node"))
        }
        for (index, node) in nodes.enumerated() {
            let key = VerificationContext.nodeKey(scope.path, index)
            let location = Location.node(node, index: index, graphPath: scope.path)
            if node.opType.isEmpty {
                report(Diagnostic(.emptyOpType, "node has an empty op_type", at: location), brokenNode: key)
            }
            for input in node.inputs where !input.isEmpty && !scope.contains(input) {
                var at = location
                at.value = input
                if let later = producedAt[input], later >= index {
                    if inCycle.contains(index) && inCycle.contains(later) { broken.insert(key); continue }
                    report(Diagnostic(.notTopological, "input '\(input)' is produced by a later node #\(later) \(nodes[later].label)", at: at,
                                      hint: "nodes must be listed in topological order"), brokenNode: key)
                } else {
                    report(Diagnostic(.undefinedValue, "input '\(input)' is not defined by any graph input, initializer or earlier node\(scope.path.isEmpty ? "" : " in scope")",
                                      at: at), brokenNode: key)
                }
            }
            checkAttributes(node, key: key, at: location)
            checkSchema(node, key: key, at: location)
            checkSubgraphs(of: node, index: index, key: key, scope: scope)
            for output in node.outputs where !output.isEmpty {
                var at = location
                at.value = output
                if !define(output, what: "node output", at: at, in: &scope) { broken.insert(key) }
            }
        }
    }

    private mutating func checkAttributes(_ node: Node, key: String, at location: Location) {
        var attributeNames = Set<String>()
        for attribute in node.attributes {
            if attribute.name.isEmpty {
                report(Diagnostic(.emptyName, "an attribute has an empty name", at: location), brokenNode: key)
                continue
            }
            if !attributeNames.insert(attribute.name).inserted {
                report(Diagnostic(.duplicateAttribute, "attribute '\(attribute.name)' appears more than once", at: location), brokenNode: key)
            }
            if let reference = attribute.referencedAttribute, !reference.isEmpty {
                report(Diagnostic(.referenceAttributeOutsideFunction, "attribute '\(attribute.name)' refers to caller attribute '\(reference)', which only a function body may do",
                                  at: location), brokenNode: key)
            }
        }
    }

    /// Subgraphs see everything defined so far in this graph and the enclosing ones.
    private mutating func checkSubgraphs(of node: Node, index: Int, key: String, scope: Scope) {
        for attribute in node.attributes {
            for (i, subgraph) in attribute.value.subgraphs.enumerated() {
                let suffix = attribute.value.subgraphs.count > 1 ? "[\(i)]" : ""
                let name = (node.name.isEmpty ? "#\(index) \(node.opType)" : "'\(node.name)' (\(node.opType))") + ".\(attribute.name)\(suffix)"
                let before = diagnostics.count
                checkGraph(subgraph, outer: scope.outer.union(scope.defined), path: scope.path + [name], isMain: false)
                if diagnostics[before...].contains(where: { $0.severity == .error }) { broken.insert(key) }
            }
        }
    }

    /// Main-graph inputs and outputs need a tensor type with an element type and a shape (as onnx.checker requires).
    private mutating func checkDeclaredType(_ info: ValueInfo, role: String, path: [String]) {
        let location = Location.value(info.name, graphPath: path)
        guard let type = info.type else {
            report(Diagnostic(.missingType, "\(role) '\(info.name)' has no type", at: location))
            return
        }
        switch type {
        case .tensor(let dtype, let shape), .sparseTensor(let dtype, let shape):
            if dtype == nil {
                report(Diagnostic(.missingType, "\(role) '\(info.name)' has a tensor type without an element type", at: location))
            }
            if shape == nil {
                report(Diagnostic(.missingType, "\(role) '\(info.name)' has no shape (not even a rank)", at: location,
                                  hint: "declare the rank, using symbolic names for unknown dims"))
            }
        default:
            break
        }
    }

    private mutating func checkSparse(_ sparse: SparseTensor, name: String, at location: Location) {
        guard let count = checkedElementCount(sparse.dims) else {
            report(Diagnostic(.sparseTensor, "sparse tensor '\(name)' has invalid dims \(sparse.dims)", at: location))
            return
        }
        let values = sparse.values
        guard values.shape.count == 1 else {
            report(Diagnostic(.sparseTensor, "sparse tensor '\(name)' has values of shape \(values.shape); they must be 1-D", at: location))
            return
        }
        let nnz = values.shape[0]
        let indices = sparse.indices
        guard indices.dtype == .int64 else {
            report(Diagnostic(.sparseTensor, "sparse tensor '\(name)' has \(indices.dtype) indices; they must be int64", at: location))
            return
        }
        let flat = indices.scalars(as: Int64.self)
        var linear: [Int64] = []
        if indices.shape == [nnz] {
            for (i, index) in flat.enumerated() where index < 0 || index >= Int64(count) {
                report(Diagnostic(.sparseTensor, "sparse tensor '\(name)' has index \(index) at position \(i), outside its \(count) elements", at: location))
                return
            }
            linear = flat
        } else if indices.shape == [nnz, sparse.dims.count] {
            let rank = sparse.dims.count
            for i in 0..<nnz {
                var offset: Int64 = 0
                for d in 0..<rank {
                    let index = flat[i * rank + d]
                    guard index >= 0, index < Int64(sparse.dims[d]) else {
                        report(Diagnostic(.sparseTensor, "sparse tensor '\(name)' has index \(index) for dim \(d) at entry \(i), outside 0..<\(sparse.dims[d])", at: location))
                        return
                    }
                    offset = offset * Int64(sparse.dims[d]) + index
                }
                linear.append(offset)
            }
        } else {
            report(Diagnostic(.sparseTensor, "sparse tensor '\(name)' has indices of shape \(indices.shape); expected [\(nnz)] or [\(nnz), \(sparse.dims.count)]", at: location))
            return
        }
        for i in linear.indices.dropFirst() where linear[i] <= linear[i - 1] {
            report(Diagnostic(.sparseTensor, "sparse tensor '\(name)' has indices out of order or repeated at entry \(i)", at: location,
                              hint: "ONNX requires sparse indices in strictly increasing (row-major) order"))
            return
        }
    }

    // MARK: Schemas

    private mutating func checkSchema(_ node: Node, key: String, at location: Location) {
        guard !node.opType.isEmpty else { return }
        let domain = Domain.canonical(node.domain)
        let shownDomain = Domain.display(domain)
        guard let opset = model.opsetVersion(for: domain).map({ Int($0) }) else {
            if !model.opsetImports.isEmpty || !domain.isEmpty {
                report(Diagnostic(.domainNotImported, "domain '\(shownDomain)' of this node is not imported by the model", at: location,
                                  hint: "add an opset_import for '\(shownDomain)'"), brokenNode: key)
            } else {
                broken.insert(key)
            }
            return
        }
        if model.functions.contains(where: { $0.name == node.opType && Domain.canonical($0.domain) == domain }) { return }
        guard ONNXOpCatalog.knowsDomain(domain), opset >= 1 else { return }
        guard let schema = ONNXOpCatalog.schema(domain: domain, opType: node.opType, opset: opset) else {
            if let first = ONNXOpCatalog.firstVersion(domain: domain, opType: node.opType) {
                report(Diagnostic(.unknownOperator, "\(node.opType) does not exist in \(shownDomain) opset \(opset); it was introduced in opset \(first)",
                                  at: location, hint: "import opset \(first) or newer"), brokenNode: key)
            } else {
                report(Diagnostic(.unknownOperator, "\(shownDomain) has no operator \(node.opType)", at: location), brokenNode: key)
            }
            return
        }
        if schema.deprecated {
            report(Diagnostic(.deprecatedOperator, "\(node.opType) is deprecated in \(shownDomain) opset \(opset) (since \(schema.sinceVersion))",
                              at: location), brokenNode: key)
        }
        if !schema.inputs.contains(node.inputs.count) {
            report(Diagnostic(.inputCount, "\(node.opType)-\(schema.sinceVersion) takes \(Self.describe(schema.inputs)) inputs but the node lists \(node.inputs.count)",
                              at: location, hint: Self.formHint(node.opType, opset: opset)), brokenNode: key)
        }
        if !schema.outputs.contains(node.outputs.count) {
            report(Diagnostic(.outputCount, "\(node.opType)-\(schema.sinceVersion) produces \(Self.describe(schema.outputs)) outputs but the node lists \(node.outputs.count)",
                              at: location), brokenNode: key)
        }
        for (slot, input) in node.inputs.enumerated() where input.isEmpty && schema.inputIsRequired(slot) {
            report(Diagnostic(.emptyRequiredSlot, "input \(slot) of \(node.opType)-\(schema.sinceVersion) is required but the node leaves it empty",
                              at: location), brokenNode: key)
        }
        for (slot, output) in node.outputs.enumerated() where output.isEmpty && schema.outputIsRequired(slot) {
            report(Diagnostic(.emptyRequiredSlot, "output \(slot) of \(node.opType)-\(schema.sinceVersion) is required but the node leaves it empty",
                              at: location), brokenNode: key)
        }
        if domain.isEmpty { checkControlFlow(node, key: key, at: location) }
        for attribute in node.attributes where !attribute.name.isEmpty {
            guard let spec = schema.attributes[attribute.name] else {
                report(Diagnostic(.unknownAttribute, "\(node.opType)-\(schema.sinceVersion) has no attribute '\(attribute.name)'",
                                  at: location, hint: Self.formHint(node.opType, opset: opset)), brokenNode: key)
                continue
            }
            if attribute.value.kindName != spec.kind {
                report(Diagnostic(.attributeType, "attribute '\(attribute.name)' must be \(spec.kind), got \(attribute.value.kindName)",
                                  at: location), brokenNode: key)
            }
        }
        for spec in schema.attributes.values.sorted(by: { $0.name < $1.name }) where spec.required && node.attribute(spec.name) == nil {
            report(Diagnostic(.missingAttribute, "required attribute '\(spec.name)' (\(spec.kind)) is missing", at: location), brokenNode: key)
        }
    }

    /// If branches must produce as many outputs as the node; a Loop body takes (iteration, condition,
    /// carried…) and returns (condition, carried…, scan outputs…).
    private mutating func checkControlFlow(_ node: Node, key: String, at location: Location) {
        switch node.opType {
        case "If":
            for branch in ["then_branch", "else_branch"] {
                guard case .graph(let graph)? = node.attribute(branch) else { continue }
                if graph.outputs.count != node.outputs.count {
                    report(Diagnostic(.subgraphSignature, "\(branch) produces \(graph.outputs.count) outputs but the If node has \(node.outputs.count)",
                                      at: location, hint: "both branches must produce one value per If output"), brokenNode: key)
                }
            }
        case "Loop":
            guard case .graph(let body)? = node.attribute("body") else { return }
            let carried = max(node.inputs.count - 2, 0)
            if body.inputs.count != 2 + carried {
                report(Diagnostic(.subgraphSignature, "the Loop body takes \(body.inputs.count) inputs but the node passes \(carried) loop-carried values (expected \(2 + carried): iteration, condition, carried)",
                                  at: location), brokenNode: key)
            }
            if body.outputs.count != 1 + node.outputs.count || node.outputs.count < carried {
                report(Diagnostic(.subgraphSignature, "the Loop body returns \(body.outputs.count) outputs; with \(carried) carried values and \(node.outputs.count) node outputs it must return \(1 + node.outputs.count) (condition, carried, scan outputs)",
                                  at: location), brokenNode: key)
            }
        default:
            break
        }
    }

    /// Model-local functions: body names defined before use, node domains imported (by the function)
    /// and ops known to their opset.
    mutating func checkFunctions() {
        for function in model.functions {
            let path = ["function '\(function.domain.isEmpty ? "" : function.domain + "::")\(function.name)'"]
            var defined = Set(function.inputs)
            for (index, node) in function.nodes.enumerated() {
                let location = Location.node(node, index: index, graphPath: path)
                for input in node.inputs where !input.isEmpty && !defined.contains(input) {
                    var at = location
                    at.value = input
                    report(Diagnostic(.undefinedValue, "input '\(input)' is not a function input or an earlier node's output", at: at))
                }
                let domain = Domain.canonical(node.domain)
                let imports = function.opsetImports.isEmpty ? model.opsetImports : function.opsetImports
                if let version = imports.first(where: { Domain.canonical($0.domain) == domain })?.version {
                    let isLocal = model.functions.contains { $0.name == node.opType && $0.domain == node.domain }
                    if !isLocal, ONNXOpCatalog.knowsDomain(domain),
                       ONNXOpCatalog.schema(domain: domain, opType: node.opType, opset: Int(version)) == nil {
                        report(Diagnostic(.unknownOperator, "\(Domain.display(domain)) opset \(version) has no operator \(node.opType)", at: location))
                    }
                } else {
                    report(Diagnostic(.domainNotImported, "domain '\(Domain.display(domain))' of this node is not imported by the function", at: location))
                }
                defined.formUnion(node.outputs.filter { !$0.isEmpty })
            }
            for output in function.outputs where !defined.contains(output) {
                report(Diagnostic(.outputNotProduced, "function output '\(output)' is not produced by its body", at: .value(output, graphPath: path)))
            }
        }
    }

    /// Points at the opset-13-style move of attributes to inputs.
    static func formHint(_ opType: String, opset: Int) -> String? {
        let moved: [String: (Int, String)] = [
            "Squeeze": (13, "axes"), "Unsqueeze": (13, "axes"), "ReduceSum": (13, "axes"), "Split": (13, "split"),
            "Reshape": (5, "shape"), "Clip": (11, "min/max"), "Pad": (11, "pads"), "Resize": (11, "roi/scales/sizes"),
            "Slice": (10, "starts/ends/axes/steps"), "ReduceMean": (18, "axes"), "ReduceMax": (18, "axes"),
            "ReduceMin": (18, "axes"), "ReduceProd": (18, "axes"), "Upsample": (9, "scales"), "TopK": (10, "k"),
        ]
        guard let (version, what) = moved[opType] else { return nil }
        return opset >= version
            ? "since opset \(version), \(opType) takes \(what) as input(s), not attributes"
            : "before opset \(version), \(opType) takes \(what) as attribute(s), not inputs"
    }

    static func describe(_ range: ClosedRange<Int>) -> String {
        if range.count == 1 { return "\(range.lowerBound)" }
        if range.upperBound >= Int(Int32.max) { return "at least \(range.lowerBound)" }
        return "\(range.lowerBound)…\(range.upperBound)"
    }

    /// Nodes on a cycle (Tarjan's strongly connected components of size > 1, or self-loops).
    static func cycleNodes(_ nodes: [Node], producedAt: [String: Int]) -> Set<Int> {
        let edges: [[Int]] = nodes.map { node in
            var needed = Set(node.inputs.filter { !$0.isEmpty })
            for subgraph in node.subgraphs { needed.formUnion(subgraph.capturedValues) }
            return needed.compactMap { producedAt[$0] }
        }
        var index = 0
        var indices = [Int](repeating: -1, count: nodes.count)
        var low = [Int](repeating: 0, count: nodes.count)
        var onStack = [Bool](repeating: false, count: nodes.count)
        var stack: [Int] = []
        var result = Set<Int>()
        // Iterative Tarjan, so deep graphs do not overflow the call stack.
        for root in nodes.indices where indices[root] < 0 {
            var work: [(node: Int, edge: Int)] = [(root, 0)]
            indices[root] = index; low[root] = index; index += 1
            stack.append(root); onStack[root] = true
            while var top = work.popLast() {
                if top.edge < edges[top.node].count {
                    let next = edges[top.node][top.edge]
                    top.edge += 1
                    work.append(top)
                    if indices[next] < 0 {
                        indices[next] = index; low[next] = index; index += 1
                        stack.append(next); onStack[next] = true
                        work.append((next, 0))
                    } else if onStack[next] {
                        low[top.node] = min(low[top.node], indices[next])
                    }
                } else {
                    if let parent = work.last { low[parent.node] = min(low[parent.node], low[top.node]) }
                    if low[top.node] == indices[top.node] {
                        var component: [Int] = []
                        while let member = stack.popLast() {
                            onStack[member] = false
                            component.append(member)
                            if member == top.node { break }
                        }
                        if component.count > 1 || edges[top.node].contains(top.node) { result.formUnion(component) }
                    }
                }
            }
        }
        return result
    }
}
