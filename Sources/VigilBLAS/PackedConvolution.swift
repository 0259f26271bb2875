import CVigilKernels

/// The activation a convolution kernel applies to each output element as it writes it:
/// `y = clamp(x < 0 ? slope·x : x, low, high)` (NaN stays NaN), or nothing. Relu is
/// (1, 0, ∞), LeakyRelu (α, −∞, ∞), Clip (1, min, max).
public struct EpilogueActivation: Sendable, Equatable {
    public var slope: Float, low: Float, high: Float
    let active: Bool

    public init(slope: Float, low: Float, high: Float) {
        (self.slope, self.low, self.high, active) = (slope, low, high, true)
    }

    private init() { (slope, low, high, active) = (1, -.infinity, .infinity, false) }

    /// No activation.
    public static let none = EpilogueActivation()

    /// The C kernels' form.
    var cValue: vigil_activation { vigil_activation(active: active ? 1 : 0, slope: slope, low: low, high: high) }
}

/// A 2-D convolution (one group) whose weights were packed once for Vigil's AVX2 + FMA kernel.
///
/// The kernel computes `y = act(W · col(x) + bias + residual)` without materializing `col(x)`: it reads
/// pixels straight from a zero-padded input. Callers pad the input (``padPlanes(_:into:planes:height:width:top:bottom:left:right:)``),
/// split pixels or weight panels across threads, and give each thread its own workspace.
public final class PackedConvolution: @unchecked Sendable {
    /// Whether this CPU runs the kernel (x86-64 with AVX2 and FMA, checked at run time).
    public static let isAvailable = vigil_kernels_available() != 0
    /// Output channels per weight panel.
    public static let panelRows = Int(VIGIL_CONV_MR)
    /// Output pixels per unit of work (the pixels one call packs at once).
    public static let pixelBlock = Int(VIGIL_CONV_NC)

    /// Output channels (GEMM rows) and the reduction length (channels × kernel taps).
    public let outputChannels: Int, reductionLength: Int
    /// Weight panels of ``panelRows`` output channels.
    public let panelCount: Int
    private let packed: UnsafeMutablePointer<Float>
    private let rowOffsets: UnsafeMutablePointer<Int64>

    /// Packs `weights` (row-major, output channels × channels × kernel height × kernel width).
    ///
    /// - Parameters:
    ///   - paddedWidth: width of the padded input planes the kernel will read.
    ///   - channelStride: floats between the padded input's channels.
    public init(
        weights: UnsafePointer<Float>, outputChannels: Int, channels: Int, kernel: (height: Int, width: Int),
        dilations: (height: Int, width: Int), paddedWidth: Int, channelStride: Int
    ) {
        let k = channels * kernel.height * kernel.width
        self.outputChannels = outputChannels
        self.reductionLength = k
        self.panelCount = (outputChannels + Self.panelRows - 1) / Self.panelRows
        let count = vigil_conv_packed_weight_count(Int64(outputChannels), Int64(k))
        packed = .allocate(capacity: max(count, 1))
        vigil_conv_pack_weights(weights, Int64(outputChannels), Int64(k), packed)
        rowOffsets = .allocate(capacity: max(k, 1))
        var row = 0
        for c in 0..<channels {
            for kh in 0..<kernel.height {
                for kw in 0..<kernel.width {
                    rowOffsets[row] = Int64(c * channelStride + kh * dilations.height * paddedWidth + kw * dilations.width)
                    row += 1
                }
            }
        }
    }

    deinit {
        packed.deallocate()
        rowOffsets.deallocate()
    }

    /// Floats of workspace one thread needs to compute `panels` weight panels.
    public static func workspaceCount(panels: Int) -> Int { vigil_conv_workspace_count(Int64(panels)) }

    /// The geometry of one call: the padded input and the output layout, in floats.
    public struct Layout: Sendable {
        public var paddedWidth: Int, inputImageStride: Int
        public var outputHeight: Int, outputWidth: Int, strideHeight: Int, strideWidth: Int
        public var outputChannelStride: Int, outputImageStride: Int

        public init(paddedWidth: Int, inputImageStride: Int, outputHeight: Int, outputWidth: Int, strideHeight: Int,
                    strideWidth: Int, outputChannelStride: Int, outputImageStride: Int) {
            self.paddedWidth = paddedWidth
            self.inputImageStride = inputImageStride
            self.outputHeight = outputHeight
            self.outputWidth = outputWidth
            self.strideHeight = strideHeight
            self.strideWidth = strideWidth
            self.outputChannelStride = outputChannelStride
            self.outputImageStride = outputImageStride
        }
    }

    /// Computes output `pixels` (numbered image-major across the batch) for weight `panels`.
    /// `residual`, when given, is laid out like `output` and added before the activation.
    public func compute(
        input: UnsafePointer<Float>, layout: Layout, bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?,
        output: UnsafeMutablePointer<Float>, activation: EpilogueActivation, pixels: Range<Int>, panels: Range<Int>,
        workspace: UnsafeMutablePointer<Float>
    ) {
        var problem = vigil_conv_problem()
        problem.row_offsets = UnsafePointer(rowOffsets)
        problem.k = Int64(reductionLength)
        problem.in_w = Int64(layout.paddedWidth)
        problem.in_image_stride = Int64(layout.inputImageStride)
        problem.out_h = Int64(layout.outputHeight)
        problem.out_w = Int64(layout.outputWidth)
        problem.stride_h = Int64(layout.strideHeight)
        problem.stride_w = Int64(layout.strideWidth)
        problem.m = Int64(outputChannels)
        problem.out_channel_stride = Int64(layout.outputChannelStride)
        problem.out_image_stride = Int64(layout.outputImageStride)
        problem.activation = activation.cValue
        vigil_conv_compute(&problem, input, packed, bias, residual, output, Int64(pixels.lowerBound), Int64(pixels.upperBound),
                           Int64(panels.lowerBound), Int64(panels.upperBound), workspace)
    }

    /// Copies `planes` planes of `height × width` floats into zero-bordered planes of
    /// `(height + top + bottom) × (width + left + right)`.
    public static func padPlanes(
        _ x: UnsafePointer<Float>, into padded: UnsafeMutablePointer<Float>, planes: Int, height: Int, width: Int,
        top: Int, bottom: Int, left: Int, right: Int
    ) {
        vigil_pad_planes(x, padded, Int64(planes), Int64(height), Int64(width), Int64(top), Int64(bottom), Int64(left), Int64(right))
    }
}
