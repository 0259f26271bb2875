import VigilIR

/// Linear quantization: `QuantizeLinear` and `DequantizeLinear` in every form since opset 10
/// (per tensor; per axis from 13; blocked from 21; `output_dtype` and `precision` from 21/23),
/// `DynamicQuantizeLinear`, the integer ops `QLinearConv`, `QLinearMatMul`, `ConvInteger` and
/// `MatMulInteger`, and Vigil's fused quantized ops (domain `ai.vigil`): `QConv` and `QMatMul`, which
/// the optimizer makes of the `DequantizeLinear → Conv/Gemm/MatMul → [activation] → QuantizeLinear`
/// patterns of QDQ models.
///
/// The real value of a quantized element q is `(q − zero_point) · scale`; quantizing rounds half to even
/// and saturates to the type's range.
public enum Quantization {
    static var descriptors: [OpDescriptor] {
        quantizeLinear + dequantizeLinear + [dynamicQuantizeLinear, qLinearConv, convInteger, matMulInteger] + qLinearMatMul + fused
    }

    /// QuantizeLinear's forms: attributes added in opsets 13 (axis), 19 (saturate), 21 (block_size,
    /// output_dtype) and 23 (precision).
    static var quantizeLinear: [OpDescriptor] {
        let axis = AttributeSpec.int("axis", 1), saturate = AttributeSpec.int("saturate", 1)
        let blocked: [AttributeSpec] = [.int("block_size", 0), .int("output_dtype", 0)]
        return [
            OpDescriptor("QuantizeLinear", inputs: 2...3, since: 10, through: 12, infer: inferQuantize),
            OpDescriptor("QuantizeLinear", inputs: 2...3, since: 13, through: 18, attributes: [axis], infer: inferQuantize),
            OpDescriptor("QuantizeLinear", inputs: 2...3, since: 19, through: 20, attributes: [axis, saturate], infer: inferQuantize),
            OpDescriptor("QuantizeLinear", inputs: 2...3, since: 21, through: 22, attributes: [axis, saturate] + blocked, infer: inferQuantize),
            OpDescriptor("QuantizeLinear", inputs: 2...3, since: 23, attributes: [axis, saturate, .int("precision", 0)] + blocked,
                         infer: inferQuantize),
        ]
    }

    /// DequantizeLinear's forms: attributes added in opsets 13 (axis), 21 (block_size) and 23 (output_dtype).
    static var dequantizeLinear: [OpDescriptor] {
        let axis = AttributeSpec.int("axis", 1), block = AttributeSpec.int("block_size", 0)
        // Folding a dequantized weight ahead of time would store it as float32 again.
        let traits = OpTraits(enlargesWhenFolded: true)
        return [
            OpDescriptor("DequantizeLinear", inputs: 2...3, since: 10, through: 12, traits: traits, infer: inferDequantize),
            OpDescriptor("DequantizeLinear", inputs: 2...3, since: 13, through: 20, attributes: [axis], traits: traits, infer: inferDequantize),
            OpDescriptor("DequantizeLinear", inputs: 2...3, since: 21, through: 22, attributes: [axis, block], traits: traits,
                         infer: inferDequantize),
            OpDescriptor("DequantizeLinear", inputs: 2...3, since: 23, attributes: [axis, block, .int("output_dtype", 0)], traits: traits,
                         infer: inferDequantize),
        ]
    }

    static let dynamicQuantizeLinear = OpDescriptor("DynamicQuantizeLinear", inputs: 1...1, outputs: 3...3, since: 11) { c throws(OpError) in
        let x = try c.requireType(0, in: [.float32])
        return [InferredOutput(TensorType(.uint8, x.shape)), InferredOutput(TensorType(.float32, static: [])),
                InferredOutput(TensorType(.uint8, static: []))]
    }

    static let qLinearConv = OpDescriptor("QLinearConv", inputs: 8...9, since: 10, attributes: Convolution.windowAttributes) { c throws(OpError) in
        try inferQuantizedConv(c, QuantizedOperands.qLinearConv)
    }

    static let convInteger = OpDescriptor("ConvInteger", inputs: 2...4, since: 10, attributes: Convolution.windowAttributes) { c throws(OpError) in
        try inferQuantizedConv(c, QuantizedOperands.convInteger)
    }

    static let matMulInteger = OpDescriptor("MatMulInteger", inputs: 2...4, since: 10) { c throws(OpError) in
        try inferQuantizedMatMul(c, QuantizedOperands.matMulInteger)
    }

    static var qLinearMatMul: [OpDescriptor] {
        [
            OpDescriptor("QLinearMatMul", inputs: 8...8, since: 10, through: 20) { c throws(OpError) in
                try inferQuantizedMatMul(c, QuantizedOperands.qLinearMatMul)
            },
            OpDescriptor("QLinearMatMul", inputs: 8...8, since: 21) { c throws(OpError) in
                try inferQuantizedMatMul(c, QuantizedOperands.qLinearMatMul)
            },
        ]
    }

    // MARK: Types

    /// The element types each opset's QuantizeLinear may produce and DequantizeLinear may read (int32
    /// only as DequantizeLinear's input).
    public static func quantizedTypes(opset: Int) -> Set<DType> {
        var types: Set<DType> = [.int8, .uint8]
        if opset >= 19 { types.formUnion([.float8e4m3fn, .float8e4m3fnuz, .float8e5m2, .float8e5m2fnuz]) }
        if opset >= 21 { types.formUnion([.int4, .uint4, .int16, .uint16]) }
        if opset >= 23 { types.insert(.float4e2m1) }
        if opset >= 24 { types.insert(.float8e8m0) }
        if opset >= 25 { types.formUnion([.int2, .uint2]) }
        return types
    }

    /// The float types scales (and the real values) may have at an opset.
    static func scaleTypes(opset: Int) -> Set<DType> { opset >= 19 ? [.float32, .float16, .bfloat16] : [.float32] }

    /// The representable range of an integer quantized type (`nil` for float8/float4 types).
    public static func integerRange(_ dtype: DType) -> ClosedRange<Int>? {
        switch dtype {
        case .int8: -128...127
        case .uint8: 0...255
        case .int16: -32768...32767
        case .uint16: 0...65535
        case .int4: -8...7
        case .uint4: 0...15
        case .int2: -2...1
        case .uint2: 0...3
        case .int32: Int(Int32.min)...Int(Int32.max)
        default: nil
        }
    }

    /// Whether a shape holds one value (a scalar, or `[1]`): per-tensor parameters.
    public static func isPerTensor(_ shape: Shape) -> Bool {
        shape.rank == 0 || (shape.rank == 1 && shape.dims[0] == .fixed(1))
    }

    // MARK: QuantizeLinear / DequantizeLinear

    static func inferQuantize(_ c: OpContext) throws(OpError) -> [InferredOutput] {
        let q = try LinearQuantization(quantize: c)
        return [InferredOutput(TensorType(q.quantized, try c.input(0).shape))]
    }

    static func inferDequantize(_ c: OpContext) throws(OpError) -> [InferredOutput] {
        let q = try LinearQuantization(dequantize: c)
        return [InferredOutput(TensorType(q.real, try c.input(0).shape))]
    }
}

/// The parameters of one QuantizeLinear or DequantizeLinear node, checked: the quantized and real
/// element types, how the scale applies (one value, one per index of an axis, or one per block along an
/// axis), and whether float8 outputs saturate.
public struct LinearQuantization: Sendable, Equatable {
    /// How the scale and zero point apply to the elements.
    public enum Granularity: Sendable, Equatable {
        case perTensor
        /// One value per index of the (normalized) axis.
        case perAxis(Int)
        /// One value per `size` consecutive indices of the axis (the scale has the input's rank).
        case blocked(axis: Int, size: Int)
    }

    public var granularity: Granularity
    /// The integer (or float8) type of the quantized side.
    public var quantized: DType
    /// The float type of the real side (QuantizeLinear's input, DequantizeLinear's output).
    public var real: DType
    /// Float8 outputs saturate (opset 19's `saturate`).
    public var saturate: Bool

    /// QuantizeLinear: x (real), y_scale, [y_zero_point].
    public init(quantize c: OpContext) throws(OpError) {
        let x = try c.requireType(0, in: Quantization.scaleTypes(opset: c.opset).union([.int32]))
        let scale = try c.requireType(1, in: Quantization.scaleTypes(opset: c.opset))
        var quantized = DType.uint8
        if let code = try Self.declaredInt(c, "output_dtype", 0), code != 0 {
            guard let dtype = DType(onnxCode: Int32(clamping: code)) else {
                throw c.error("output_dtype \(code) is not a known element type", subject: "output_dtype")
            }
            quantized = dtype
        }
        if c.hasInput(2) {
            let zp = try c.input(2).dtype
            if let code = try Self.declaredInt(c, "output_dtype", 0), code != 0, zp != quantized {
                throw c.error("y_zero_point is \(zp) but output_dtype asks for \(quantized)", subject: "output_dtype")
            }
            quantized = zp
        }
        guard Quantization.quantizedTypes(opset: c.opset).contains(quantized) else {
            throw c.error("QuantizeLinear at opset \(c.opset) cannot produce \(quantized)", subject: c.inputLabel(2))
        }
        self.quantized = quantized
        self.real = x.dtype == .int32 ? scale.dtype : x.dtype
        self.saturate = try Self.declaredInt(c, "saturate", 1) != 0
        self.granularity = try Self.granularity(c, x: x.shape, scale: scale.shape)
    }

    /// DequantizeLinear: x (quantized), x_scale, [x_zero_point].
    public init(dequantize c: OpContext) throws(OpError) {
        let x = try c.requireType(0, in: Quantization.quantizedTypes(opset: c.opset).union([.int32]))
        let scale = try c.requireType(1, in: Quantization.scaleTypes(opset: c.opset))
        if c.hasInput(2) {
            let zp = try c.input(2).dtype
            guard zp == x.dtype else {
                throw c.error("x_zero_point is \(zp) but x is \(x.dtype); they must have one type", subject: c.inputLabel(2))
            }
        }
        quantized = x.dtype
        real = scale.dtype
        if let code = try Self.declaredInt(c, "output_dtype", 0), code != 0 {
            guard let dtype = DType(onnxCode: Int32(clamping: code)), Quantization.scaleTypes(opset: c.opset).contains(dtype) else {
                throw c.error("output_dtype \(code) is not a float type DequantizeLinear can produce", subject: "output_dtype")
            }
            real = dtype
        }
        saturate = true
        granularity = try Self.granularity(c, x: x.shape, scale: scale.shape)
    }

    /// An attribute the node's form declares, else `otherwise` (older forms lack newer attributes).
    static func declaredInt(_ c: OpContext, _ name: String, _ otherwise: Int) throws(OpError) -> Int? {
        guard c.descriptor?.attributes[name] != nil else { return otherwise }
        return try c.int(name)
    }

    /// How the scale (and zero point, which must have its shape) applies to `x`.
    static func granularity(_ c: OpContext, x: Shape, scale: Shape) throws(OpError) -> Granularity {
        if c.hasInput(2) {
            let zp = try c.input(2).shape
            let compatible = (Quantization.isPerTensor(zp) && Quantization.isPerTensor(scale))
                || (zp.rank == scale.rank && zip(zp.dims, scale.dims).allSatisfy { $0.value == nil || $1.value == nil || $0 == $1 })
            guard compatible else {
                throw c.error("the zero point \(zp) must have the scale's shape \(scale)", subject: c.inputLabel(2))
            }
        }
        let axisValue = try declaredInt(c, "axis", 1) ?? 1
        let blockSize = try declaredInt(c, "block_size", 0) ?? 0
        guard blockSize >= 0 else { throw c.error("block_size must be 0 or more, got \(blockSize)", subject: "block_size") }
        if blockSize > 0 {
            let axis = try c.axis(axisValue, rank: x.rank)
            guard scale.rank == x.rank else {
                throw c.error("a blocked scale must have the input's rank \(x.rank), got \(scale)", subject: c.inputLabel(1))
            }
            for (i, (xd, sd)) in zip(x.dims, scale.dims).enumerated() {
                guard let xs = xd.value, let ss = sd.value else { continue }
                let want = i == axis ? (xs + blockSize - 1) / blockSize : xs
                guard ss == want else {
                    throw c.error("scale \(scale) does not block \(x) by \(blockSize) along axis \(axis) (axis \(i) should be \(want))",
                                  subject: c.inputLabel(1))
                }
            }
            return .blocked(axis: axis, size: blockSize)
        }
        // One value is per tensor whatever the axis (which the ONNX definition then ignores).
        if scale.rank == 0 || (scale.rank == 1 && scale.dims[0] == .fixed(1)) { return .perTensor }
        guard scale.rank == 1 else {
            throw c.error("the scale \(scale) must be a scalar or a 1-D tensor (per axis)\(c.opset >= 21 ? ", or blocked with block_size" : "")",
                          subject: c.inputLabel(1))
        }
        guard c.descriptor?.attributes["axis"] != nil else {
            guard scale.dims[0] == .fixed(1) || scale.dims[0].value == nil else {
                throw c.error("a 1-D scale of \(scale.dims[0]) values needs opset 13 or later (per-axis quantization)", subject: c.inputLabel(1))
            }
            return .perTensor
        }
        let axis = try c.axis(axisValue, rank: x.rank)
        if let n = scale.dims[0].value, let size = x.dims[axis].value, n != size {
            if n == 1 { return .perTensor }
            throw c.error("the scale has \(n) values but axis \(axis) of the input \(x) has \(size)", subject: c.inputLabel(1))
        }
        return .perAxis(axis)
    }
}

/// Which slots of an integer op hold what (QLinearConv and QLinearMatMul interleave scales and zero
/// points with the operands; ConvInteger and MatMulInteger have no scales). `a` is the activation
/// operand, `b` the weights.
public struct QuantizedOperands: Sendable {
    public var a: Int, aScale: Int?, aZero: Int?, b: Int, bScale: Int?, bZero: Int?
    public var yScale: Int?, yZero: Int?, bias: Int?
    /// Whether y_scale may be omitted (Vigil's fused ops then output float) and the op carries an activation.
    public var isFused = false

    public static let qLinearConv = QuantizedOperands(a: 0, aScale: 1, aZero: 2, b: 3, bScale: 4, bZero: 5, yScale: 6, yZero: 7, bias: 8)
    public static let convInteger = QuantizedOperands(a: 0, aScale: nil, aZero: 2, b: 1, bScale: nil, bZero: 3, yScale: nil, yZero: nil, bias: nil)
    public static let qLinearMatMul = QuantizedOperands(a: 0, aScale: 1, aZero: 2, b: 3, bScale: 4, bZero: 5, yScale: 6, yZero: 7, bias: nil)
    public static let matMulInteger = QuantizedOperands(a: 0, aScale: nil, aZero: 2, b: 1, bScale: nil, bZero: 3, yScale: nil, yZero: nil, bias: nil)
    public static let fusedConv = QuantizedOperands(a: 0, aScale: 1, aZero: 2, b: 3, bScale: 4, bZero: 5, yScale: 6, yZero: 7, bias: 8,
                                                    isFused: true)
    public static let fusedMatMul = fusedConv
}

extension Quantization {
    /// The integer operand types.
    static let integerOperands: Set<DType> = [.int8, .uint8]

    /// Checks the operands, scales and zero points of an integer op; returns the output element type
    /// (int32 without an output scale, the output zero point's type — uint8 when omitted — with one, and
    /// float32 when a fused op omits it). `channels` is the size of b's per-channel axis.
    static func checkOperands(_ c: OpContext, _ o: QuantizedOperands, channels: Dim, perRowA: Bool = false) throws(OpError) -> DType {
        let a = try c.requireType(o.a, in: integerOperands), b = try c.requireType(o.b, in: integerOperands)
        let scales = scaleTypes(opset: c.node.domain == FusedOps.domain ? 19 : c.opset)
        for (zero, operand) in [(o.aZero, a.dtype), (o.bZero, b.dtype)] {
            guard let zero, c.hasInput(zero) else { continue }
            let z = try c.input(zero)
            guard z.dtype == operand else {
                throw c.error("\(c.inputLabel(zero)) is \(z.dtype) but its operand is \(operand)", subject: c.inputLabel(zero))
            }
        }
        for slot in [o.aScale, perRowA ? nil : o.aZero, o.yScale, o.yZero].compactMap({ $0 }) where c.hasInput(slot) {
            guard isPerTensor(try c.input(slot).shape) else {
                throw c.error("\(c.inputLabel(slot)) must be a scalar (per-tensor), got \(try c.input(slot).shape)", subject: c.inputLabel(slot))
            }
        }
        for slot in [o.aScale, o.bScale, o.yScale].compactMap({ $0 }) where c.hasInput(slot) { _ = try c.requireType(slot, in: scales) }
        for slot in [o.bScale, o.bZero].compactMap({ $0 }) where c.hasInput(slot) {
            let shape = try c.input(slot).shape
            guard isPerTensor(shape) || (shape.rank == 1 && (shape.dims[0].value == nil || channels.value == nil || shape.dims[0] == channels)) else {
                throw c.error("\(c.inputLabel(slot)) \(shape) must be a scalar or hold one value per output channel (\(channels))",
                              subject: c.inputLabel(slot))
            }
        }
        guard let yScale = o.yScale else { return .int32 }
        guard c.hasInput(yScale) else {
            guard o.isFused else { throw c.error("missing required \(c.inputLabel(yScale))", subject: c.inputLabel(yScale)) }
            return try c.input(o.aScale!).dtype
        }
        guard let yZero = o.yZero, c.hasInput(yZero) else { return .uint8 }
        return try c.requireType(yZero, in: integerOperands).dtype
    }

    static func inferQuantizedConv(_ c: OpContext, _ o: QuantizedOperands) throws(OpError) -> [InferredOutput] {
        let attrs = try Convolution.ConvAttributes(c, x: o.a, w: o.b, bias: o.bias)
        let dtype = try checkOperands(c, o, channels: attrs.outputChannels)
        if let bias = o.bias, c.hasInput(bias) {
            _ = try c.requireType(bias, in: o.isFused ? [.int32, .float32] : [.int32])
        }
        let x = try c.input(o.a)
        let shape = Shape([x.shape.dims[0], attrs.outputChannels] + attrs.geometry.outputSpatial)
        if o.isFused { _ = try FusedActivation(fusedNode: c) }
        return [InferredOutput(TensorType(dtype, shape))]
    }

    static func inferQuantizedMatMul(_ c: OpContext, _ o: QuantizedOperands) throws(OpError) -> [InferredOutput] {
        let a = try c.input(o.a), b = try c.input(o.b)
        let shape = try LinearAlgebra.matMulShape(c, a.shape, b.shape)
        let dtype = try checkOperands(c, o, channels: b.rank >= 2 ? b.shape.dims[b.rank - 1] : .fixed(1), perRowA: o.yScale == nil)
        if let zero = o.aZero, c.hasInput(zero), !isPerTensor(try c.input(zero).shape) {
            // MatMulInteger allows one zero point per row of a.
            let z = try c.input(zero).shape
            guard z.rank == 1, a.rank >= 2, z.dims[0].value == nil || a.shape.dims[a.rank - 2].value == nil
                    || z.dims[0] == a.shape.dims[a.rank - 2] else {
                throw c.error("\(c.inputLabel(zero)) \(z) must be a scalar or hold one value per row of a", subject: c.inputLabel(zero))
            }
        }
        return [InferredOutput(TensorType(dtype, shape))]
    }
}

extension Quantization {
    /// Vigil's fused quantized ops (domain `ai.vigil`, made by the optimizer's `fuse-qdq` pass):
    ///
    /// - `QConv(x, x_scale, x_zero_point, w, w_scale, w_zero_point, [y_scale, y_zero_point], [B])` =
    ///   `Q(act(Conv(DQ(x), DQ(w)) + B))`: QLinearConv's inputs and Conv's attributes plus `activation` and
    ///   `activation_params`. Without y_scale the output is the float value itself (a dequantized
    ///   output); B is int32 (in units of x_scale · w_scale, as QLinearConv's) or float32.
    /// - `QMatMul(a, a_scale, a_zero_point, b, b_scale, b_zero_point, [y_scale, y_zero_point], [bias])` =
    ///   `Q(act(DQ(a) · DQ(b)ᵀ? + bias))` for a 2-D b ([K, N], or [N, K] with `transB`), a of any rank ≥ 1.
    /// - `QAdd`, `QActivation`, `QMaxPool`: an Add (with an activation), an elementwise activation and a MaxPool
    ///   between per-tensor DequantizeLinear and QuantizeLinear nodes, computed on the quantized values
    ///   (QActivation and QMaxPool's requantization as a table of 256 values).
    ///
    /// Zero points may be omitted (0); `activation` is a piecewise-linear activation (Relu, LeakyRelu,
    /// Clip), applied to the real value before it is requantized. Exporters lower both back to
    /// DequantizeLinear → Conv/Gemm/MatMul → activation → QuantizeLinear.
    static var fused: [OpDescriptor] {
        let activation: [AttributeSpec] = [.optional("activation", .string), .optional("activation_params", .floats)]
        return [
            OpDescriptor("QConv", domain: FusedOps.domain, inputs: 6...9, since: 1, attributes: Convolution.windowAttributes + activation) {
                c throws(OpError) in try inferQuantizedConv(c, QuantizedOperands.fusedConv)
            },
            OpDescriptor("QMatMul", domain: FusedOps.domain, inputs: 6...9, since: 1, attributes: [.int("transB", 0)] + activation,
                         infer: inferFusedMatMul),
            OpDescriptor("QAdd", domain: FusedOps.domain, inputs: 7...8, since: 1, attributes: activation, infer: inferQuantizedAdd),
            OpDescriptor("QActivation", domain: FusedOps.domain, inputs: 4...5, since: 1,
                         attributes: [.required("activation", .string), .optional("activation_params", .floats)], infer: inferQuantizedUnary),
            OpDescriptor("QMaxPool", domain: FusedOps.domain, inputs: 4...5, since: 1, attributes: maxPoolAttributes, infer: inferQuantizedMaxPool),
        ]
    }

    /// MaxPool's attributes (QMaxPool takes them all).
    static let maxPoolAttributes: [AttributeSpec] = [
        .string("auto_pad", "NOTSET"), .int("ceil_mode", 0), .optional("dilations", .ints), .required("kernel_shape", .ints),
        .optional("pads", .ints), .optional("strides", .ints), .int("storage_order", 0),
    ]

    /// The output type of a fused op whose inputs `yScale`, `yZero` requantize (the zero point's type, uint8 without it).
    static func requantizedType(_ c: OpContext, yZero: Int) throws(OpError) -> DType {
        guard c.hasInput(yZero) else { return .uint8 }
        return try c.requireType(yZero, in: integerOperands).dtype
    }

    /// Checks that the given slots hold per-tensor scales (float) or zero points.
    static func requirePerTensor(_ c: OpContext, scales: [Int], zeros: [Int]) throws(OpError) {
        for slot in scales + zeros where c.hasInput(slot) {
            guard isPerTensor(try c.input(slot).shape) else {
                throw c.error("\(c.inputLabel(slot)) must be a scalar (per-tensor)", subject: c.inputLabel(slot))
            }
        }
        for slot in scales { _ = try c.requireType(slot, in: scaleTypes(opset: 19)) }
    }

    /// `QAdd(a, a_scale, a_zero_point, b, b_scale, b_zero_point, y_scale, [y_zero_point])` = Q(act(DQ(a) + DQ(b))):
    /// per-tensor parameters, a and b of one shape.
    static func inferQuantizedAdd(_ c: OpContext) throws(OpError) -> [InferredOutput] {
        let a = try c.requireType(0, in: integerOperands), b = try c.requireType(3, in: integerOperands)
        guard a.shape == b.shape else { throw c.error("a \(a.shape) and b \(b.shape) must have one shape", subject: c.inputLabel(3)) }
        try requirePerTensor(c, scales: [1, 4, 6], zeros: [2, 5, 7])
        _ = try FusedActivation(fusedNode: c)
        return [InferredOutput(TensorType(try requantizedType(c, yZero: 7), a.shape))]
    }

    /// `QActivation(x, x_scale, x_zero_point, y_scale, [y_zero_point])` = Q(act(DQ(x))) for an 8-bit x: a
    /// table of 256 values.
    static func inferQuantizedUnary(_ c: OpContext) throws(OpError) -> [InferredOutput] {
        let x = try c.requireType(0, in: integerOperands)
        try requirePerTensor(c, scales: [1, 3], zeros: [2, 4])
        guard try FusedActivation(fusedNode: c) != nil else { throw c.error("the attribute activation is missing", subject: "activation") }
        return [InferredOutput(TensorType(try requantizedType(c, yZero: 4), x.shape))]
    }

    /// `QMaxPool(x, x_scale, x_zero_point, y_scale, [y_zero_point])` = Q(MaxPool(DQ(x))): the maximum of the
    /// quantized values, requantized.
    static func inferQuantizedMaxPool(_ c: OpContext) throws(OpError) -> [InferredOutput] {
        let x = try c.requireType(0, in: integerOperands)
        try requirePerTensor(c, scales: [1, 3], zeros: [2, 4])
        let attrs = try Pooling.PoolAttributes(maxPool(c))
        let shape = Shape(Array(x.shape.dims.prefix(2)) + attrs.geometry.outputSpatial)
        return [InferredOutput(TensorType(try requantizedType(c, yZero: 4), shape))]
    }

    /// A QMaxPool read as the float MaxPool (opset 12) it stands for.
    public static func maxPool(_ c: OpContext) throws(OpError) -> OpContext {
        let x = try c.input(0)
        var node = c.node
        (node.domain, node.opType) = ("", "MaxPool")
        node.inputs = [node.inputs[0]]
        return OpContext(node: node, opset: 12, inputTypes: [TensorType(.float32, x.shape)], inputValues: [],
                         descriptor: OpRegistry.standard.descriptor(domain: "", opType: "MaxPool", opset: 12))
    }

    static func inferFusedMatMul(_ c: OpContext) throws(OpError) -> [InferredOutput] {
        let o = QuantizedOperands.fusedMatMul
        let a = try c.input(o.a), b = try c.requireRank(o.b, 2...2)
        let transB = try c.int("transB") != 0
        let k = transB ? b.shape.dims[1] : b.shape.dims[0], n = transB ? b.shape.dims[0] : b.shape.dims[1]
        guard a.rank >= 1 else { throw c.error("a must have rank ≥ 1", subject: c.inputLabel(o.a)) }
        if let x = a.shape.dims[a.rank - 1].value, let y = k.value, x != y {
            throw c.error("inner dimensions differ: a \(a.shape) × b \(b.shape)\(transB ? "ᵀ" : "") (\(x) vs \(y))")
        }
        let dtype = try checkOperands(c, o, channels: n)
        if let bias = o.bias, c.hasInput(bias) {
            let t = try c.requireType(bias, in: [.int32, .float32])
            guard isPerTensor(t.shape) || (t.rank == 1 && (t.shape.dims[0].value == nil || n.value == nil || t.shape.dims[0] == n)) else {
                throw c.error("the bias \(t.shape) must hold one value per output column (\(n))", subject: c.inputLabel(bias))
            }
        }
        _ = try FusedActivation(fusedNode: c)
        return [InferredOutput(TensorType(dtype, Shape(Array(a.shape.dims.dropLast()) + [n])))]
    }
}
