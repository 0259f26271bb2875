import VigilIR
import VigilOps

/// Type and shape inference over the whole model through VigilOps's one propagation
/// (``GraphPropagation``, each op's descriptor being the single home of its rules), carrying
/// symbolic dims, constant values (initializers, Constant, Shape, …) and declared types; reports
/// nodes the op rules reject and declarations that disagree with what inference derives.
enum InferenceCheck {
    static func run(_ context: VerificationContext) -> [Diagnostic] {
        var walker = Walker(context: context)
        var env = GraphPropagation(opsets: Opsets(model: context.model), registry: context.registry)
        walker.inferGraph(context.model.graph, env: &env, path: [])
        return walker.diagnostics
    }

    /// The inference type of a declared value type, when it is a tensor of known element type and rank.
    static func tensorType(_ type: ValueType?) -> TensorType? { GraphPropagation.declaredType(type) }

    struct Walker {
        let context: VerificationContext
        var diagnostics: [Diagnostic] = []
        /// Ops reported as not implemented (one note per op type).
        var reportedUnimplemented = Set<String>()

        init(context: VerificationContext) { self.context = context }

        mutating func inferGraph(_ graph: Graph, env: inout GraphPropagation, path: [String]) {
            env.seed(graph)
            for (name, tensor) in graph.initializers {
                // An initializer also listed as a graph input is that input's default: the declarations must agree.
                if let input = graph.inputs.first(where: { $0.name == name }), let declared = tensorType(input.type) {
                    _ = compare(inferred: TensorType(tensor.dtype, static: tensor.shape), declared: declared, name: name,
                                at: .value(name, graphPath: path), what: "initializer")
                }
            }
            var declared: [String: ValueInfo] = [:]
            for info in graph.valueInfo { declared[info.name] = info }
            for info in graph.outputs { declared[info.name] = info }

            var sorted = graph
            let nodes: [(index: Int, node: Node)]
            let position = Dictionary(uniqueKeysWithValues: graph.nodeIDs.enumerated().map { ($1, $0) })
            if (try? sorted.sortTopologically()) != nil {
                nodes = sorted.nodeIDs.map { (position[$0]!, sorted[$0]) }
            } else {
                nodes = graph.nodeIDs.map { (position[$0]!, graph[$0]) }
            }

            for (index, node) in nodes {
                let location = Location.node(node, index: index, graphPath: path)
                let key = VerificationContext.nodeKey(path, index)
                let outputs = inferNode(node, index: index, env: &env, location: location,
                                        broken: context.structurallyBroken.contains(key), path: path)
                // Declared types fill in what inference could not, and are compared with what it found.
                for (i, name) in node.outputs.enumerated() where !name.isEmpty {
                    let inferred = i < outputs.count ? outputs[i] : .unknown
                    guard let info = declared[name], let declaredType = tensorType(info.type) else {
                        env.set(name, inferred)
                        continue
                    }
                    var at = location
                    at.value = name
                    if let type = inferred.type {
                        if compare(inferred: type, declared: declaredType, name: name, at: at) {
                            env.set(name, ValueFacts(type: merge(type, declaredType), value: inferred.value))
                        } else {
                            env.set(name, inferred)
                        }
                    } else {
                        env.set(name, ValueFacts(type: declaredType))
                    }
                }
            }
        }

        /// Infers one node's outputs (unknown where inference cannot run), reporting rejections.
        mutating func inferNode(_ node: Node, index: Int, env: inout GraphPropagation, location: Location, broken: Bool,
                                path: [String]) -> [ValueFacts] {
            let unknown = [ValueFacts](repeating: .unknown, count: node.outputs.count)
            // Subgraphs: inferred with the enclosing values visible (their own outputs stay unknown here).
            for attribute in node.attributes {
                for (i, subgraph) in attribute.value.subgraphs.enumerated() {
                    var inner = env
                    let suffix = attribute.value.subgraphs.count > 1 ? "[\(i)]" : ""
                    let name = (node.name.isEmpty ? "#\(location.nodeIndex ?? 0) \(node.opType)" : "'\(node.name)' (\(node.opType))") + ".\(attribute.name)\(suffix)"
                    inferGraph(subgraph, env: &inner, path: path + [name])
                }
            }
            if broken { return unknown }
            checkControlFlowCondition(node, env: env, location: location)
            // Domains without an import and unknown ops are the structure check's findings.
            guard env.opsets.version(for: node.domain) != nil else { return unknown }
            guard context.registry.descriptor(for: node) != nil else {
                let label = Domain.qualified(node.domain, node.opType)
                if !context.isLocalFunction(node), reportedUnimplemented.insert(label).inserted {
                    diagnostics.append(Diagnostic(.notImplemented, "\(label) is not implemented by Vigil; outputs of its nodes are not type-checked",
                                                  at: location))
                }
                return unknown
            }
            let step = env.step(index, node)
            guard case .failure(let error)? = step.result else { return step.outputs }
            var at = location
            if let subject = error.subject { at.value = subjectValue(subject, node: node) }
            switch error.kind {
            case .invalid:
                diagnostics.append(Diagnostic(.inference, error.message, at: at, hint: error.subject.map { "concerns \($0)" }))
            case .unresolved:
                diagnostics.append(Diagnostic(.unresolvedShape, error.message, at: at))
            case .unsupported:
                diagnostics.append(Diagnostic(.notImplemented, error.message, at: at))
            }
            return unknown
        }

        /// An If or Loop condition must be a single bool.
        mutating func checkControlFlowCondition(_ node: Node, env: GraphPropagation, location: Location) {
            guard node.isDefaultDomain, (node.opType == "If" && node.inputs.count >= 1) || (node.opType == "Loop" && node.inputs.count >= 2)
            else { return }
            let name = node.inputs[node.opType == "If" ? 0 : 1]
            guard !name.isEmpty, let type = env[name]?.type,
                  type.dtype != .bool || type.shape.staticSizes.map({ $0.reduce(1, *) != 1 }) == true
            else { return }
            var at = location
            at.value = name
            diagnostics.append(Diagnostic(.subgraphSignature, "the \(node.opType) condition '\(name)' is \(type); it must be a single bool", at: at))
        }

        /// The value name an `OpError` subject such as `input 1 ('W')` refers to.
        func subjectValue(_ subject: String, node: Node) -> String? {
            guard let open = subject.firstIndex(of: "'"), let close = subject.lastIndex(of: "'"), open < close else { return nil }
            return String(subject[subject.index(after: open)..<close])
        }

        /// Reports disagreements; returns whether the declaration is compatible.
        mutating func compare(inferred: TensorType, declared: TensorType, name: String, at location: Location,
                              what: String = "inference") -> Bool {
            if inferred.dtype != declared.dtype {
                diagnostics.append(Diagnostic(.declaredTypeConflict, "'\(name)' is declared \(declared.dtype) but \(what) gives \(inferred.dtype)",
                                              at: location, hint: "fix or drop the value_info / output declaration"))
                return false
            }
            if inferred.rank != declared.rank {
                diagnostics.append(Diagnostic(.declaredShapeConflict, "'\(name)' is declared with shape \(declared.shape) but \(what) gives \(inferred.shape) (rank \(inferred.rank))",
                                              at: location))
                return false
            }
            for (axis, (a, b)) in zip(inferred.shape.dims, declared.shape.dims).enumerated() {
                if let x = a.value, let y = b.value, x != y {
                    diagnostics.append(Diagnostic(.declaredShapeConflict, "'\(name)' is declared with shape \(declared.shape) but \(what) gives \(inferred.shape) (axis \(axis): \(y) vs \(x))",
                                                  at: location))
                    return false
                }
            }
            return true
        }

        /// The inferred type with unknown dims taken from the declaration.
        func merge(_ inferred: TensorType, _ declared: TensorType) -> TensorType {
            var dims = inferred.shape.dims
            for i in dims.indices where dims[i] == .unknown { dims[i] = declared.shape.dims[i] }
            return TensorType(inferred.dtype, Shape(dims))
        }
    }
}

