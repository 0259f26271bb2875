import VigilBLAS
import VigilIR
import VigilOps

/// Depthwise 2-D convolutions (group = channels, any depth multiplier) on Vigil's vectorized kernel:
/// output planes are cut into about four chunks per thread (of whole groups of planes when the kernel
/// computes several at once), each claimed by a thread that pads its planes into its own workspace; the
/// bias, residual and activation are applied as rows are written.
extension ConvolutionKernels {
    static func vectorDepthwise(_ k: KernelContext, attrs: Convolution.ConvAttributes, activation: FusedActivation?,
                                residualInput: Int?) -> Kernel {
        let xs = k.inputShape(0), ws = k.inputShape(1), ys = k.outputShape(0), geo = attrs.geometry
        var inKernel = VectorActivation.none
        var after = activation
        if let vector = VectorActivation(activation?.vectorForm) {
            inKernel = vector
            after = nil
        }
        let conv = DepthwiseConvolution(
            channels: xs[1], height: xs[2], width: xs[3], outputChannels: ws[0], outputHeight: ys[2], outputWidth: ys[3],
            kernel: (ws[2], ws[3]), strides: (geo.strides[0], geo.strides[1]), dilations: (geo.dilations[0], geo.dilations[1]),
            padTop: geo.padsBegin[0], padLeft: geo.padsBegin[1], activation: inKernel)
        let planes = ys[0] * ys[1], workspace = conv.workspaceCount
        let chunks = k.parallelism == 1 ? 1 : min(conv.groups(images: ys[0]), 4 * k.parallelism)
        let slots = min(k.parallelism, chunks)
        let epilogue = FusedKernels.Epilogue(activation: after, residualInput: nil, count: planes * ys[2] * ys[3])
        let hasBias = k.op.hasInput(2)
        return Kernel(scratchBytes: slots * workspace * 4) { io, par in
            let x = io.input(0, as: Float.self), w = io.input(1, as: Float.self), y = io.output(0, as: Float.self)
            let bias = hasBias ? io.input(2, as: Float.self) : nil
            let residual = residualInput.map { io.input($0, as: Float.self) }
            let scratch = io.scratch!.assumingMemoryBound(to: Float.self)
            par.forEachTask(chunks) { chunk, slot in
                let range = conv.planes(chunk: chunk, of: chunks, images: ys[0])
                conv.compute(input: x, weights: w, bias: bias, residual: residual, output: y, planes: range, workspace: scratch + slot * workspace)
            }
            epilogue.apply(io, par)
        }
    }
}
