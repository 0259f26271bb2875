import CVigilKernels

/// A 3×3, stride-1, undilated 2-D convolution (one group) on Vigil's Winograd F(2×2, 3×3) kernel.
///
/// Each 2×2 output tile is computed from its 4×4 input patch: the patch and the weights are transformed
/// (`Bᵀ d B`, `G g Gᵀ`), multiplied elementwise over channels — 16 GEMMs, 16 multiply-adds per output
/// tile and channel pair instead of 36: on the AVX2 micro-kernel, or on the packed GEMM's AVX-512 tile
/// where the kernels use AVX-512 when the weights are packed — and transformed back (`Aᵀ m A`), with the
/// bias, residual and activation applied as the tile is written. Rounding differs
/// from the direct convolution's by a few units in the last place of the sums (against a double-precision
/// reference its error is smaller: the 16 sums run over channels only, not channels × taps). Weights must
/// be finite (callers use the direct kernel otherwise); inputs holding NaN or infinity are handled.
public final class WinogradConvolution: @unchecked Sendable {
    /// Output channels and channels.
    public let outputChannels: Int, channels: Int
    /// Weight panels of ``panelRows`` output channels.
    public let panelCount: Int
    /// Whether the products run on the AVX-512 GEMM (decided when the weights are packed, in their layout).
    public let wide: Bool
    private let packed: UnsafeMutablePointer<Float>

    /// Transforms and packs `weights` (row-major, output channels × channels × 3 × 3).
    public init(weights: UnsafePointer<Float>, outputChannels: Int, channels: Int) {
        self.outputChannels = outputChannels
        self.channels = channels
        wide = Self.usesAVX512
        let m = Int64(outputChannels), c = Int64(channels), w: Int32 = wide ? 1 : 0
        panelCount = (outputChannels + Self.panelRows - 1) / Self.panelRows
        packed = .allocate(capacity: max(vigil_winograd_packed_weight_count(m, c, w), 1))
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: max(vigil_winograd_pack_scratch_count(m, c, w), 1))
        defer { scratch.deallocate() }
        vigil_winograd_pack_weights(weights, m, c, w, packed, scratch)
    }

    deinit { packed.deallocate() }

    /// Whether convolutions packed now run on the AVX-512 form.
    static var usesAVX512: Bool { KernelFeatures.useAVX512 }

    /// Output channels per weight panel (the unit in which ``compute`` takes them) for convolutions
    /// packed now: 12 (two of the GEMM's 6-row panels) on AVX-512, ``PackedConvolution/panelRows`` else.
    public static var panelRows: Int { Int(vigil_winograd_panel_rows(usesAVX512 ? 1 : 0)) }

    /// Floats of workspace one thread needs for a convolution over `channels` channels, packed now.
    public static func workspaceCount(channels: Int) -> Int { vigil_winograd_workspace_count(Int64(channels), usesAVX512 ? 1 : 0) }

    /// Output tiles per unit of work (the tiles one call transforms at once).
    public static let tileBlock = PackedConvolution.pixelBlock

    /// Computes output `tiles` (2×2 tiles numbered image-major, row-major within an image: ⌈height / 2⌉ ×
    /// ⌈width / 2⌉ per image; height and width even unless ``wide``, whose last tile row or column may hang over the
    /// output by one) for weight `panels`, reading a
    /// zero-padded input whose planes are `layout.paddedWidth` = 2 ⌈width / 2⌉ + 2 wide and
    /// 2 ⌈height / 2⌉ + 2 high. `residual`, when given, is laid out like `output`.
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
        problem.wide = wide ? 1 : 0
        vigil_winograd_compute(&problem, input, packed, bias, residual, output, Int64(tiles.lowerBound), Int64(tiles.upperBound),
                               Int64(panels.lowerBound), Int64(panels.upperBound), workspace)
    }
}
