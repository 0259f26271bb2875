import VigilIR
import VigilOps

/// Kernels of Vigil's fused ops (domain `ai.vigil`): FusedConv and FusedGemm reuse the Conv and Gemm
/// kernels, which apply the residual and the activation as they write the output.
enum FusedKernels {
    static var builders: [String: KernelBuilder] {
        [
            "\(FusedOps.domain)::FusedConv": { k in
                try ConvolutionKernels.buildConv(k, activation: try FusedActivation(fusedNode: k.op), residualInput: k.op.hasInput(3) ? 3 : nil)
            },
            "\(FusedOps.domain)::FusedGemm": { k in try LinearAlgebraKernels.buildGemm(k, activation: try FusedActivation(fusedNode: k.op)) },
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
            let f = activation?.function
            par.forEach(count, grain: 16384) { r in
                if let z { for i in r { y[i] += z[i] } }
                if let f { for i in r { y[i] = f(y[i]) } }
            }
        }
    }
}
