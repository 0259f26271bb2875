import CVigilKernels

/// Which integer kernel computes an int8 GEMM: AVX2 (`vpmaddubsw`/`vpmaddwd`), AVX-VNNI (`vpdpbusd`),
/// AVX-512 VNNI (`vpdpbusd` on 512-bit registers, two weight panels per tile), or portable C (int16 dot products). All three give exact int32 accumulators; the fastest one this CPU
/// runs is chosen at run time (``best``).
public enum Int8KernelVariant: Int32, Sendable, CaseIterable, CustomStringConvertible {
    case portable = 0
    case avx2 = 1
    case avxVNNI = 2
    case avx512VNNI = 3

    /// The fastest variant this CPU runs.
    public static let best = Int8KernelVariant(rawValue: vigil_i8_best_variant()) ?? .portable

    /// Whether this CPU runs the variant.
    public var isAvailable: Bool { vigil_i8_variant_available(rawValue) != 0 }

    /// The weight values (already minus their zero point) the variant can hold.
    public var weightRange: ClosedRange<Int> {
        switch self {
        case .portable: -32768...32767
        case .avx2: -127...127
        case .avxVNNI, .avx512VNNI: -128...127
        }
    }

    public var description: String {
        switch self {
        case .portable: "portable"
        case .avx2: "avx2"
        case .avxVNNI: "avx-vnni"
        case .avx512VNNI: "avx512-vnni"
        }
    }
}

/// What an integer kernel writes for each output value (see ``Int8Epilogue``).
public enum Int8Output: Sendable, Equatable {
    /// The exact int32 accumulator plus the channel's offset (MatMulInteger, ConvInteger).
    case int32
    /// `act(v · multiplier + bias)` as float32 (a dequantized output).
    case float32
    /// `saturate(round(act(v · multiplier + bias)) + zeroPoint)` as uint8 or int8 (a requantized output).
    case uint8(zeroPoint: Int32)
    case int8(zeroPoint: Int32)

    var code: Int32 {
        switch self {
        case .int32: VIGIL_I8_OUT_INT32
        case .float32: VIGIL_I8_OUT_FLOAT
        case .uint8: VIGIL_I8_OUT_UINT8
        case .int8: VIGIL_I8_OUT_INT8
        }
    }

    var zeroPoint: Int32 {
        switch self {
        case .uint8(let z), .int8(let z): z
        default: 0
        }
    }

    /// Bytes per output element.
    public var elementSize: Int {
        switch self {
        case .int32, .float32: 4
        case .uint8, .int8: 1
        }
    }
}

/// The per-channel epilogue of an integer kernel: for output channel m and accumulator `acc`,
/// `v = acc + rowOffset[m]`, then ``Int8Output`` decides what is written (`multiplier`, `floatBias`
/// and `activation` apply to the float and the requantized outputs). The arrays are padded to whole
/// weight panels, as the C kernels read them.
public final class Int8Epilogue: @unchecked Sendable {
    public let channels: Int
    public let output: Int8Output
    public let activation: EpilogueActivation
    let rowOffset: UnsafeMutablePointer<Int32>
    let multiplier: UnsafeMutablePointer<Float>
    let floatBias: UnsafeMutablePointer<Float>?

    public init(rowOffset: [Int32], multiplier: [Float], floatBias: [Float]? = nil, activation: EpilogueActivation = .none,
                output: Int8Output) {
        precondition(rowOffset.count == multiplier.count && (floatBias?.count ?? rowOffset.count) == rowOffset.count)
        channels = rowOffset.count
        self.output = output
        self.activation = activation
        let padded = (channels + Int(VIGIL_I8_MR) - 1) / Int(VIGIL_I8_MR) * Int(VIGIL_I8_MR)
        self.rowOffset = .allocate(capacity: max(padded, 1))
        self.multiplier = .allocate(capacity: max(padded, 1))
        self.rowOffset.initialize(repeating: 0, count: max(padded, 1))
        self.multiplier.initialize(repeating: 0, count: max(padded, 1))
        self.rowOffset.update(from: rowOffset, count: channels)
        self.multiplier.update(from: multiplier, count: channels)
        if let floatBias {
            let bias = UnsafeMutablePointer<Float>.allocate(capacity: max(padded, 1))
            bias.initialize(repeating: 0, count: max(padded, 1))
            bias.update(from: floatBias, count: channels)
            self.floatBias = bias
        } else {
            self.floatBias = nil
        }
    }

    deinit {
        rowOffset.deallocate()
        multiplier.deallocate()
        floatBias?.deallocate()
    }
}

/// Where output pixel p and channel m are written, in elements: `(p / pixelsPerImage) · imageStride +
/// (p % pixelsPerImage) · pixelStride + m · channelStride` (NCHW convolutions: channel stride = the plane;
/// matrices: pixel stride = the row length, channel stride 1).
public struct Int8OutputLayout: Sendable {
    public var pixelsPerImage: Int, imageStride: Int, pixelStride: Int, channelStride: Int

    public init(pixelsPerImage: Int, imageStride: Int, pixelStride: Int, channelStride: Int) {
        self.pixelsPerImage = pixelsPerImage
        self.imageStride = imageStride
        self.pixelStride = pixelStride
        self.channelStride = channelStride
    }
}

/// Where a block of activations is read: pixel i's reduction values at `data + pixelOffsets[i] + rowOffsets[k]`
/// (a convolution's taps), or `data + pixelOffsets[i] + k` (a matrix row) without row offsets.
public struct Int8Source {
    public var data: UnsafePointer<UInt8>
    public var isSigned: Bool
    public var zeroPoint: Int32
    public var rowOffsets: UnsafePointer<Int64>?

    public init(data: UnsafePointer<UInt8>, isSigned: Bool, zeroPoint: Int32, rowOffsets: UnsafePointer<Int64>? = nil) {
        self.data = data
        self.isSigned = isSigned
        self.zeroPoint = zeroPoint
        self.rowOffsets = rowOffsets
    }
}

/// An M × K int8 weight matrix packed once for an integer GEMM kernel (M output channels, K the
/// reduction), with each row's sum for the zero-point corrections.
public final class Int8PackedWeights: @unchecked Sendable {
    /// Output channels per panel, pixels per block (the unit of work of one call).
    public static let panelRows = Int(VIGIL_I8_MR), pixelBlock = Int(VIGIL_I8_NC)

    public let variant: Int8KernelVariant
    public let rows: Int, reduction: Int
    /// Σ_k w'[m][k] per row.
    public let rowSums: [Int32]
    private let packed: UnsafeMutableRawPointer

    /// Packs `weights` (M × K row-major, values already minus their zero point) for `variant`, or
    /// returns `nil` when a value falls outside ``Int8KernelVariant/weightRange``.
    public init?(weights: [Int16], rows: Int, reduction: Int, variant: Int8KernelVariant) {
        precondition(weights.count == rows * reduction)
        self.variant = variant
        self.rows = rows
        self.reduction = reduction
        let bytes = vigil_i8_packed_weight_bytes(variant.rawValue, Int64(rows), Int64(reduction))
        let memory = UnsafeMutableRawPointer.allocate(byteCount: max(bytes, 1), alignment: 64)
        var sums = [Int32](repeating: 0, count: rows)
        let ok = weights.withUnsafeBufferPointer { w in
            sums.withUnsafeMutableBufferPointer { s in
                vigil_i8_pack_weights(variant.rawValue, w.baseAddress, Int64(rows), Int64(reduction), memory, s.baseAddress)
            }
        }
        guard ok != 0 else {
            memory.deallocate()
            return nil
        }
        packed = memory
        rowSums = sums
    }

    deinit { packed.deallocate() }

    /// Weight panels of ``panelRows`` channels.
    public var panelCount: Int { (rows + Self.panelRows - 1) / Self.panelRows }

    /// Bytes of workspace one packed block of ``pixelBlock`` pixels needs.
    public var blockBytes: Int { Self.blockBytes(variant: variant, reduction: reduction) }

    /// Bytes of workspace one packed block of ``pixelBlock`` pixels of `reduction` values needs for `variant`.
    public static func blockBytes(variant: Int8KernelVariant, reduction: Int) -> Int {
        vigil_i8_block_bytes(variant.rawValue, Int64(reduction))
    }

    /// The constant the kernel multiplies each row sum by for activations of this type and zero point
    /// (added to the row offsets of ``Int8Epilogue``).
    public func activationShift(isSigned: Bool, zeroPoint: Int32) -> Int32 {
        vigil_i8_activation_shift(variant.rawValue, isSigned ? 1 : 0, zeroPoint)
    }

    /// Packs `count` (at most ``pixelBlock``) pixels into `block`.
    public func pack(_ source: Int8Source, pixelOffsets: UnsafePointer<Int64>, count: Int, into block: UnsafeMutableRawPointer) {
        var s = vigil_i8_source(data: source.data, is_signed: source.isSigned ? 1 : 0, zero_point: source.zeroPoint,
                                row_offsets: source.rowOffsets)
        vigil_i8_pack_block(variant.rawValue, &s, pixelOffsets, Int64(count), Int64(reduction), block)
    }

    /// Computes pixels `firstPixel ..< firstPixel + count` (a block packed by ``pack(_:pixelOffsets:count:into:)``)
    /// for weight `panels`, writing through `epilogue` into `output` laid out as `layout`.
    public func compute(block: UnsafeRawPointer, firstPixel: Int, count: Int, panels: Range<Int>, epilogue: Int8Epilogue,
                        output: UnsafeMutableRawPointer, layout: Int8OutputLayout) {
        var g = vigil_i8_gemm()
        g.variant = variant.rawValue
        g.m = Int64(rows)
        g.k = Int64(reduction)
        g.packed_w = UnsafeRawPointer(packed)
        g.row_offset = UnsafePointer(epilogue.rowOffset)
        g.multiplier = UnsafePointer(epilogue.multiplier)
        g.float_bias = epilogue.floatBias.map { UnsafePointer($0) }
        g.activation = epilogue.activation.active ? 1 : 0
        (g.slope, g.low, g.high) = (epilogue.activation.slope, epilogue.activation.low, epilogue.activation.high)
        g.output = epilogue.output.code
        g.output_zero_point = epilogue.output.zeroPoint
        g.y = output
        g.pixels_per_image = Int64(layout.pixelsPerImage)
        g.image_stride = Int64(layout.imageStride)
        g.pixel_stride = Int64(layout.pixelStride)
        g.channel_stride = Int64(layout.channelStride)
        vigil_i8_compute(&g, block, Int64(firstPixel), Int64(count), Int64(panels.lowerBound), Int64(panels.upperBound))
    }
}

/// A depthwise 2-D int8 convolution (one filter per channel) over zero-point-padded planes, with the
/// epilogue of ``Int8Epilogue`` per channel.
public struct Int8Depthwise {
    public var channels: Int, paddedHeight: Int, paddedWidth: Int, outputHeight: Int, outputWidth: Int
    public var kernel: (height: Int, width: Int), strides: (height: Int, width: Int), dilations: (height: Int, width: Int)
    /// Per channel: the kernel's weights minus their zero point.
    public var weights: [Int16]
    /// Output strides in elements.
    public var imageStride: Int, channelStride: Int

    public init(channels: Int, paddedHeight: Int, paddedWidth: Int, outputHeight: Int, outputWidth: Int,
                kernel: (height: Int, width: Int), strides: (height: Int, width: Int), dilations: (height: Int, width: Int),
                weights: [Int16], imageStride: Int, channelStride: Int) {
        (self.channels, self.paddedHeight, self.paddedWidth) = (channels, paddedHeight, paddedWidth)
        (self.outputHeight, self.outputWidth) = (outputHeight, outputWidth)
        (self.kernel, self.strides, self.dilations) = (kernel, strides, dilations)
        self.weights = weights
        (self.imageStride, self.channelStride) = (imageStride, channelStride)
    }

    /// Each channel's weight sum (for the zero-point correction, `-x_zero_point · sum`).
    public var channelSums: [Int32] {
        let taps = kernel.height * kernel.width
        return (0..<channels).map { c in weights[c * taps..<(c + 1) * taps].reduce(0) { $0 + Int32($1) } }
    }

    /// Computes planes `planes` (plane q = image · channels + channel) of the padded input `x`.
    public func compute(x: UnsafePointer<UInt8>, isSigned: Bool, planes: Range<Int>, epilogue: Int8Epilogue,
                        output: UnsafeMutableRawPointer) {
        weights.withUnsafeBufferPointer { w in
            var d = vigil_i8_depthwise()
            d.x = x
            d.x_signed = isSigned ? 1 : 0
            (d.channels, d.padded_h, d.padded_w) = (Int64(channels), Int64(paddedHeight), Int64(paddedWidth))
            (d.out_h, d.out_w) = (Int64(outputHeight), Int64(outputWidth))
            (d.kernel_h, d.kernel_w) = (Int64(kernel.height), Int64(kernel.width))
            (d.stride_h, d.stride_w) = (Int64(strides.height), Int64(strides.width))
            (d.dilation_h, d.dilation_w) = (Int64(dilations.height), Int64(dilations.width))
            d.w = w.baseAddress
            d.row_offset = UnsafePointer(epilogue.rowOffset)
            d.multiplier = UnsafePointer(epilogue.multiplier)
            d.float_bias = epilogue.floatBias.map { UnsafePointer($0) }
            d.activation = epilogue.activation.active ? 1 : 0
            (d.slope, d.low, d.high) = (epilogue.activation.slope, epilogue.activation.low, epilogue.activation.high)
            d.output = epilogue.output.code
            d.output_zero_point = epilogue.output.zeroPoint
            d.y = output
            (d.image_stride, d.channel_stride) = (Int64(imageStride), Int64(channelStride))
            vigil_i8_depthwise_compute(&d, Int64(planes.lowerBound), Int64(planes.upperBound))
        }
    }
}

/// QuantizeLinear and DequantizeLinear loops for int8/uint8, and zero-point padding.
public enum Int8Quantization {
    /// `y = saturate(round_half_even(x / scale) + zeroPoint)` into `range`, as int8 or uint8 bytes (NaN → zero point).
    public static func quantize(_ x: UnsafePointer<Float>, count: Int, scale: Float, zeroPoint: Int32, range: ClosedRange<Int32>,
                                isSigned: Bool, into y: UnsafeMutablePointer<UInt8>) {
        vigil_i8_quantize(x, Int64(count), scale, zeroPoint, range.lowerBound, range.upperBound, isSigned ? 1 : 0, y)
    }

    /// `y = (x − zeroPoint) · scale` for int8 or uint8 bytes.
    public static func dequantize(_ x: UnsafePointer<UInt8>, count: Int, isSigned: Bool, zeroPoint: Int32, scale: Float,
                                  into y: UnsafeMutablePointer<Float>) {
        vigil_i8_dequantize(x, Int64(count), isSigned ? 1 : 0, zeroPoint, scale, y)
    }

    /// The parameters of one side of a quantized elementwise op: int8 (`isSigned`) or uint8 values, scale, zero point.
    public struct Operand {
        public var values: UnsafePointer<UInt8>
        public var isSigned: Bool
        public var scale: Float
        public var zeroPoint: Int32

        public init(values: UnsafePointer<UInt8>, isSigned: Bool, scale: Float, zeroPoint: Int32) {
            (self.values, self.isSigned, self.scale, self.zeroPoint) = (values, isSigned, scale, zeroPoint)
        }
    }

    /// `y = saturate(round(act(DQ(a) + DQ(b)) / scale) + zeroPoint)` for `count` elements, as the separate
    /// DequantizeLinear, Add, activation and QuantizeLinear compute it.
    public static func add(_ a: Operand, _ b: Operand, count: Int, activation: EpilogueActivation, scale: Float, zeroPoint: Int32,
                           isSigned: Bool, into y: UnsafeMutablePointer<UInt8>) {
        vigil_i8_add(a.values, a.isSigned ? 1 : 0, a.scale, a.zeroPoint, b.values, b.isSigned ? 1 : 0, b.scale, b.zeroPoint, Int64(count),
                     activation.active ? 1 : 0, activation.slope, activation.low, activation.high, scale, zeroPoint, isSigned ? 1 : 0, y)
    }

    /// 2-D max pooling of int8 or uint8 planes (padding ignored).
    public static func maxPool(_ x: UnsafePointer<UInt8>, isSigned: Bool, planes: Int, input: (height: Int, width: Int), output: (height: Int, width: Int),
                               kernel: (height: Int, width: Int), strides: (height: Int, width: Int), dilations: (height: Int, width: Int),
                               padTop: Int, padLeft: Int, into y: UnsafeMutablePointer<UInt8>) {
        vigil_i8_maxpool2d(x, isSigned ? 1 : 0, Int64(planes), Int64(input.height), Int64(input.width), Int64(output.height), Int64(output.width),
                           Int64(kernel.height), Int64(kernel.width), Int64(strides.height), Int64(strides.width), Int64(dilations.height),
                           Int64(dilations.width), Int64(padTop), Int64(padLeft), y)
    }

    /// `y[i] = table[x[i]]` (int8 values index the table by their bit pattern).
    public static func lookup(_ x: UnsafePointer<UInt8>, count: Int, table: UnsafePointer<UInt8>, into y: UnsafeMutablePointer<UInt8>) {
        vigil_i8_lookup(x, Int64(count), table, y)
    }

    /// Copies planes of `height × width` bytes into planes bordered by `fill` bytes.
    public static func padPlanes(_ x: UnsafePointer<UInt8>, into padded: UnsafeMutablePointer<UInt8>, planes: Int, height: Int, width: Int,
                                 top: Int, bottom: Int, left: Int, right: Int, fill: UInt8) {
        vigil_i8_pad_planes(x, padded, Int64(planes), Int64(height), Int64(width), Int64(top), Int64(bottom), Int64(left), Int64(right), fill)
    }
}
