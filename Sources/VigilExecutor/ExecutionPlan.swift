import VigilBLAS
import VigilIR
import VigilOps

/// Where a value's bytes live while a plan runs.
enum Storage: Equatable {
    /// A constant: an initializer or a value folded while planning.
    case constant(Int)
    /// A caller-supplied graph input, by position in the session's input order.
    case input(Int)
    /// A reusable arena slot.
    case slot(Int)
    /// Bytes from `offset` on in a slot: an input of a Concat written straight into its place in the
    /// Concat's output (``ArenaLayout``).
    case view(slot: Int, offset: Int)

    /// The arena slot holding the value (a slot or a view into one), else nil.
    var arenaSlot: Int? {
        switch self {
        case .slot(let s), .view(let s, _): s
        case .constant, .input: nil
        }
    }
}

/// One scheduled node.
struct Step {
    let label: String
    let opType: String
    let outputNames: [String]
    let inputs: [Storage?]
    let outputs: [Storage]
    let outputTypes: [TensorType]
    let kernel: Kernel

    /// Whether every output is empty (a zero-sized dim): there is nothing to compute.
    var producesNothing: Bool { outputTypes.allSatisfy { $0.shape.staticSizes?.contains(0) ?? false } }
}

/// A model lowered for one set of input shapes: the schedule, the constants, and an arena in which
/// values not alive at the same time share bytes.
final class ExecutionPlan: @unchecked Sendable {
    let constants: [Tensor]
    let steps: [Step]
    /// Per arena buffer (``Storage/slot(_:)``): its bytes and its offset in the arena.
    let slotBytes: [Int]
    let slotOffsets: [Int]
    /// Bytes of the arena: the end of its highest buffer.
    let arenaSize: Int
    let scratchBytes: Int
    /// Every value the plan knows, by name: its static type and storage.
    let values: [String: (type: TensorType, storage: Storage)]
    /// Folded node outputs (constants), for capture.
    let foldedOutputs: [String]

    private var arena: [UnsafeMutableRawPointer] = []
    private var scratch: UnsafeMutableRawPointer?
    /// What `arena` and `scratch` point into, released with the plan.
    private var region: LargePageRegion?
    private var allocations: [UnsafeMutableRawPointer] = []
    /// Arena plus scratch bytes from which they share one ``LargePageRegion``.
    static let largeArenaBytes = 4 << 20

    init(constants: [Tensor], steps: [Step], slotBytes: [Int], slotOffsets: [Int], arenaSize: Int, scratchBytes: Int,
         values: [String: (type: TensorType, storage: Storage)], foldedOutputs: [String]) {
        self.constants = constants
        self.steps = steps
        self.slotBytes = slotBytes
        self.slotOffsets = slotOffsets
        self.arenaSize = arenaSize
        self.scratchBytes = scratchBytes
        self.values = values
        self.foldedOutputs = foldedOutputs
    }

    deinit {
        for allocation in allocations { allocation.deallocate() }
    }

    /// Bytes of arena plus scratch memory the plan uses while running.
    var arenaBytes: Int { arenaSize + scratchBytes }

    /// Allocates the arena on first use: one large-page region for arena and scratch from
    /// ``largeArenaBytes`` on, else one allocation each. Under AddressSanitizer every buffer gets an
    /// allocation of its own (no sharing), so that its redzones catch a kernel writing past its output.
    func prepareArena() {
        guard arena.isEmpty && !slotBytes.isEmpty || (scratch == nil && scratchBytes > 0) else { return }
        let scratchOffset = (arenaSize + 63) / 64 * 64
        if !LargePageRegion.enabled {
            arena = slotBytes.map { UnsafeMutableRawPointer.allocate(byteCount: max($0, 1), alignment: 64) }
            allocations = arena
        } else if scratchOffset + scratchBytes >= Self.largeArenaBytes, let region = LargePageRegion(bytes: scratchOffset + scratchBytes) {
            self.region = region
            arena = slotOffsets.map { region.base + $0 }
            if scratchBytes > 0 { scratch = region.base + scratchOffset }
            return
        } else {
            let base = UnsafeMutableRawPointer.allocate(byteCount: max(arenaSize, 1), alignment: 64)
            allocations = [base]
            arena = slotOffsets.map { base + $0 }
        }
        if scratchBytes > 0 {
            scratch = UnsafeMutableRawPointer.allocate(byteCount: scratchBytes, alignment: 64)
            allocations.append(scratch!)
        }
    }

    /// The address of a value in storage, given the caller's input tensors.
    func pointer(_ storage: Storage, inputs: [Tensor]) -> UnsafeMutableRawPointer {
        switch storage {
        case .constant(let i): UnsafeMutableRawPointer(mutating: constants[i].buffer!.baseAddress)
        case .input(let i): UnsafeMutableRawPointer(mutating: inputs[i].buffer!.baseAddress)
        case .slot(let i): arena[i]
        case .view(let i, let offset): arena[i] + offset
        }
    }

    /// Runs every step, calling `observe` after each with the step index. Subnormal floats are flushed to
    /// zero while the steps run (the pool's workers always flush them): arithmetic on them is tens of
    /// times slower, and results differ by less than the smallest normal float, 1.2e-38.
    func execute(inputs: [Tensor], parallel: Parallel, beforeStep: (() -> Void)? = nil, observe: ((Int) -> Void)? = nil) throws(ExecutorError) {
        let floatMode = KernelFeatures.flushSubnormals()
        defer { KernelFeatures.restoreFloatMode(floatMode) }
        prepareArena()
        for (index, step) in steps.enumerated() {
            guard let run = step.kernel.run, !step.producesNothing else { observe?(index); continue }
            beforeStep?()
            let io = KernelIO(
                inputs: step.inputs.map { $0.map { UnsafeRawPointer(pointer($0, inputs: inputs)) } },
                outputs: step.outputs.map { pointer($0, inputs: inputs) },
                scratch: scratch)
            do { try run(io, parallel) } catch { throw .node(error) }
            observe?(index)
        }
    }

    /// Copies a value out as a tensor.
    func tensor(_ storage: Storage, type: TensorType, inputs: [Tensor]) -> Tensor {
        switch storage {
        case .constant(let i): return reshapedTensor(constants[i], type)
        case .input(let i): return reshapedTensor(inputs[i], type)
        case .slot, .view:
            let sizes = type.shape.staticSizes!
            let bytes = type.dtype.storageBytes(count: checkedElementCount(sizes)!)!
            let buffer = TensorBuffer(copying: UnsafeRawBufferPointer(start: pointer(storage, inputs: inputs), count: bytes))
            return try! Tensor(dtype: type.dtype, shape: sizes, contents: .bytes(buffer))
        }
    }

    private func reshapedTensor(_ tensor: Tensor, _ type: TensorType) -> Tensor {
        let sizes = type.shape.staticSizes!
        if tensor.shape == sizes && tensor.dtype == type.dtype { return tensor }
        return try! Tensor(dtype: type.dtype, shape: sizes, contents: tensor.contents)
    }
}
