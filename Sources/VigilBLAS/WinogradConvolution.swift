import CVigilKernels

/// A 3×3, stride-1, undilated 2-D convolution (one group) on Vigil's Winograd F(2×2, 3×3) kernel.
///
/// Each 2×2 output tile is computed from its 4×4 input patch: the patch and the weights are transformed
/// (`Bᵀ d B`, `G g Gᵀ`), multiplied elementwise over channels — 16 GEMMs on the packed kernel's
/// micro-kernel, 16 multiply-adds per output tile and channel pair instead of 36 — and transformed back
/// (`Aᵀ m A`), with the bias, residual and activation applied as the tile is written. Rounding differs
/// from the direct convolution's by a few units in the last place of the sums (against a double-precision
/// reference its error is smaller: the 16 sums run over channels only, not channels × taps). Weights must
/// be finite (callers use the direct kernel otherwise); inputs holding NaN or infinity are handled.
public final class WinogradConvolution: @unchecked Sendable {
    /// Output channels and channels.
    public let outputChannels: Int, channels: Int
    /// Weight panels of ``PackedConvolution/panelRows`` output channels.
    public let panelCount: Int
    private let packed: UnsafeMutablePointer<Float>

    /// Transforms and packs `weights` (row-major, output channels × channels × 3 × 3).
    public init(weights: UnsafePointer<Float>, outputChannels: Int, channels: Int) {
        self.outputChannels = outputChannels
        self.channels = channels
        self.panelCount = (outputChannels + PackedConvolution.panelRows - 1) / PackedConvolution.panelRows
        packed = .allocate(capacity: max(vigil_winograd_packed_weight_count(Int64(outputChannels), Int64(channels)), 1))
        vigil_winograd_pack_weights(weights, Int64(outputChannels), Int64(channels), packed)
    }

    deinit { packed.deallocate() }

    /// Floats of workspace one thread needs for a convolution over `channels` channels.
    public static func workspaceCount(channels: Int) -> Int { vigil_winograd_workspace_count(Int64(channels)) }

    /// Output tiles per unit of work (the tiles one call transforms at once).
    public static let tileBlock = PackedConvolution.pixelBlock

    /// Computes output `tiles` (2×2 tiles numbered image-major, row-major within an image; the output
    /// height and width are even) for weight `panels`, reading a zero-padded input whose planes are
    /// `layout.paddedWidth` = output width + 2 wide. `residual`, when given, is laid out like `output`.
    /// `weights` are the untransformed ones: blocks of tiles whose input holds NaN or infinity are computed
    /// from them by the definition, so that a non-finite value reaches only the outputs whose window holds it.
    public func compute(
        input: UnsafePointer<Float>, weights: UnsafePointer<Float>, layout: PackedConvolution.Layout, inputChannelStride: Int,
        bias: UnsafePointer<Float>?,
        residual: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>, activation: EpilogueActivation, tiles: Range<Int>,
        panels: Range<Int>, workspace: UnsafeMutablePointer<Float>
    ) {
        var problem = vigil_winograd_problem()
        problem.c = Int64(channels)
        problem.m = Int64(outputChannels)
        problem.in_w = Int64(layout.paddedWidth)
        problem.in_channel_stride = Int64(inputChannelStride)
        problem.in_image_stride = Int64(layout.inputImageStride)
        problem.out_h = Int64(layout.outputHeight)
        problem.out_w = Int64(layout.outputWidth)
        problem.out_channel_stride = Int64(layout.outputChannelStride)
        problem.out_image_stride = Int64(layout.outputImageStride)
        problem.activation = activation.cValue
        problem.weights = weights
        vigil_winograd_compute(&problem, input, packed, bias, residual, output, Int64(tiles.lowerBound), Int64(tiles.upperBound),
                               Int64(panels.lowerBound), Int64(panels.upperBound), workspace)
    }
}
