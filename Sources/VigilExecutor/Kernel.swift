import VigilIR
import VigilOps

/// The memory one kernel invocation reads and writes.
struct KernelIO {
    /// Input pointers by slot; `nil` for omitted optional inputs.
    let inputs: [UnsafeRawPointer?]
    /// Output pointers by slot.
    let outputs: [UnsafeMutableRawPointer]
    /// Scratch memory of the size the kernel asked for (shared by all kernels of a plan).
    let scratch: UnsafeMutableRawPointer?

    func input<T>(_ i: Int, as: T.Type) -> UnsafePointer<T> { inputs[i]!.assumingMemoryBound(to: T.self) }
    func output<T>(_ i: Int, as: T.Type) -> UnsafeMutablePointer<T> { outputs[i].assumingMemoryBound(to: T.self) }
}

/// A node lowered for fixed input shapes: everything that depends only on shapes, attributes and
/// constant inputs is worked out once, when the kernel is built.
struct Kernel {
    /// Bytes of scratch memory `run` needs.
    var scratchBytes = 0
    /// When set, output 0 shares the storage of this input (a view: Reshape, Identity, …).
    var aliasInput: Int?
    /// Whether output 0 may be written over input 0 (same size, elementwise).
    var inPlace = false
    /// Computes the outputs; `nil` for pure views.
    var run: ((KernelIO, Parallel) throws(OpError) -> Void)?
    /// Floating-point operations of one run (2 per multiply-add) for the ops that count them (Conv, Gemm,
    /// MatMul), else 0: the profile reports GFLOP/s from them.
    var flops = 0

    init(scratchBytes: Int = 0, inPlace: Bool = false, run: @escaping (KernelIO, Parallel) throws(OpError) -> Void) {
        self.scratchBytes = scratchBytes
        self.inPlace = inPlace
        self.run = run
    }

    /// A view of input `index` under the output's shape.
    static func alias(_ index: Int, then run: ((KernelIO, Parallel) throws(OpError) -> Void)? = nil) -> Kernel {
        var k = Kernel { _, _ throws(OpError) in }
        k.aliasInput = index
        k.run = run
        return k
    }
}

/// What a kernel builder knows: the op context (static input types, constant inputs) and the
/// static output types.
struct KernelContext {
    let op: OpContext
    let outputTypes: [TensorType]
    /// Threads the kernel will run on (sizes per-thread workspaces).
    var parallelism = 1
    /// Whether convolutions may use the Winograd kernel.
    var winograd = true

    var node: Node { op.node }

    /// Static sizes of input `i` (inputs are static when kernels are built).
    func inputShape(_ i: Int) -> [Int] { op.inputTypes[i]?.shape.staticSizes ?? [] }
    func inputDType(_ i: Int) -> DType { op.inputTypes[i]!.dtype }
    func outputShape(_ i: Int) -> [Int] { outputTypes[i].shape.staticSizes ?? [] }

    func error(_ message: String, subject: String? = nil) -> OpError { op.error(message, subject: subject) }

    /// Throws unless every input present has one of the dtypes the kernel implements.
    func requireDTypes(_ allowed: Set<DType>, inputs: [Int]? = nil) throws(OpError) {
        for i in inputs ?? Array(op.inputTypes.indices) {
            guard let t = op.inputTypes[i] else { continue }
            guard allowed.contains(t.dtype) else {
                throw error("the CPU kernel does not support \(t.dtype) for \(op.inputLabel(i))", subject: op.inputLabel(i))
            }
        }
    }

    /// `body` applied to the constant float32 value of input `i` in place (a copy only if it is misaligned),
    /// if it is constant: for weights packed at build time, without a transient copy of them.
    func withConstantFloats<R>(_ i: Int, _ body: (UnsafePointer<Float>) -> R) -> R? {
        guard let t = op.value(i), t.dtype == .float32, let buffer = t.buffer else { return nil }
        guard Int(bitPattern: buffer.baseAddress) % MemoryLayout<Float>.alignment == 0 else {
            return t.scalars(as: Float.self).withUnsafeBufferPointer { body($0.baseAddress!) }
        }
        return withExtendedLifetime(buffer) { body(buffer.baseAddress.assumingMemoryBound(to: Float.self)) }
    }
}

typealias KernelBuilder = @Sendable (KernelContext) throws -> Kernel

/// Maps ops to kernel builders, by qualified name (`OpType` in the default domain, `domain::OpType`
/// elsewhere). An op whose descriptor has an activation trait and no kernel of its own runs the
/// generic unary kernel. Two kernels for one op stop the process at start-up (a test builds the table).
enum KernelRegistry {
    static let builders: [String: KernelBuilder] = {
        var table: [String: KernelBuilder] = [:]
        for family in [
            ElementwiseKernels.builders, LinearAlgebraKernels.builders, ConvolutionKernels.builders,
            PoolingKernels.builders, NormalizationKernels.builders, ReductionKernels.builders,
            ShapeKernels.builders, ResamplingKernels.builders, IndexingKernels.builders, EinsumKernels.builders, FusedKernels.builders,
            QuantizationKernels.builders, AttentionKernels.builders,
        ] {
            table.merge(family) { _, _ in preconditionFailure("two kernels are registered for one op") }
        }
        return table
    }()

    /// Every op with a kernel of its own, by qualified name.
    static var opsWithKernels: Set<String> { Set(builders.keys) }

    /// The builder for a node's op, or `nil` when the executor cannot run it.
    static func builder(for node: Node, descriptor: OpDescriptor?) -> KernelBuilder? {
        if let builder = builders[Domain.qualified(node.domain, node.opType)] { return builder }
        if descriptor?.traits.activation != nil { return { k in try ElementwiseKernels.buildUnary(k) } }
        return nil
    }
}

/// Row-major strides of a shape.
func contiguousStrides(_ shape: [Int]) -> [Int] {
    var strides = [Int](repeating: 1, count: shape.count)
    var s = 1
    for i in stride(from: shape.count - 1, through: 0, by: -1) {
        strides[i] = s
        s *= shape[i]
    }
    return strides
}

/// Bytes per element of a fixed-size dtype the executor handles.
func elementSize(_ dtype: DType) -> Int { (dtype.bitWidth ?? 8) / 8 }
