import Foundation
import Synchronization
import VigilBLAS
import VigilIR
import VigilOps

/// Runs a model on the CPU.
///
/// Stages: the session checks at creation that every op is supported (reporting all unsupported ops
/// at once), then plans the graph as given once per set of input shapes (`Planner`: VigilOps inference
/// with constant folding, kernel lowering, arena slots by liveness); graph rewrites such as BatchNorm
/// folding and Conv + activation fusion are the optimizer's (`VigilOptimizer`), whose fused ops run here. A symbolic batch dim is bound when `run` sees
/// the actual shapes, and the plan for those shapes is cached. Shapes that depend on the value of a
/// small input (a runtime `shape` or `axes` tensor) are handled by specializing the plan on that value.
///
/// ```swift
/// let session = try InferenceSession(model: model, options: .init(threads: 2))
/// let outputs = try session.run(["x": tensor])   // keyed by graph output name
/// ```
///
/// `run` is serialized per session (plans own reusable arenas); create several sessions to run in
/// parallel. The OpenBLAS thread count is process-wide: each `run` sets it to `options.threads`.
public final class InferenceSession: @unchecked Sendable {
    /// Session options.
    public struct Options: Sendable {
        /// Threads for OpenBLAS and for the executor's own loops (never both at once).
        public var threads: Int
        /// Whether 3×3 stride-1 convolutions may run on the Winograd F(2×2, 3×3) kernel (about 1.5× faster
        /// than the AVX2 direct kernel; on CPUs with AVX-512 the direct 16-lane kernel is faster and is used
        /// whatever this says; its rounding differs from a direct convolution's by a few units in the last
        /// place, and against a double-precision reference it is the more accurate). `false` computes every
        /// convolution directly, as onnxruntime does.
        public var winograd: Bool

        /// The most memory, in bytes, a plan may use for its values and scratch space (weights and
        /// inputs are already in memory and not counted): planning fails before allocating, naming the
        /// node, when a model would need more (``ExecutorError/memoryLimit(node:bytes:limit:)``).
        public var memoryLimit: Int

        /// How ``InferenceSession/run(_:)`` runs a batch: whole, or in chunks of samples one after
        /// another when the model keeps its samples apart (the numbers are the same; chunks keep the
        /// activations in the caches).
        public var batching: Batching

        /// - Parameters:
        ///   - threads: defaults to every active core.
        ///   - winograd: see ``winograd``.
        ///   - memoryLimit: defaults to the memory the machine has available (``MemoryLimit/available``).
        ///   - batching: see ``batching``.
        public init(threads: Int? = nil, winograd: Bool = true, memoryLimit: Int? = nil, batching: Batching = .automatic) {
            self.threads = max(1, threads ?? ProcessInfo.processInfo.activeProcessorCount)
            self.winograd = winograd
            self.memoryLimit = max(0, memoryLimit ?? MemoryLimit.available)
            self.batching = batching
        }
    }

    /// How a batch runs (``Options/batching``). Chunks are used only when every input has the same
    /// symbolic leading dim and every node that reads the samples keeps them apart (a Softmax over
    /// the batch, say, does not); otherwise the batch runs whole.
    public enum Batching: Sendable, Equatable {
        /// The chunk size that moves the fewest bytes through memory by a model of the caches
        /// (`BatchSplitting.bestChunk`: activations of a chunk within half the last-level cache, weights
        /// beyond it read once per chunk), or the whole batch when that is best.
        case automatic
        /// The whole batch through one plan.
        case whole
        /// Chunks of this many samples.
        case chunks(of: Int)
    }


    public let model: Model
    public let options: Options
    /// Graph inputs the caller must supply. Inputs that also have an initializer (IR < 4 models list
    /// every weight as an input) take the initializer's value and are not listed.
    public let inputs: [ValueInfo]
    /// Graph output names, in order.
    public let outputNames: [String]

    /// Plans the graph as given (the optimizer, not the executor, rewrites graphs).
    private let planner: Planner
    /// The session's worker threads (`threads − 1` of them), ended with the session.
    private let pool: WorkerPool?
    private let parallel: Parallel
    private let lock = NSLock()
    private var plans: [PlanKey: ExecutionPlan] = [:]
    private var planOrder: [PlanKey] = []
    /// The chunk size per input types (0: the batch runs whole).
    private var chunkSizes: [[TensorType]: Int] = [:]
    /// Plans of lanes 1, 2, … per chunk types (``executeInChunks(_:types:chunk:)``).
    private var replicaPlans: [[TensorType]: [ExecutionPlan]] = [:]

    /// Inputs whose values the plan depends on (e.g. a runtime `shape` or `axes` input): plans are
    /// specialized on their values, which are treated as constants.
    private var valueInputs: Set<String> = []

    /// Plans are cached per input types (and values of `valueInputs`).
    private struct PlanKey: Hashable {
        var types: [TensorType]
        var values: [String: [UInt8]]
    }

    /// Inputs small enough to specialize a plan on their values.
    private static let valueInputLimit = 1024

    /// Creates a session, failing with ``ExecutorError/unsupportedOps(_:)`` listing every unsupported op.
    public init(model: Model, options: Options = .init()) throws(ExecutorError) {
        self.model = model
        self.options = options
        let unsupported = Self.unsupportedOps(in: model)
        guard unsupported.isEmpty else { throw .unsupportedOps(unsupported) }

        var graph = model.graph
        guard !graph.outputs.isEmpty else { throw .invalidGraph("the graph declares no outputs: there is nothing to compute") }
        do { try graph.sortTopologically() } catch { throw .invalidGraph(error.description) }

        var initializers: [String: Tensor] = [:]
        for (name, tensor) in graph.initializers { initializers[name] = Self.aligned(tensor) }
        let inputs = graph.inputs.filter { initializers[$0.name] == nil }
        self.inputs = inputs
        self.outputNames = graph.outputs.map(\.name)
        let pool = options.threads > 1 ? WorkerPool(workers: options.threads - 1) : nil
        self.pool = pool
        let parallel = Parallel(threads: options.threads, pool: pool)
        self.parallel = parallel
        self.planner = Planner(
            graph: graph, nodes: graph.nodes, opsets: Opsets(model: model), registry: .standard,
            parallel: parallel, winograd: options.winograd, memoryLimit: options.memoryLimit, initializers: initializers,
            inputNames: inputs.map(\.name))

        // Plan eagerly when every input shape is static, so that errors surface here.
        let declared = inputs.compactMap { info -> TensorType? in
            guard let (dtype, shape) = info.type?.tensorType, let dtype, let shape, shape.staticSizes != nil else { return nil }
            return TensorType(dtype, shape)
        }
        if declared.count == inputs.count {
            do { _ = try plan(for: declared, feeds: [:]) } catch {
                // Shapes that depend on input values are resolved at run time; anything else is an error now.
                guard Self.dependsOnValues(error) else { throw error }
            }
        }
    }

    deinit { pool?.stop() }

    /// Every op in the model without a CPU implementation, grouped by op type, in first-use order.
    public static func unsupportedOps(in model: Model) -> [ExecutorError.UnsupportedOp] {
        var result: [ExecutorError.UnsupportedOp] = []
        for node in model.graph.nodes {
            let descriptor = OpRegistry.standard.descriptor(for: node, opset: model.opsetVersion(for: node.domain).flatMap { Int(exactly: $0) })
            let supported = descriptor != nil && KernelRegistry.builder(for: node, descriptor: descriptor) != nil
            guard !supported else { continue }
            if let i = result.firstIndex(where: { $0.opType == node.opType && $0.domain == node.domain }) {
                result[i].nodes.append(node.label)
            } else {
                result.append(.init(opType: node.opType, domain: node.domain, nodes: [node.label]))
            }
        }
        return result
    }

    /// Runs the model and returns the graph outputs by name.
    public func run(_ feeds: [String: Tensor]) throws(ExecutorError) -> [String: Tensor] {
        try execute(feeds, captureAll: false)
    }

    /// Runs the model and returns every value computed by a node (intermediates, folded constants
    /// and graph outputs), by name — for layerwise comparison.
    public func runCapturingIntermediates(_ feeds: [String: Tensor]) throws(ExecutorError) -> [String: Tensor] {
        try execute(feeds, captureAll: true)
    }

    /// Time spent in one op type (or one node) during a profiled run.
    public struct OpProfile: Sendable, Equatable {
        /// The op type, or with `byNode` the node label and output shape (`'conv1' (Conv) [1, 64, 32, 32]`).
        public var opType: String
        /// Number of steps counted here.
        public var count: Int
        public var seconds: Double
        /// CPU time of the process during those steps, summed over its threads (with one thread: the time
        /// they computed, whatever else the machine ran).
        public var cpuSeconds: Double = 0
        /// Floating-point operations of those steps (2 per multiply-add; 0 for ops that do not count them).
        public var flops: Double = 0
    }

    /// Runs the model and also returns the time spent per op type — or per node with `byNode` —
    /// slowest first, and the wall time of the run itself (`seconds`: binding, every step, copying the
    /// outputs; not the bookkeeping of the profile after it). Nodes folded while planning or executed as
    /// views (Reshape, Identity, …) cost nothing and are not listed.
    public func runProfiled(_ feeds: [String: Tensor], byNode: Bool = false) throws(ExecutorError)
        -> (outputs: [String: Tensor], profile: [OpProfile], seconds: Double)
    {
        let start = DispatchTime.now().uptimeNanoseconds
        // Only clock reads while the model runs (names and totals afterwards), so that profiling barely
        // slows the run it measures.
        var times: [(step: Step, nanoseconds: UInt64, cpuNanoseconds: UInt64)] = []
        times.reserveCapacity(256)
        var last = DispatchTime.now().uptimeNanoseconds, lastCPU = Self.processCPUNanoseconds()
        let outputs = try execute(feeds, captureAll: false, beforeStep: {
            last = DispatchTime.now().uptimeNanoseconds
            lastCPU = Self.processCPUNanoseconds()
        }) { step in
            guard step.kernel.run != nil else { return }
            times.append((step, DispatchTime.now().uptimeNanoseconds - last, Self.processCPUNanoseconds() &- lastCPU))
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        var totals: [String: OpProfile] = [:]
        for (step, nanoseconds, cpuNanoseconds) in times {
            let key = byNode ? "\(step.label) \(step.outputTypes[0].shape)" : step.opType
            totals[key, default: OpProfile(opType: key, count: 0, seconds: 0)].count += 1
            totals[key]!.seconds += Double(nanoseconds) / 1e9
            totals[key]!.cpuSeconds += Double(cpuNanoseconds) / 1e9
            totals[key]!.flops += Double(step.kernel.flops)
        }
        return (outputs, totals.values.sorted { $0.seconds > $1.seconds }, seconds)
    }

    /// CPU time of the process so far, summed over its threads, in nanoseconds.
    static func processCPUNanoseconds() -> UInt64 {
        var t = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
        return UInt64(t.tv_sec) * 1_000_000_000 + UInt64(t.tv_nsec)
    }

    /// Bytes of arena memory the plan for these input shapes uses (after at least one run or eager plan).
    public func plannedArenaBytes(for feeds: [String: Tensor]) throws(ExecutorError) -> Int {
        try plannedLayout(for: feeds).arenaBytes
    }

    /// The samples per chunk in which ``run(_:)`` runs these inputs' batch (``Options/batching``), or
    /// `nil` when it runs the batch whole.
    public func batchChunk(for feeds: [String: Tensor]) throws(ExecutorError) -> Int? {
        let (types, tensors) = try bind(feeds)
        lock.lock()
        defer { lock.unlock() }
        let chunk = chunkSize(for: types, tensors: tensors)
        return chunk > 0 ? chunk : nil
    }

    /// The plan for these input shapes.
    func plannedLayout(for feeds: [String: Tensor]) throws(ExecutorError) -> ExecutionPlan {
        let (types, tensors) = try bind(feeds)
        lock.lock()
        defer { lock.unlock() }
        return try plan(for: types, feeds: Dictionary(uniqueKeysWithValues: zip(inputs.map(\.name), tensors)))
    }

    // MARK: Private

    private func execute(
        _ feeds: [String: Tensor], captureAll: Bool, beforeStep: (() -> Void)? = nil, afterStep: ((Step) -> Void)? = nil
    ) throws(ExecutorError) -> [String: Tensor] {
        let (types, tensors) = try bind(feeds)
        lock.lock()
        defer { lock.unlock() }
        if !captureAll, beforeStep == nil, afterStep == nil {
            let chunk = chunkSize(for: types, tensors: tensors)
            if chunk > 0 { return try executeInChunks(tensors, types: types, chunk: chunk) }
        }
        let plan = try plan(for: types, feeds: Dictionary(uniqueKeysWithValues: zip(inputs.map(\.name), tensors)))
        BLAS.setThreadCount(options.threads)
        var results: [String: Tensor] = [:]
        if captureAll {
            for name in plan.foldedOutputs {
                if let v = plan.values[name] { results[name] = plan.tensor(v.storage, type: v.type, inputs: tensors) }
            }
        }
        try plan.execute(inputs: tensors, parallel: parallel, beforeStep: beforeStep) { index in
            let step = plan.steps[index]
            afterStep?(step)
            guard captureAll else { return }
            for (j, name) in step.outputNames.enumerated() where !name.isEmpty {
                results[name] = plan.tensor(step.outputs[j], type: step.outputTypes[j], inputs: tensors)
            }
        }
        for name in outputNames {
            let v = plan.values[name]!
            results[name] = plan.tensor(v.storage, type: v.type, inputs: tensors)
        }
        return results
    }

    /// The samples per chunk for these inputs, or 0 when the batch runs whole (``Batching``).
    private func chunkSize(for types: [TensorType], tensors: [Tensor]) -> Int {
        if let known = chunkSizes[types] { return known }
        let chunk = computeChunkSize(for: types, tensors: tensors)
        if chunkSizes.count > 16 { chunkSizes.removeAll() }
        chunkSizes[types] = chunk
        return chunk
    }

    private func computeChunkSize(for types: [TensorType], tensors: [Tensor]) -> Int {
        guard options.batching != .whole, valueInputs.isEmpty, !tensors.isEmpty else { return 0 }
        // Every input carries the batch on axis 0 under one symbolic dim.
        var symbol: String?
        for info in inputs {
            guard case .symbolic(let name)? = info.type?.tensorType?.1?.dims.first, symbol == nil || symbol == name else { return 0 }
            symbol = name
        }
        guard let batch = tensors[0].shape.first, batch >= 2, tensors.allSatisfy({ $0.shape.first == batch && $0.buffer != nil }) else { return 0 }
        /// The graph propagated at a batch size, once per size.
        var propagated: [Int: (facts: [String: ValueFacts], contexts: [OpContext?])?] = [:]
        func propagate(_ n: Int) -> (facts: [String: ValueFacts], contexts: [OpContext?])? {
            if let known = propagated[n] { return known }
            let result = planner.propagate(inputTypes: types.map { TensorType($0.dtype, static: [n] + ($0.shape.staticSizes ?? []).dropFirst()) })
            propagated[n] = result
            return result
        }
        let chunk: Int
        switch options.batching {
        case .whole: return 0
        case .chunks(let n): chunk = n
        case .automatic:
            guard let one = propagate(1), let traffic = BatchSplitting.traffic(nodes: planner.nodes, facts: one.facts) else { return 0 }
            let cache = CacheSizes.lastLevel
            chunk = BatchSplitting.bestChunk(traffic, batch: batch, activationBudget: cache / 2, weightBudget: cache)
        }
        guard chunk >= 1, chunk < batch else { return 0 }
        let allowed = BatchSplitting.allows(nodes: planner.nodes, inputNames: inputs.map(\.name), outputNames: outputNames,
                                            batch: batch, chunk: chunk, propagate: propagate)
        return allowed ? chunk : 0
    }

    /// Runs the batch as chunks of `chunk` samples, copying each chunk's outputs into place. With one
    /// thread the chunks run one after another through the plan for a chunk (and one for the
    /// remainder); with more, each thread runs whole chunks on its own plans (its own arena), one
    /// thread per chunk, since a chunk's layers are too small to split well across threads.
    private func executeInChunks(_ tensors: [Tensor], types: [TensorType], chunk: Int) throws(ExecutorError) -> [String: Tensor] {
        let batch = tensors[0].shape[0]
        let chunkCount = (batch + chunk - 1) / chunk
        let lanes = chunkCount >= parallel.threads ? parallel.threads : 1
        func typesOf(_ n: Int) -> [TensorType] { tensors.map { TensorType($0.dtype, static: [n] + $0.shape.dropFirst()) } }
        // Every plan a lane needs, made before any chunk runs (planning may use the pool).
        let sizes = Set([chunk, batch - (chunkCount - 1) * chunk])
        var lanePlans: [[Int: ExecutionPlan]] = Array(repeating: [:], count: lanes)
        for n in sizes {
            lanePlans[0][n] = try plan(for: typesOf(n), feeds: [:])
            for lane in 1..<max(lanes, 1) { lanePlans[lane][n] = try replicaPlan(lane, types: typesOf(n)) }
        }
        // The outputs, from the chunk plan's types.
        var outputs: [(pointer: UnsafeMutableRawPointer, rowBytes: Int, type: TensorType)] = []
        defer { for output in outputs { output.pointer.deallocate() } }
        let first = lanePlans[0][chunk]!
        for name in outputNames {
            let value = first.values[name]!
            guard let sizes = value.type.shape.staticSizes, let count = checkedElementCount(sizes),
                  let bytes = value.type.dtype.storageBytes(count: count) else {
                throw .invalidGraph("output '\(name)' of type \(value.type) cannot be assembled from chunks")
            }
            let rowBytes = bytes / chunk
            outputs.append((UnsafeMutableRawPointer.allocate(byteCount: max(rowBytes * batch, 1), alignment: 64), rowBytes,
                            TensorType(value.type.dtype, static: [batch] + sizes.dropFirst())))
        }
        let outputNames = self.outputNames
        let targets = outputs
        /// Runs one chunk on a lane's plans; `parts` view `tensors`, alive for this call.
        func run(_ index: Int, lane: Int, parallel: Parallel) throws(ExecutorError) {
            let start = index * chunk, n = min(chunk, batch - start)
            let parts = tensors.map { tensor in
                let buffer = tensor.buffer!, rowBytes = buffer.count / batch
                let view = TensorBuffer(unsafeBytes: buffer.baseAddress + start * rowBytes, count: n * rowBytes, release: nil)
                return try! Tensor(dtype: tensor.dtype, shape: [n] + tensor.shape.dropFirst(), contents: .bytes(view))
            }
            let plan = lanePlans[lane][n]!
            try plan.execute(inputs: parts, parallel: parallel)
            for (name, target) in zip(outputNames, targets) {
                let value = plan.values[name]!
                target.pointer.advanced(by: target.rowBytes * start)
                    .copyMemory(from: plan.pointer(value.storage, inputs: parts), byteCount: target.rowBytes * n)
            }
        }
        if lanes == 1 {
            BLAS.setThreadCount(options.threads)
            for index in 0..<chunkCount { try run(index, lane: 0, parallel: parallel) }
        } else {
            BLAS.setThreadCount(1)
            let failures = LaneFailures(lanes)
            let single = Parallel(threads: 1)
            parallel.forEachTask(chunkCount) { index, lane in
                guard !failures.any else { return }
                do throws(ExecutorError) { try run(index, lane: lane, parallel: single) } catch { failures.record(error, lane: lane) }
            }
            if let error = failures.first { throw error }
        }
        var results: [String: Tensor] = [:]
        for (name, output) in zip(outputNames, outputs) {
            let buffer = TensorBuffer(unsafeBytes: UnsafeRawPointer(output.pointer), count: output.rowBytes * batch) { $0.deallocate() }
            results[name] = try! Tensor(dtype: output.type.dtype, shape: output.type.shape.staticSizes!, contents: .bytes(buffer))
        }
        outputs.removeAll()   // now owned by the results
        return results
    }

    /// Lane `lane`'s own plan for these types (lane 0 uses the session's cache), for chunks running
    /// on several threads at once.
    private func replicaPlan(_ lane: Int, types: [TensorType]) throws(ExecutorError) -> ExecutionPlan {
        var list = replicaPlans[types] ?? []
        while list.count < lane { list.append(try planner.plan(inputTypes: types)) }
        if replicaPlans[types] == nil, replicaPlans.count >= 4 { replicaPlans.removeAll() }
        replicaPlans[types] = list
        return list[lane - 1]
    }

    /// Checks the feeds against the declared inputs and binds symbolic dims consistently.
    private func bind(_ feeds: [String: Tensor]) throws(ExecutorError) -> ([TensorType], [Tensor]) {
        let names = inputs.map(\.name)
        for name in feeds.keys.sorted() where !names.contains(name) {
            throw .unknownInput(name: name, expected: names)
        }
        var symbols: [String: (Int, String)] = [:]
        var types: [TensorType] = []
        var tensors: [Tensor] = []
        for info in inputs {
            guard let tensor = feeds[info.name] else { throw .missingInput(name: info.name) }
            if let (dtype, shape) = info.type?.tensorType {
                if let dtype, dtype != tensor.dtype {
                    throw .inputTypeMismatch(name: info.name, expected: dtype, actual: tensor.dtype)
                }
                if let shape {
                    guard shape.rank == tensor.shape.count else {
                        throw .inputShapeMismatch(name: info.name, expected: shape, actual: tensor.shape,
                                                  reason: "rank \(tensor.shape.count) instead of \(shape.rank)")
                    }
                    for (axis, (dim, size)) in zip(shape.dims, tensor.shape).enumerated() {
                        switch dim {
                        case .fixed(let want) where want != size:
                            throw .inputShapeMismatch(name: info.name, expected: shape, actual: tensor.shape,
                                                      reason: "axis \(axis) is \(size) instead of \(want)")
                        case .symbolic(let symbol):
                            if let (bound, source) = symbols[symbol], bound != size {
                                throw .inputShapeMismatch(
                                    name: info.name, expected: shape, actual: tensor.shape,
                                    reason: "axis \(axis) binds \(symbol) to \(size) but '\(source)' bound it to \(bound)")
                            }
                            symbols[symbol] = (size, info.name)
                        default: break
                        }
                    }
                }
            }
            guard tensor.buffer != nil else {
                throw .inputTypeMismatch(name: info.name, expected: .float32, actual: tensor.dtype)
            }
            tensors.append(Self.aligned(tensor))
            types.append(TensorType(tensor.dtype, static: tensor.shape))
        }
        return (types, tensors)
    }

    /// Whether a planning error means a shape depends on an input's value.
    private static func dependsOnValues(_ error: ExecutorError) -> Bool {
        switch error {
        case .node(let e): e.kind == .unresolved
        case .unresolvedShape: true
        default: false
        }
    }

    /// The plan for these input types, specialized on the values of `valueInputs`. When planning finds
    /// a shape that depends on input values, the small inputs become value inputs and planning is retried.
    private func plan(for types: [TensorType], feeds: [String: Tensor]) throws(ExecutorError) -> ExecutionPlan {
        while true {
            var values: [String: [UInt8]] = [:]
            var constants: [String: Tensor] = [:]
            for name in valueInputs {
                guard let tensor = feeds[name], let buffer = tensor.buffer else { continue }
                values[name] = Array(buffer.bytes)
                constants[name] = tensor
            }
            let key = PlanKey(types: types, values: values)
            if let plan = plans[key] { return plan }
            do {
                let plan = try planner.plan(inputTypes: types, inputValues: constants)
                return remember(plan, key)
            } catch {
                let candidates = inputs.map(\.name).filter { name in
                    !valueInputs.contains(name) && (feeds[name].map { $0.elementCount <= Self.valueInputLimit } ?? false)
                }
                guard Self.dependsOnValues(error), !candidates.isEmpty else { throw error }
                valueInputs.formUnion(candidates)
            }
        }
    }

    private func remember(_ plan: ExecutionPlan, _ key: PlanKey) -> ExecutionPlan {
        plans[key] = plan
        planOrder.append(key)
        if planOrder.count > 4 { plans[planOrder.removeFirst()] = nil }
        return plan
    }

    /// The tensor itself when its bytes are aligned for its element type, else an aligned copy
    /// (kernels read elements through typed pointers).
    static func aligned(_ tensor: Tensor) -> Tensor {
        let alignment = max(1, (tensor.dtype.bitWidth ?? 8) / 8)
        guard let buffer = tensor.buffer, Int(bitPattern: buffer.baseAddress) % alignment != 0 else { return tensor }
        return (try? Tensor(dtype: tensor.dtype, shape: tensor.shape, contents: .bytes(TensorBuffer(copying: buffer.bytes)))) ?? tensor
    }
}

/// The first error of chunks running on several threads; each lane writes only its own slot.
private final class LaneFailures: @unchecked Sendable {
    private let slots: UnsafeMutablePointer<ExecutorError?>
    private let count: Int
    private let flag = Atomic<Bool>(false)

    init(_ count: Int) {
        self.count = count
        slots = .allocate(capacity: count)
        slots.initialize(repeating: nil, count: count)
    }

    deinit {
        slots.deinitialize(count: count)
        slots.deallocate()
    }

    var any: Bool { flag.load(ordering: .relaxed) }

    func record(_ error: ExecutorError, lane: Int) {
        if slots[lane] == nil { slots[lane] = error }
        flag.store(true, ordering: .releasing)
    }

    /// After the lanes have finished.
    var first: ExecutorError? { (0..<count).lazy.compactMap { self.slots[$0] }.first }
}
