import VigilIR

/// What is known about one value while propagating through a graph.
public struct ValueFacts: Sendable {
    /// The element type and (possibly symbolic) shape, when known.
    public var type: TensorType?
    /// The value, when it is a constant.
    public var value: Tensor?

    public init(type: TensorType?, value: Tensor? = nil) {
        self.type = type
        self.value = value
    }

    /// Nothing known.
    public static let unknown = ValueFacts(type: nil)

    /// A constant: its static type and its value.
    public static func constant(_ tensor: Tensor) -> ValueFacts {
        ValueFacts(type: TensorType(tensor.dtype, static: tensor.shape), value: tensor)
    }
}

/// Evaluates a node whose inputs are all constant. VigilOps, the verifier and the optimizer see
/// only this protocol; the executor provides the implementation (its kernels), and the command line
/// wires it in.
public protocol ConstantEvaluator: Sendable {
    /// The node's outputs, one per entry of `outputTypes` (static types, from inference).
    func evaluate(_ context: OpContext, outputTypes: [TensorType]) throws -> [Tensor]
}

/// One node's step of a ``GraphPropagation``, handed to the visitor.
public struct PropagationStep {
    /// The node's position in the walked sequence.
    public let index: Int
    public let node: Node
    /// The node's context: its opset, input types and constant inputs; `nil` when an input is
    /// undefined or of unknown type, or the model imports no opset for the node's domain.
    public let context: OpContext?
    /// Inference's result; `nil` when inference could not run (see ``context``).
    public let result: Result<[InferredOutput], OpError>?
    /// Inputs that no initializer, graph input or earlier node defines.
    public let undefinedInputs: [String]
    /// The facts recorded for the node's outputs, one per output; the visitor may change them
    /// (with declared types, say).
    public var outputs: [ValueFacts]
}

/// One typed propagation over a graph: element types, shapes with symbolic dims and known constant
/// values, node after node, through each op's descriptor, so that every consumer infers a graph the
/// same way. The planner, the verifier and the optimizer each walk graphs with it and add their own
/// policy in the visitor (kernels and folding; diagnostics and declared types; analysis).
public struct GraphPropagation {
    /// The opset of each domain (one rule for everybody, ``Opsets``).
    public let opsets: Opsets
    public let registry: OpRegistry
    /// Evaluates nodes whose inputs are all constant when inference does not give their values.
    public var evaluator: (any ConstantEvaluator)?
    /// The largest output, in bytes, the evaluator is asked to compute.
    public var evaluationLimit: Int
    /// What is known about each value so far.
    public private(set) var facts: [String: ValueFacts] = [:]

    public init(opsets: Opsets, registry: OpRegistry = .standard, evaluator: (any ConstantEvaluator)? = nil,
                evaluationLimit: Int = 64 << 20) {
        self.opsets = opsets
        self.registry = registry
        self.evaluator = evaluator
        self.evaluationLimit = evaluationLimit
    }

    /// Records what is known about a value.
    public mutating func set(_ name: String, _ value: ValueFacts) { facts[name] = value }

    /// What is known about a value (`nil`: nothing defines it).
    public subscript(name: String) -> ValueFacts? { facts[name] }

    /// Seeds a graph's declared inputs (their declared types), then its initializers (constants; an
    /// initializer also listed as an input is that input's default and counts as a constant) and
    /// sparse initializers (types only).
    public mutating func seed(_ graph: Graph) {
        for input in graph.inputs { facts[input.name] = ValueFacts(type: Self.declaredType(input.type)) }
        for (name, tensor) in graph.initializers { facts[name] = .constant(tensor) }
        for sparse in graph.sparseInitializers {
            facts[sparse.name] = ValueFacts(type: TensorType(sparse.tensor.values.dtype, static: sparse.tensor.dims))
        }
    }

    /// The inference type of a declared value type, when it is a tensor of known element type and rank.
    public static func declaredType(_ type: ValueType?) -> TensorType? {
        guard case .tensor(let dtype?, let shape?)? = type else { return nil }
        return TensorType(dtype, shape)
    }

    /// Propagates through `nodes`, which must be in topological order, calling `visit` on each step
    /// before its output facts are recorded.
    public mutating func walk(_ nodes: [Node], visit: (inout PropagationStep) throws -> Void = { _ in }) rethrows {
        for (index, node) in nodes.enumerated() {
            var step = self.step(index, node)
            try visit(&step)
            for (name, output) in zip(node.outputs, step.outputs) where !name.isEmpty { facts[name] = output }
        }
    }

    /// Infers one node from the facts so far (and evaluates it when it is all constant).
    public func step(_ index: Int, _ node: Node) -> PropagationStep {
        var types: [TensorType?] = [], values: [Tensor?] = [], undefined: [String] = [], typed = true
        for name in node.inputs {
            guard !name.isEmpty else { types.append(nil); values.append(nil); continue }
            guard let known = facts[name] else { undefined.append(name); typed = false; continue }
            if known.type == nil { typed = false }
            types.append(known.type)
            values.append(known.value)
        }
        let unknown = [ValueFacts](repeating: .unknown, count: node.outputs.count)
        guard let opset = opsets.version(for: node.domain) else {
            let context = OpContext(node: node, opset: 0, inputTypes: types, inputValues: values)
            let error = context.error("the model imports no opset for the domain '\(Domain.display(node.domain))' of this node")
            return PropagationStep(index: index, node: node, context: nil, result: .failure(error), undefinedInputs: undefined, outputs: unknown)
        }
        guard typed else {
            return PropagationStep(index: index, node: node, context: nil, result: nil, undefinedInputs: undefined, outputs: unknown)
        }
        let context = OpContext(node: node, opset: opset, inputTypes: types, inputValues: values,
                                descriptor: registry.descriptor(for: node, opset: opset))
        let result: Result<[InferredOutput], OpError>
        do throws(OpError) { result = .success(try registry.infer(context)) } catch { result = .failure(error) }
        var outputs = unknown
        if case .success(let inferred) = result {
            outputs = inferred.map { ValueFacts(type: $0.type, value: $0.value) }
            if let evaluated = evaluate(context, outputs) { outputs = evaluated }
        }
        return PropagationStep(index: index, node: node, context: context, result: result, undefinedInputs: undefined, outputs: outputs)
    }

    /// The outputs of an all-constant foldable node with static outputs, from the evaluator.
    private func evaluate(_ context: OpContext, _ outputs: [ValueFacts]) -> [ValueFacts]? {
        let node = context.node
        guard let evaluator, !outputs.isEmpty, outputs.contains(where: { $0.value == nil }),
              context.descriptor?.traits.foldable == true, node.subgraphs.isEmpty,
              !node.inputs.filter({ !$0.isEmpty }).isEmpty,
              zip(node.inputs, context.inputValues).allSatisfy({ $0.0.isEmpty || $0.1 != nil })
        else { return nil }
        var types: [TensorType] = [], bytes = 0
        for output in outputs {
            guard let type = output.type, let sizes = type.shape.staticSizes, let count = checkedElementCount(sizes),
                  let size = type.dtype.storageBytes(count: count)
            else { return nil }
            types.append(type)
            bytes += size
            if bytes > evaluationLimit { return nil }
        }
        guard let tensors = try? evaluator.evaluate(context, outputTypes: types), tensors.count == outputs.count else { return nil }
        return tensors.map(ValueFacts.constant)
    }
}
