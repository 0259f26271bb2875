import CVigilKernels

/// A depthwise 2-D convolution on NCHW (one filter per output channel, each reading input channel
/// `o / (outputChannels / channels)`), or a 2-D max or average pool, vectorized along output rows
/// (`include/vigil_depthwise.h`): any kernel size, stride, dilation and padding, with the bias, a residual
/// and an activation applied as each row is written. Callers split the output planes across threads, each
/// with its own workspace.
public struct DepthwiseConvolution: @unchecked Sendable {
    /// What each window computes.
    public enum Window: Sendable {
        case convolution
        /// The maximum of the taps (NaN taps are skipped).
        case maximum
        /// The sum of the taps times `rowScales[oh] · columnScales[ow]` (reciprocal tap counts).
        case average(rowScales: [Float], columnScales: [Float])
    }

    /// Input channels, height and width; output channels, height and width.
    public var channels: Int, height: Int, width: Int, outputChannels: Int, outputHeight: Int, outputWidth: Int
    public var kernel: (height: Int, width: Int), strides: (height: Int, width: Int), dilations: (height: Int, width: Int)
    /// Padding before the first row and column (the padding after follows from the output size).
    public var padTop: Int, padLeft: Int
    public var activation: VectorActivation
    public var window: Window

    /// The largest kernel height and width the kernel takes.
    public static let maximumKernel = Int(VIGIL_WINDOW_MAX_TAPS)

    public init(channels: Int, height: Int, width: Int, outputChannels: Int, outputHeight: Int, outputWidth: Int,
                kernel: (height: Int, width: Int), strides: (height: Int, width: Int), dilations: (height: Int, width: Int),
                padTop: Int, padLeft: Int, activation: VectorActivation, window: Window = .convolution) {
        (self.channels, self.height, self.width) = (channels, height, width)
        (self.outputChannels, self.outputHeight, self.outputWidth) = (outputChannels, outputHeight, outputWidth)
        (self.kernel, self.strides, self.dilations, self.padTop, self.padLeft, self.activation) = (kernel, strides, dilations, padTop, padLeft, activation)
        self.window = window
    }

    /// The C form, with pointers into `rows` and `columns` (the average's scales) valid inside `body`.
    func withCValue<R>(_ body: (UnsafePointer<vigil_depthwise>) -> R) -> R {
        var p = vigil_depthwise(
            c: Int64(channels), h: Int64(height), w: Int64(width), m: Int64(outputChannels), out_h: Int64(outputHeight),
            out_w: Int64(outputWidth), kernel_h: Int64(kernel.height), kernel_w: Int64(kernel.width), stride_h: Int64(strides.height),
            stride_w: Int64(strides.width), dilation_h: Int64(dilations.height), dilation_w: Int64(dilations.width),
            pad_top: Int64(padTop), pad_left: Int64(padLeft), act: activation.cValue, mode: Int32(VIGIL_WINDOW_CONV), inv_h: nil, inv_w: nil)
        switch window {
        case .convolution: return body(&p)
        case .maximum:
            p.mode = Int32(VIGIL_WINDOW_MAX)
            return body(&p)
        case .average(let rows, let columns):
            p.mode = Int32(VIGIL_WINDOW_AVERAGE)
            return rows.withUnsafeBufferPointer { r in
                columns.withUnsafeBufferPointer { c in
                    p.inv_h = r.baseAddress
                    p.inv_w = c.baseAddress
                    return body(&p)
                }
            }
        }
    }

    /// Which convolutions the AVX2 kernel with 8 channels per vector takes (on CPUs without AVX-512, or with
    /// it turned off): its 8 planes transposed into a padded pixel-major workspace, one load and one FMA per
    /// tap, instead of the row kernel's padded copy per plane.
    public enum AVX2ChannelsInLanes: Int32, Sendable {
        /// None: every convolution on the row kernel.
        case never = 0
        /// Strided windows and output rows of at most 28 columns, where it was measured faster (the default).
        case whereFaster = 1
        /// Every convolution whose padded group of planes fits its 1 MiB workspace (tests).
        case always = 2
    }

    nonisolated(unsafe) private static var lanesAVX2 = AVX2ChannelsInLanes.whereFaster
    /// Which convolutions the AVX2 channels-in-lanes kernel takes; process-wide, set before plans run.
    public static var avx2ChannelsInLanes: AVX2ChannelsInLanes {
        get { lanesAVX2 }
        set {
            lanesAVX2 = newValue
            vigil_depthwise_lanes8_set_mode(newValue.rawValue)
        }
    }

    /// Floats of workspace one thread needs.
    public var workspaceCount: Int { withCValue { vigil_depthwise_workspace_count($0) } }

    /// Output planes best computed together (16 on the AVX-512 kernel that holds 16 channels per vector, 8 on
    /// the AVX2 one, else 1): threads should split each image's planes at multiples of it.
    public var planeGroup: Int { withCValue { Int(vigil_depthwise_plane_group($0)) } }

    /// Groups of ``planeGroup`` planes in `images` images (each image's last group may be short).
    public func groups(images: Int) -> Int { images * ((outputChannels + planeGroup - 1) / planeGroup) }

    /// The output planes of `chunk` of `chunks` near-equal parts of `images` images' planes, each part a
    /// run of whole groups of ``planeGroup`` planes within an image (the last group of an image may be short).
    public func planes(chunk: Int, of chunks: Int, images: Int) -> Range<Int> {
        let group = planeGroup, perImage = groups(images: 1), units = groups(images: images)
        func start(_ unit: Int) -> Int { unit / perImage * outputChannels + min(unit % perImage * group, outputChannels) }
        return start(units * chunk / chunks)..<start(units * (chunk + 1) / chunks)
    }

    /// Computes output `planes` (plane = image · outputChannels + output channel). `weights` (nil for pools),
    /// `bias` and `residual` (laid out like the output) may be `nil`.
    public func compute(input: UnsafePointer<Float>, weights: UnsafePointer<Float>?, bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?,
                        output: UnsafeMutablePointer<Float>, planes: Range<Int>, workspace: UnsafeMutablePointer<Float>) {
        withCValue { vigil_depthwise_compute($0, input, weights, bias, residual, output, Int64(planes.lowerBound), Int64(planes.upperBound), workspace) }
    }
}
