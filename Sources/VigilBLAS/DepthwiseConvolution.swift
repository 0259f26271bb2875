import CVigilKernels

/// A depthwise 2-D convolution on NCHW (one filter per output channel, each reading input channel
/// `o / (outputChannels / channels)`), vectorized along output rows (`include/vigil_depthwise.h`): any
/// kernel size, stride, dilation and padding, with the bias, a residual and an activation applied as
/// each row is written. Callers split the output planes across threads, each with its own workspace.
public struct DepthwiseConvolution: Sendable {
    /// Input channels, height and width; output channels, height and width.
    public var channels: Int, height: Int, width: Int, outputChannels: Int, outputHeight: Int, outputWidth: Int
    public var kernel: (height: Int, width: Int), strides: (height: Int, width: Int), dilations: (height: Int, width: Int)
    /// Padding before the first row and column (the padding after follows from the output size).
    public var padTop: Int, padLeft: Int
    public var activation: VectorActivation

    public init(channels: Int, height: Int, width: Int, outputChannels: Int, outputHeight: Int, outputWidth: Int,
                kernel: (height: Int, width: Int), strides: (height: Int, width: Int), dilations: (height: Int, width: Int),
                padTop: Int, padLeft: Int, activation: VectorActivation) {
        (self.channels, self.height, self.width) = (channels, height, width)
        (self.outputChannels, self.outputHeight, self.outputWidth) = (outputChannels, outputHeight, outputWidth)
        (self.kernel, self.strides, self.dilations, self.padTop, self.padLeft, self.activation) = (kernel, strides, dilations, padTop, padLeft, activation)
    }

    var cValue: vigil_depthwise {
        vigil_depthwise(c: Int64(channels), h: Int64(height), w: Int64(width), m: Int64(outputChannels), out_h: Int64(outputHeight),
                        out_w: Int64(outputWidth), kernel_h: Int64(kernel.height), kernel_w: Int64(kernel.width), stride_h: Int64(strides.height),
                        stride_w: Int64(strides.width), dilation_h: Int64(dilations.height), dilation_w: Int64(dilations.width),
                        pad_top: Int64(padTop), pad_left: Int64(padLeft), act: activation.cValue)
    }

    /// Floats of workspace one thread needs.
    public var workspaceCount: Int {
        var p = cValue
        return vigil_depthwise_workspace_count(&p)
    }

    /// Computes output `planes` (plane = image · outputChannels + output channel). `bias` and `residual`
    /// (laid out like the output) may be `nil`.
    public func compute(input: UnsafePointer<Float>, weights: UnsafePointer<Float>, bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?,
                        output: UnsafeMutablePointer<Float>, planes: Range<Int>, workspace: UnsafeMutablePointer<Float>) {
        var p = cValue
        vigil_depthwise_compute(&p, input, weights, bias, residual, output, Int64(planes.lowerBound), Int64(planes.upperBound), workspace)
    }
}
