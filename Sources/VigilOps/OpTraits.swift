import VigilIR

/// What passes and kernels may assume about an op, as data (TVM-style op patterns): the fuser,
/// the transpose sinker, constant folding and the executor's generic kernels read these, never a
/// list of op names.
public struct OpTraits: Sendable {
    /// A float elementwise function of one input (its other inputs, if any, are constant
    /// parameters): run by the executor's generic unary kernel, and fusable into a Conv/Gemm
    /// epilogue when ``ScalarActivation/fusable``.
    public var activation: ScalarActivation?
    /// The op acts elementwise on its first input (other inputs are scalars), so it commutes with
    /// any transpose or reshape of that input: `sink-transposes` moves layout ops below it.
    public var commutesWithLayout: Bool
    /// Whether nodes whose inputs are all constant may be evaluated ahead of time (false for ops
    /// with side effects or randomness).
    public var foldable: Bool

    public init(activation: ScalarActivation? = nil, commutesWithLayout: Bool? = nil, foldable: Bool = true) {
        self.activation = activation
        self.commutesWithLayout = commutesWithLayout ?? (activation != nil)
        self.foldable = foldable
    }
}

/// A scalar function `Float → Float`.
public typealias ScalarFunction = @Sendable (Float) -> Float

/// The piecewise-linear form `y = clamp(x < 0 ? slope·x : x, low, high)` (NaN stays NaN), which the
/// convolution kernels apply in their epilogue: Relu is (1, 0, ∞), LeakyRelu (α, −∞, ∞), Clip (1, min, max).
public struct PiecewiseLinear: Sendable, Equatable {
    public var slope: Float
    public var low: Float
    public var high: Float

    public init(slope: Float = 1, low: Float = -.infinity, high: Float = .infinity) {
        self.slope = slope
        self.low = low
        self.high = high
    }

    /// The function itself (for paths that apply it after the kernel).
    public var function: ScalarFunction {
        let (slope, low, high) = (slope, low, high)
        return { x in
            let v = x < 0 ? x * slope : x
            return v < low ? low : (v > high ? high : v)
        }
    }
}

/// The elementwise float function of an activation-like op, with its parameters as data.
///
/// Parameters are FLOAT attributes named in ``parameters`` (their defaults come from the op's
/// ``AttributeSpec``s); an op whose parameters are inputs instead (Clip from opset 11) supplies
/// ``read``. A fused Conv/Gemm stores the op type and the parameter values (`activation`,
/// `activation_params`), and everything else is derived from here: the function, the kernel
/// epilogue form, and the standard nodes an exporter writes back (``lower``).
public struct ScalarActivation: Sendable {
    /// Names of the FLOAT attributes that parameterize the function, in `activation_params` order.
    public let parameters: [String]
    /// The function for given parameter values.
    public let function: @Sendable ([Float]) -> ScalarFunction
    /// The epilogue form when the function is piecewise linear (the C kernels apply it in place).
    public let piecewiseLinear: (@Sendable ([Float]) -> PiecewiseLinear)?
    /// Whether the optimizer may fuse the op into a Conv/Gemm epilogue.
    public let fusable: Bool
    /// Reads the parameter values of a node; `nil` when they are not constant. Default: the FLOAT
    /// attributes in ``parameters``.
    public let read: (@Sendable (OpContext) throws(OpError) -> [Float]?)?
    /// Writes the op as standard nodes at an opset (default: the op with its parameters as attributes).
    public let lower: (@Sendable (ActivationLowering) throws -> [Node])?
    /// The function on integer inputs (computed in Int64 and truncated, so it wraps as numpy does),
    /// for ops that also take integers.
    public var integer: (@Sendable (Int64) -> Int64)?

    public init(
        parameters: [String] = [], fusable: Bool = false,
        piecewiseLinear: (@Sendable ([Float]) -> PiecewiseLinear)? = nil,
        read: (@Sendable (OpContext) throws(OpError) -> [Float]?)? = nil,
        lower: (@Sendable (ActivationLowering) throws -> [Node])? = nil,
        function: @escaping @Sendable ([Float]) -> ScalarFunction
    ) {
        self.parameters = parameters
        self.function = function
        self.piecewiseLinear = piecewiseLinear
        self.fusable = fusable
        self.read = read
        self.lower = lower
    }

    /// A function without parameters.
    public static func fixed(fusable: Bool = false, piecewiseLinear: PiecewiseLinear? = nil, _ f: @escaping ScalarFunction) -> ScalarActivation {
        var form: (@Sendable ([Float]) -> PiecewiseLinear)?
        if let piecewiseLinear { form = { _ in piecewiseLinear } }
        return ScalarActivation(fusable: fusable, piecewiseLinear: form) { _ in f }
    }

    /// The parameter values of a node (`nil` when not constant).
    public func parameterValues(_ c: OpContext) throws(OpError) -> [Float]? {
        if let read { return try read(c) }
        var values: [Float] = []
        for name in parameters { values.append(try c.float(name)) }
        return values
    }

    /// The function of a node, from its parameters; throws `unresolved` when they are not constant.
    public func function(_ c: OpContext) throws(OpError) -> ScalarFunction {
        guard let values = try parameterValues(c) else {
            throw c.error("the parameters of \(c.opType) must be constants", kind: .unresolved)
        }
        return function(values)
    }
}

/// What an exporter needs to write an activation back as standard ONNX nodes.
public struct ActivationLowering {
    /// The activation's op type and parameter values.
    public let opType: String
    public let parameters: [Float]
    /// The default-domain opset the nodes must be valid at.
    public let opset: Int
    /// The value the activation reads and the one it must write.
    public let input: String, output: String
    /// A stem for the names of new nodes and values.
    public let stem: String
    /// Returns an unused value name derived from its argument.
    public let freshName: (String) -> String
    /// Adds a constant initializer under a name from ``freshName`` and returns the name.
    public let addConstant: (String, Tensor) throws -> String

    public init(opType: String, parameters: [Float], opset: Int, input: String, output: String, stem: String,
                freshName: @escaping (String) -> String, addConstant: @escaping (String, Tensor) throws -> String) {
        self.opType = opType
        self.parameters = parameters
        self.opset = opset
        self.input = input
        self.output = output
        self.stem = stem
        self.freshName = freshName
        self.addConstant = addConstant
    }

    /// The single node `opType(input) → output` with the given attributes.
    public func node(attributes: [Attribute] = []) -> Node {
        Node(name: "\(stem)_\(opType.lowercased())", opType: opType, inputs: [input], outputs: [output], attributes: attributes)
    }
}
