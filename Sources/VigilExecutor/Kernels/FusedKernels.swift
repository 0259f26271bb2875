import VigilBLAS
import VigilIR
import VigilOps

/// Kernels of Vigil's fused ops (domain `ai.vigil`): FusedConv, FusedGemm and FusedBatchNormalization
/// reuse the Conv, Gemm and BatchNormalization kernels, which apply the residual and the activation as
/// they write the output.
enum FusedKernels {
    static var builders: [String: KernelBuilder] {
        [
            "\(FusedOps.domain)::FusedConv": { k in
                try ConvolutionKernels.buildConv(k, activation: try FusedActivation(fusedNode: k.op), residualInput: k.op.hasInput(3) ? 3 : nil)
            },
            "\(FusedOps.domain)::FusedGemm": { k in try LinearAlgebraKernels.buildGemm(k, activation: try FusedActivation(fusedNode: k.op)) },
            "\(FusedOps.domain)::FusedBatchNormalization": { k in
                try NormalizationKernels.buildBatchNorm(k, activation: try FusedActivation(fusedNode: k.op))
            },
        ]
    }

    /// What remains to do on a kernel's finished output: add a residual input, then apply an activation,
    /// in one pass. Does nothing when there is neither.
    struct Epilogue {
        let activation: FusedActivation?
        let residualInput: Int?
        let count: Int

        func apply(_ io: KernelIO, _ par: Parallel) {
            guard activation != nil || residualInput != nil else { return }
            let y = io.output(0, as: Float.self)
            let z = residualInput.map { io.input($0, as: Float.self) }
            let vector = activation.flatMap { VectorActivation($0.vectorForm) }
            let f = vector == nil ? activation?.function : nil
            par.forEach(count, grain: 16384) { r in
                if let z { for i in r { y[i] += z[i] } }
                if let vector { vector.apply(y + r.lowerBound, y + r.lowerBound, count: r.count) }
                if let f { for i in r { y[i] = f(y[i]) } }
            }
        }
    }
}

/// The instruction sets the vectorized kernels use (tests switch AVX-512 off to check the AVX2 forms).
enum InstructionSets {
    static var avx512Available: Bool { KernelFeatures.avx512Available }
    static var useAVX512: Bool {
        get { KernelFeatures.useAVX512 }
        set { KernelFeatures.useAVX512 = newValue }
    }
}

extension VectorActivation {
    /// The vectorized kernels' form of an activation's closed form; `nil` when there is none or the CPU
    /// does not run the vectorized kernels. `nil` input: no activation.
    init?(_ form: VectorForm?) {
        guard VectorActivation.isAvailable, let form else { return nil }
        switch form {
        case .linear(let l): self = .linear(slope: l.slope, low: l.low, high: l.high)
        case .sigmoid: self.init(.sigmoid)
        case .swish(let alpha): self.init(.swish, alpha)
        case .hardSigmoid(let alpha, let beta): self.init(.hardSigmoid, alpha, beta)
        case .hardSwish: self.init(.hardSwish)
        case .tanh: self.init(.tanh)
        case .gelu(let tanh): self.init(tanh ? .geluTanh : .gelu)
        }
    }
}
