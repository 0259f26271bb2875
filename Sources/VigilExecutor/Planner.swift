import VigilIR
import VigilOps

/// Lowers a model for fixed input shapes: propagates static types through the graph with VigilOps's
/// one propagation (``GraphPropagation``, whose evaluator folds all-constant nodes with the
/// kernels), builds a kernel per remaining node, and assigns arena slots by liveness so that dead
/// values' memory is reused.
struct Planner {
    let graph: Graph
    /// Nodes in topological order.
    let nodes: [Node]
    let opsets: Opsets
    let registry: OpRegistry
    let parallel: Parallel
    /// Whether convolutions may use the Winograd kernel (``InferenceSession/Options/winograd``).
    let winograd: Bool
    /// Bytes the plan's values and scratch may take (``InferenceSession/Options/memoryLimit``).
    let memoryLimit: Int
    /// Initializers, aligned for direct use by kernels.
    let initializers: [String: Tensor]
    /// Names of the inputs the caller supplies, in order.
    let inputNames: [String]

    /// A node with its kernel and static output types.
    struct Scheduled {
        let node: Node
        let kernel: Kernel
        let outputTypes: [TensorType]
    }

    /// The nodes left to run and what is known about every value.
    struct Lowered {
        var scheduled: [Scheduled] = []
        var facts: [String: ValueFacts] = [:]
        /// Outputs of nodes folded into constants while planning.
        var folded: [String] = []
    }

    /// - Parameter inputValues: graph inputs whose values the plan is specialized on (treated as constants).
    func plan(inputTypes: [TensorType], inputValues: [String: Tensor] = [:]) throws(ExecutorError) -> ExecutionPlan {
        let lowered = try lower(inputTypes: inputTypes, inputValues: inputValues)
        var layout = ArenaLayout(lowered: lowered, graph: graph, inputNames: inputNames, inputValues: inputValues, memoryLimit: memoryLimit)
        return try layout.plan()
    }

    /// Propagates types and constants through the nodes and builds a kernel for each node that
    /// does not fold.
    func lower(inputTypes: [TensorType], inputValues: [String: Tensor]) throws(ExecutorError) -> Lowered {
        var propagation = GraphPropagation(opsets: opsets, registry: registry,
                                           evaluator: KernelEvaluator(parallel: parallel, winograd: winograd), evaluationLimit: memoryLimit)
        for (name, tensor) in initializers { propagation.set(name, .constant(tensor)) }
        for (name, type) in zip(inputNames, inputTypes) {
            propagation.set(name, inputValues[name].map(ValueFacts.constant) ?? ValueFacts(type: type))
        }
        var lowered = Lowered()
        do {
            try propagation.walk(nodes) { step in
                if let scheduled = try schedule(step, folded: &lowered.folded) { lowered.scheduled.append(scheduled) }
            }
        } catch let error as ExecutorError {
            throw error
        } catch {
            throw .invalidGraph("\(error)")
        }
        lowered.facts = propagation.facts
        return lowered
    }

    /// The types and folded constants of every value for these input types, and each node's context
    /// (by position in `nodes`), without building kernels; `nil` when propagation fails or a node's
    /// inference does.
    func propagate(inputTypes: [TensorType]) -> (facts: [String: ValueFacts], contexts: [OpContext?])? {
        var propagation = GraphPropagation(opsets: opsets, registry: registry,
                                           evaluator: KernelEvaluator(parallel: parallel, winograd: winograd), evaluationLimit: memoryLimit)
        for (name, tensor) in initializers { propagation.set(name, .constant(tensor)) }
        for (name, type) in zip(inputNames, inputTypes) { propagation.set(name, ValueFacts(type: type)) }
        var contexts: [OpContext?] = []
        var failed = false
        propagation.walk(nodes) { step in
            contexts.append(step.context)
            if case .success? = step.result {} else { failed = true }
        }
        return failed ? nil : (propagation.facts, contexts)
    }

    /// The kernel of one propagated node, or `nil` when the node folded into constants.
    private func schedule(_ step: PropagationStep, folded: inout [String]) throws(ExecutorError) -> Scheduled? {
        let node = step.node
        if let name = step.undefinedInputs.first {
            throw .invalidGraph("value '\(name)' read by node \(node.label) is never produced")
        }
        guard let result = step.result, let context = step.context else {
            if case .failure(let error)? = step.result { throw .node(error) }
            throw .invalidGraph("the input types of node \(node.label) are unknown")
        }
        let inferred: [InferredOutput]
        switch result {
        case .failure(let error): throw .node(error)
        case .success(let outputs): inferred = outputs
        }
        if !step.outputs.isEmpty, step.outputs.allSatisfy({ $0.value != nil }) {
            folded += node.outputs.filter { !$0.isEmpty }
            return nil
        }
        var outputTypes: [TensorType] = []
        var outputBytes = 0
        for (name, out) in zip(node.outputs, inferred) {
            guard let sizes = out.type.shape.staticSizes else {
                throw .unresolvedShape(node: node.label, output: name, shape: out.type.shape)
            }
            // Checked before the kernel is built: builders size their tables from these shapes.
            guard let count = checkedElementCount(sizes), let bytes = out.type.dtype.storageBytes(count: count) else {
                throw .node(context.error("output '\(name)' of shape \(sizes) holds more elements than a 64-bit size can count"))
            }
            outputBytes = outputBytes > Int.max - bytes ? Int.max : outputBytes + bytes
            outputTypes.append(out.type)
        }
        guard outputBytes <= memoryLimit else { throw .memoryLimit(node: node.label, bytes: outputBytes, limit: memoryLimit) }
        guard let builder = KernelRegistry.builder(for: node, descriptor: context.descriptor) else {
            throw .unsupportedOps([.init(opType: node.opType, domain: node.domain, nodes: [node.label])])
        }
        let kernelContext = KernelContext(op: context, outputTypes: outputTypes, parallelism: parallel.threads, winograd: winograd)
        do {
            return Scheduled(node: node, kernel: try builder(kernelContext), outputTypes: outputTypes)
        } catch let error as OpError {
            throw .node(error)
        } catch {
            throw .node(context.error("\(error)"))
        }
    }
}

/// Evaluates all-constant nodes with the executor's own kernels: the propagation's evaluator while
/// planning, and the constant folder the command line hands the optimizer.
public struct KernelEvaluator: ConstantEvaluator {
    let parallel: Parallel
    let winograd: Bool

    /// - Parameter threads: threads the kernels may use (default 1: folding is small work).
    public init(threads: Int = 1) {
        self.init(parallel: Parallel(threads: max(1, threads)), winograd: false)
    }

    init(parallel: Parallel, winograd: Bool) {
        self.parallel = parallel
        self.winograd = winograd
    }

    public func evaluate(_ context: OpContext, outputTypes: [TensorType]) throws -> [Tensor] {
        guard let builder = KernelRegistry.builder(for: context.node, descriptor: context.descriptor) else {
            throw ExecutorError.unsupportedOps([.init(opType: context.node.opType, domain: context.node.domain, nodes: [context.node.label])])
        }
        let kernel = try builder(KernelContext(op: context, outputTypes: outputTypes, parallelism: parallel.threads, winograd: winograd))
        return try run(kernel, inputs: context.inputValues, outputTypes: outputTypes)
    }

    /// Runs a kernel on constant inputs into freshly allocated output tensors.
    func run(_ kernel: Kernel, inputs: [Tensor?], outputTypes: [TensorType]) throws(ExecutorError) -> [Tensor] {
        var buffers: [UnsafeMutableRawPointer] = []
        var sizes: [Int] = []
        for type in outputTypes {
            guard let sizes0 = type.shape.staticSizes, let count = checkedElementCount(sizes0), let bytes = type.dtype.storageBytes(count: count) else {
                for b in buffers { b.deallocate() }
                throw .invalidGraph("cannot fold a value of type \(type)")
            }
            sizes.append(bytes)
            buffers.append(UnsafeMutableRawPointer.allocate(byteCount: max(bytes, 1), alignment: 64))
        }
        let scratch = kernel.scratchBytes > 0 ? UnsafeMutableRawPointer.allocate(byteCount: kernel.scratchBytes, alignment: 64) : nil
        defer { scratch?.deallocate() }
        if let a = kernel.aliasInput, let source = inputs[a]?.buffer {
            buffers[0].copyMemory(from: source.baseAddress, byteCount: min(sizes[0], source.count))
        }
        if let run = kernel.run {
            let io = KernelIO(inputs: inputs.map { $0?.buffer?.baseAddress }, outputs: buffers, scratch: scratch)
            do { try run(io, parallel) } catch {
                for b in buffers { b.deallocate() }
                throw .node(error)
            }
        }
        return zip(buffers, zip(sizes, outputTypes)).map { pointer, info in
            let buffer = TensorBuffer(unsafeBytes: UnsafeRawPointer(pointer), count: info.0) { $0.deallocate() }
            return try! Tensor(dtype: info.1.dtype, shape: info.1.shape.staticSizes!, contents: .bytes(buffer))
        }
    }
}
