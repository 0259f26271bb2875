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

/// A model lowered for one set of input shapes: the schedule, the constants, and an arena whose
/// slots are reused once the values in them are dead.
final class ExecutionPlan: @unchecked Sendable {
    let constants: [Tensor]
    let steps: [Step]
    let slotBytes: [Int]
    let scratchBytes: Int
    /// Every value the plan knows, by name: its static type and storage.
    let values: [String: (type: TensorType, storage: Storage)]
    /// Folded node outputs (constants), for capture.
    let foldedOutputs: [String]

    private var arena: [UnsafeMutableRawPointer] = []
    private var scratch: UnsafeMutableRawPointer?
    /// The memory behind the arena and scratch when it is one large-page region (``largeArenaBytes`` or
    /// more); smaller arenas are allocated slot by slot.
    private var region: LargePageRegion?
    /// Arena plus scratch bytes from which they share one ``LargePageRegion``.
    static let largeArenaBytes = 4 << 20

    init(constants: [Tensor], steps: [Step], slotBytes: [Int], scratchBytes: Int,
         values: [String: (type: TensorType, storage: Storage)], foldedOutputs: [String]) {
        self.constants = constants
        self.steps = steps
        self.slotBytes = slotBytes
        self.scratchBytes = scratchBytes
        self.values = values
        self.foldedOutputs = foldedOutputs
    }

    deinit {
        guard region == nil else { return }
        for slot in arena { slot.deallocate() }
        scratch?.deallocate()
    }

    /// Bytes of arena plus scratch memory the plan uses while running.
    var arenaBytes: Int { slotBytes.reduce(0, +) + scratchBytes }

    /// Allocates the arena on first use.
    func prepareArena() {
        guard arena.isEmpty && !slotBytes.isEmpty || (scratch == nil && scratchBytes > 0) else { return }
        let (offsets, total) = LargePageRegion.layout(slotBytes + [scratchBytes])
        if LargePageRegion.enabled && arena.isEmpty && scratch == nil && total >= Self.largeArenaBytes, let region = LargePageRegion(bytes: total) {
            self.region = region
            arena = slotBytes.indices.map { region.base + offsets[$0] }
            if scratchBytes > 0 { scratch = region.base + offsets[slotBytes.count] }
            return
        }
        if arena.isEmpty {
            arena = slotBytes.map { UnsafeMutableRawPointer.allocate(byteCount: max($0, 1), alignment: 64) }
        }
        if scratch == nil && scratchBytes > 0 {
            scratch = UnsafeMutableRawPointer.allocate(byteCount: scratchBytes, alignment: 64)
        }
    }

    /// The address of a value in storage, given the caller's input tensors.
    func pointer(_ storage: Storage, inputs: [Tensor]) -> UnsafeMutableRawPointer {
        switch storage {
        case .constant(let i): UnsafeMutableRawPointer(mutating: constants[i].buffer!.baseAddress)
        case .input(let i): UnsafeMutableRawPointer(mutating: inputs[i].buffer!.baseAddress)
        case .slot(let i): arena[i]
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
        case .slot:
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
