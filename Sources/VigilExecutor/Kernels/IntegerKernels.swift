import VigilBLAS
import VigilIR
import VigilOps

/// QLinearConv, ConvInteger, QLinearMatMul, MatMulInteger and Vigil's fused QConv / QMatMul on the
/// int8 GEMM of `VigilBLAS` (exact int32 accumulation; the epilogue adds the bias and the zero-point
/// corrections, then writes int32, dequantizes to float with an optional activation, or requantizes).
///
/// Weights (`b`) are packed once per plan when they and their zero points are constant (always, in
/// practice), else on every run; the same goes for the epilogue's per-channel parameters. 2-D
/// convolutions gather their taps straight from the (zero-point-padded) input, 96 pixels at a time;
/// depthwise ones run a direct kernel; 1-D ones run as 2-D with height 1.
enum IntegerKernels {
    /// The kernel variant (tests force each one in turn); `nil`: the best this CPU runs.
    nonisolated(unsafe) static var forcedVariant: Int8KernelVariant?
    static var variant: Int8KernelVariant { forcedVariant ?? .best }

    /// What the kernel writes: the int32 accumulators, float (dequantized), or a requantized type.
    enum OutputKind: Equatable {
        case int32, float
        case quantized(signed: Bool)

        init(_ dtype: DType) {
            switch dtype {
            case .int32: self = .int32
            case .int8: self = .quantized(signed: true)
            case .uint8: self = .quantized(signed: false)
            default: self = .float
            }
        }
    }

    /// The scalar and per-channel parameters of one integer op.
    struct Parameters {
        var aScale: Float = 1, aZero: Int32 = 0
        /// MatMulInteger's zero points per row of a, when given so.
        var aZeroRows: [Int32]?
        /// Per output channel.
        var bScales: [Float], bZeros: [Int32]
        var yScale: Float = 1, yZero: Int32 = 0
        var intBias: [Int32]?, floatBias: [Float]?
    }

    /// Reads an input's values as Doubles (`nil` when it is not available: not constant at build time).
    typealias Reader = (Int) -> [Double]?

    /// Reads constant inputs at build time.
    static func constantReader(_ op: OpContext) -> Reader {
        { slot in op.value(slot)?.numericDoubles }
    }

    /// Reads inputs through a run's pointers.
    static func runReader(_ io: KernelIO, _ op: OpContext) -> Reader {
        { slot in
            guard let pointer = io.inputs[slot], let type = op.inputTypes[slot], let sizes = type.shape.staticSizes,
                  let load = ShapeKernels.loader(type.dtype)
            else { return nil }
            return (0..<sizes.reduce(1, *)).map { i in
                switch load(pointer, i) {
                case .float(let v): v
                case .int(let v): Double(v)
                }
            }
        }
    }

    /// The parameters of `o` for `channels` output channels, or `nil` when an input cannot be read yet.
    static func parameters(_ o: QuantizedOperands, _ op: OpContext, channels: Int, read: Reader) -> Parameters? {
        func values(_ slot: Int?) -> [Double]?? {
            guard let slot, op.hasInput(slot) else { return .some(nil) }
            guard let v = read(slot) else { return nil }
            return .some(v)
        }
        func perChannel(_ v: [Double]?, _ otherwise: Double) -> [Double] {
            guard let v else { return [Double](repeating: otherwise, count: channels) }
            return v.count == 1 ? [Double](repeating: v[0], count: channels) : v
        }
        guard let aScale = values(o.aScale), let aZero = values(o.aZero), let bScale = values(o.bScale), let bZero = values(o.bZero),
              let yScale = values(o.yScale), let yZero = values(o.yZero), let bias = values(o.bias)
        else { return nil }
        var p = Parameters(bScales: perChannel(bScale, 1).map(Float.init), bZeros: perChannel(bZero, 0).map { Int32($0) })
        p.aScale = Float(aScale?.first ?? 1)
        p.aZero = Int32(aZero?.first ?? 0)
        if let aZero, aZero.count != 1 { p.aZeroRows = aZero.map { Int32($0) } }
        p.yScale = Float(yScale?.first ?? 1)
        p.yZero = Int32(yZero?.first ?? 0)
        if let bias, let slot = o.bias {
            let full = perChannel(bias, 0)
            if op.inputTypes[slot]?.dtype == .int32 { p.intBias = full.map { Int32($0) } } else { p.floatBias = full.map(Float.init) }
        }
        return p
    }

    /// The epilogue of channels `range` (whose packed rows sum to `rowSums`), for activations stored
    /// with `shift` (see ``Int8PackedWeights/activationShift(isSigned:zeroPoint:)``).
    static func epilogue(_ p: Parameters, range: Range<Int>, rowSums: [Int32], shift: Int32, output: OutputKind,
                         activation: PiecewiseLinear?) -> Int8Epilogue {
        let offsets = range.enumerated().map { i, m in (p.intBias?[m] ?? 0) &+ shift &* rowSums[i] }
        let quantized = output != .float && output != .int32
        let divisor: Float = quantized ? p.yScale : 1
        let multipliers = range.map { output == .int32 ? 1 : p.aScale * p.bScales[$0] / divisor }
        let bias = p.floatBias.map { b in range.map { b[$0] / divisor } }
        var act = EpilogueActivation.none
        if let activation, output != .int32 {
            act = EpilogueActivation(slope: activation.slope, low: activation.low / divisor, high: activation.high / divisor)
        }
        let kind: Int8Output = switch output {
        case .int32: .int32
        case .float: .float32
        case .quantized(let signed): signed ? .int8(zeroPoint: p.yZero) : .uint8(zeroPoint: p.yZero)
        }
        return Int8Epilogue(rowOffset: offsets, multiplier: multipliers, floatBias: bias, activation: act, output: kind)
    }

    /// Packs rows `range` of weights `w` (row r at `w + r · k`, minus the row's zero point) for the
    /// current variant, falling back to the portable one when a value does not fit.
    static func pack(_ w: UnsafeRawPointer, signed: Bool, rows range: Range<Int>, k: Int, zeros: [Int32],
                     transposedColumns: Int? = nil, portable: Bool = false) -> Int8PackedWeights {
        var values = [Int16](repeating: 0, count: range.count * k)
        for (i, r) in range.enumerated() {
            for c in 0..<k {
                // Row-major [rows, k], or a [k, columns] matrix read by columns (MatMul's b).
                let index = transposedColumns.map { c * $0 + r } ?? r * k + c
                let raw = signed ? Int16(w.load(fromByteOffset: index, as: Int8.self)) : Int16(w.load(fromByteOffset: index, as: UInt8.self))
                values[i * k + c] = raw - Int16(zeros[i])
            }
        }
        return (portable ? nil : Int8PackedWeights(weights: values, rows: range.count, reduction: k, variant: variant))
            ?? Int8PackedWeights(weights: values, rows: range.count, reduction: k, variant: .portable)!
    }

    /// The activation a fused op applies: piecewise linear (Relu, LeakyRelu, Clip), or an error.
    static func activation(_ k: KernelContext, _ o: QuantizedOperands) throws(OpError) -> PiecewiseLinear? {
        guard o.isFused, let activation = try FusedActivation(fusedNode: k.op) else { return nil }
        guard let form = activation.piecewiseLinear else {
            throw k.error("the integer kernel applies piecewise-linear activations only, not \(activation.opType)", subject: "activation")
        }
        return form
    }
}

extension Tensor {
    /// Elements of a numeric tensor as Double (`nil` for other types).
    var numericDoubles: [Double]? {
        guard let load = ShapeKernels.loader(dtype), let buffer else { return nil }
        return (0..<elementCount).map { i in
            switch load(buffer.baseAddress, i) {
            case .float(let v): v
            case .int(let v): Double(v)
            }
        }
    }
}
