import VigilIR
import VigilOps

/// Lowers a model for fixed input shapes: infers every value's static type through VigilOps,
/// folds nodes whose inputs are all constant, builds a kernel per remaining node, and assigns
/// arena slots by liveness so that dead values' memory is reused.
struct Planner {
    let graph: Graph
    /// Nodes in topological order.
    let nodes: [Node]
    let opsets: [String: Int]
    let registry: OpRegistry
    let parallel: Parallel
    /// Whether convolutions may use the Winograd kernel (``InferenceSession/Options/winograd``).
    let winograd: Bool
    /// Initializers, aligned for direct use by kernels.
    let initializers: [String: Tensor]
    /// Names of the inputs the caller supplies, in order.
    let inputNames: [String]

    func opset(for domain: String) -> Int {
        opsets[domain == "ai.onnx" ? "" : domain] ?? (domain.isEmpty ? 21 : 1)
    }

    private enum Known {
        case constant(Tensor)
        case dynamic(TensorType)

        var type: TensorType {
            switch self {
            case .constant(let t): TensorType(t.dtype, static: t.shape)
            case .dynamic(let t): t
            }
        }
    }

    /// - Parameter inputValues: graph inputs whose values the plan is specialized on (treated as constants).
    func plan(inputTypes: [TensorType], inputValues: [String: Tensor] = [:]) throws(ExecutorError) -> ExecutionPlan {
        var known: [String: Known] = [:]
        for (name, tensor) in initializers { known[name] = .constant(tensor) }
        for (name, type) in zip(inputNames, inputTypes) { known[name] = inputValues[name].map { .constant($0) } ?? .dynamic(type) }

        var constants: [Tensor] = []
        var constantIndex: [String: Int] = [:]
        var scheduled: [(node: Node, kernel: Kernel, outputTypes: [TensorType])] = []
        var folded: [String] = []

        for node in nodes {
            var types: [TensorType?] = []
            var values: [Tensor?] = []
            for name in node.inputs {
                if name.isEmpty {
                    types.append(nil)
                    values.append(nil)
                    continue
                }
                guard let k = known[name] else {
                    throw .invalidGraph("value '\(name)' read by node \(node.label) is never produced")
                }
                types.append(k.type)
                if case .constant(let t) = k { values.append(t) } else { values.append(nil) }
            }
            let context = OpContext(node: node, opset: opset(for: node.domain), inputTypes: types, inputValues: values)
            let inferred: [InferredOutput]
            do { inferred = try registry.infer(context) } catch { throw .node(error) }

            if !inferred.isEmpty, inferred.allSatisfy({ $0.value != nil }) {
                for (name, out) in zip(node.outputs, inferred) where !name.isEmpty {
                    known[name] = .constant(out.value!)
                    folded.append(name)
                }
                continue
            }
            var outputTypes: [TensorType] = []
            for (name, out) in zip(node.outputs, inferred) {
                guard out.type.shape.staticSizes != nil else {
                    throw .unresolvedShape(node: node.label, output: name, shape: out.type.shape)
                }
                outputTypes.append(out.type)
            }
            guard let builder = KernelRegistry.builder(for: node) else {
                throw .unsupportedOps([.init(opType: node.opType, domain: node.domain, nodes: [node.label])])
            }
            let kernelContext = KernelContext(op: context, outputTypes: outputTypes, parallelism: parallel.threads, winograd: winograd)
            let allInputsConstant = !node.inputs.filter { !$0.isEmpty }.isEmpty
                && zip(node.inputs, values).allSatisfy { $0.0.isEmpty || $0.1 != nil }
            let kernel: Kernel
            do { kernel = try builder(kernelContext) }
            catch let error as OpError { throw .node(error) }
            catch { throw .node(context.error("\(error)")) }

            if allInputsConstant {
                let results = try fold(node: node, kernel: kernel, inputs: values, outputTypes: outputTypes)
                for (name, tensor) in zip(node.outputs, results) where !name.isEmpty {
                    known[name] = .constant(tensor)
                    folded.append(name)
                }
            } else {
                for (name, type) in zip(node.outputs, outputTypes) where !name.isEmpty { known[name] = .dynamic(type) }
                scheduled.append((node, kernel, outputTypes))
            }
        }

        // Liveness: the last step reading each value; graph outputs live to the end.
        var lastUse: [String: Int] = [:]
        for (index, entry) in scheduled.enumerated() {
            for name in entry.node.inputs where !name.isEmpty { lastUse[name] = index }
            for name in entry.node.outputs where !name.isEmpty && lastUse[name] == nil { lastUse[name] = index }
        }
        for output in graph.outputs { lastUse[output.name] = Int.max }

        var storage: [String: Storage] = [:]
        for (i, name) in inputNames.enumerated() where inputValues[name] == nil { storage[name] = .input(i) }
        func constantStorage(_ name: String) -> Storage? {
            if let index = constantIndex[name] { return .constant(index) }
            guard case .constant(let tensor)? = known[name] else { return nil }
            constantIndex[name] = constants.count
            constants.append(tensor)
            return .constant(constants.count - 1)
        }

        var slotBytes: [Int] = []
        var slotLast: [Int] = []
        var live = Set<Int>()
        var free: [Int] = []
        var scratchBytes = 0
        var steps: [Step] = []

        func allocate(_ bytes: Int, until last: Int) -> Int {
            // Best fit among free slots; else grow the largest free slot; else a new slot.
            var best: Int?
            for s in free where slotBytes[s] >= bytes && (best == nil || slotBytes[s] < slotBytes[best!]) { best = s }
            if best == nil, let largest = free.max(by: { slotBytes[$0] < slotBytes[$1] }) {
                best = largest
                slotBytes[largest] = bytes
            }
            let slot: Int
            if let best {
                slot = best
                free.removeAll { $0 == best }
                slotLast[slot] = last
            } else {
                slot = slotBytes.count
                slotBytes.append(bytes)
                slotLast.append(last)
            }
            live.insert(slot)
            return slot
        }

        for (index, entry) in scheduled.enumerated() {
            let node = entry.node
            var inputStorage: [Storage?] = []
            for name in node.inputs {
                if name.isEmpty { inputStorage.append(nil); continue }
                if let s = storage[name] { inputStorage.append(s) } else { inputStorage.append(constantStorage(name)) }
            }
            var outputStorage: [Storage] = []
            for (j, name) in node.outputs.enumerated() {
                let type = entry.outputTypes[j]
                let bytes = type.dtype.storageBytes(count: checkedElementCount(type.shape.staticSizes!)!) ?? 0
                let last = name.isEmpty ? index : (lastUse[name] ?? index)
                var chosen: Storage?
                if j == 0, let a = entry.kernel.aliasInput, let source = inputStorage[a] {
                    chosen = source
                    if case .slot(let s) = source { slotLast[s] = max(slotLast[s], last) }
                } else if j == 0, entry.kernel.inPlace, let source = inputStorage[0], case .slot(let s) = source,
                          slotLast[s] <= index, slotBytes[s] >= bytes,
                          node.inputs.dropFirst().allSatisfy({ $0 != node.inputs[0] }) {
                    chosen = source
                    slotLast[s] = last
                }
                let final = chosen ?? .slot(allocate(bytes, until: last))
                outputStorage.append(final)
                if !name.isEmpty { storage[name] = final }
            }
            scratchBytes = max(scratchBytes, entry.kernel.scratchBytes)
            steps.append(Step(label: node.label, opType: node.opType, outputNames: node.outputs, inputs: inputStorage,
                              outputs: outputStorage, outputTypes: entry.outputTypes, kernel: entry.kernel))
            for s in live where slotLast[s] <= index {
                live.remove(s)
                free.append(s)
            }
        }

        var values: [String: (type: TensorType, storage: Storage)] = [:]
        for (name, k) in known {
            if let s = storage[name] { values[name] = (k.type, s) }
            else if let s = constantStorage(name) { values[name] = (k.type, s) }
        }
        for output in graph.outputs where values[output.name] == nil {
            throw .invalidGraph("graph output '\(output.name)' is never produced")
        }
        return ExecutionPlan(constants: constants, steps: steps, slotBytes: slotBytes, scratchBytes: scratchBytes,
                             values: values, foldedOutputs: folded)
    }

    /// Runs a node whose inputs are all constant, while planning.
    private func fold(node: Node, kernel: Kernel, inputs: [Tensor?], outputTypes: [TensorType]) throws(ExecutorError) -> [Tensor] {
        var buffers: [UnsafeMutableRawPointer] = []
        var sizes: [Int] = []
        for type in outputTypes {
            let bytes = type.dtype.storageBytes(count: checkedElementCount(type.shape.staticSizes!)!) ?? 0
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
