import CVigilKernels

/// A 3×3 convolution, stride 1 or 2, computed straight from the padded input planes on AVX-512
/// (`include/vigil_direct_convolution.h`), without gathering its columns: for layers with few output
/// channels, or few input channels, the gathering the packed GEMM does costs as much as the products.
/// The weights are repacked once, into blocks of ``block`` output channels; callers split the output
/// rows and blocks across threads. Only where ``KernelFeatures/useAVX512`` holds.
public final class DirectConvolution: @unchecked Sendable {
    /// Input channels, padded plane height and width; output channels, height and width.
    public let channels: Int, paddedHeight: Int, paddedWidth: Int, outputChannels: Int, outputHeight: Int, outputWidth: Int
    private let packed: UnsafeMutablePointer<Float>
    private let shape: vigil_direct_convolution

    /// Repacks `weights` (outputChannels × channels × 3 × 3); `stride` (1 or 2) applies down and across.
    public init(weights: UnsafePointer<Float>, channels: Int, paddedHeight: Int, paddedWidth: Int, outputChannels: Int,
                outputHeight: Int, outputWidth: Int, stride: Int = 1) {
        precondition(stride == 1 || stride == 2, "DirectConvolution: stride \(stride)")
        (self.channels, self.paddedHeight, self.paddedWidth) = (channels, paddedHeight, paddedWidth)
        (self.outputChannels, self.outputHeight, self.outputWidth) = (outputChannels, outputHeight, outputWidth)
        shape = vigil_direct_convolution(c: Int64(channels), padded_h: Int64(paddedHeight), padded_w: Int64(paddedWidth),
                                         m: Int64(outputChannels), out_h: Int64(outputHeight), out_w: Int64(outputWidth), stride: Int64(stride),
                                         act: VectorActivation.none.cValue)
        var p = shape
        packed = .allocate(capacity: max(1, vigil_direct_convolution_packed_count(&p)))
        vigil_direct_convolution_pack(&p, weights, packed)
    }

    deinit { packed.deallocate() }

    /// Output channels per block: 8, or 16 on planes at most 16 wide.
    public static func block(outputWidth: Int) -> Int {
        var p = vigil_direct_convolution()
        p.out_w = Int64(outputWidth)
        return Int(vigil_direct_convolution_block(&p))
    }

    /// Blocks of output channels.
    public var blocks: Int {
        let b = Self.block(outputWidth: outputWidth)
        return (outputChannels + b - 1) / b
    }

    /// Output `rows` of the output channel `blocks` of one image, `activation(conv + bias + residual)`:
    /// `input` is its padded planes, `output` and `residual` its output planes; `bias` and `residual`
    /// may be `nil`.
    public func compute(input: UnsafePointer<Float>, bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?,
                        output: UnsafeMutablePointer<Float>, activation: VectorActivation, blocks: Range<Int>, rows: Range<Int>) {
        var p = shape
        p.act = activation.cValue
        vigil_direct_convolution_compute(&p, input, packed, bias, residual, output, Int64(blocks.lowerBound), Int64(blocks.upperBound),
                                         Int64(rows.lowerBound), Int64(rows.upperBound))
    }
}
