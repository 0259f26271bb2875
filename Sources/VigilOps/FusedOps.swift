import VigilIR

/// Vigil's fused operators (domain `ai.vigil`, version 1), produced by the optimizer and run by the
/// executor in the GEMM epilogue. They mirror onnxruntime's `com.microsoft` FusedConv/FusedGemm:
///
/// - `FusedConv(X, W, [B], [Z])` = `act(Conv(X, W, B) + Z)`: Conv's attributes plus `activation`
///   and `activation_params`; `Z`, the residual, has the output's type and shape.
/// - `FusedGemm(A, B, [C])` = `act(Gemm(A, B, C))`: Gemm's attributes plus `activation` and
///   `activation_params`.
///
/// `activation` is one of ``FusedActivation/names`` (absent: none); `activation_params` holds
/// LeakyRelu's `alpha` or Clip's `min, max`. Exporters lower them back to standard ONNX ops.
public enum FusedOps {
    /// The domain of Vigil's own operators.
    public static let domain = "ai.vigil"
    /// The opset version of ``domain`` these definitions implement.
    public static let version = 1

    static var definitions: [OpDefinition] {
        [
            OpDefinition("FusedConv", domain: domain, inputs: 2...4, since: 1, infer: inferFusedConv),
            OpDefinition("FusedGemm", domain: domain, inputs: 2...3, since: 1, infer: inferFusedGemm),
        ]
    }

    /// The standard-op context the fused op's own part is checked under (Conv/Gemm at opset 13).
    static func inner(_ c: OpContext) -> OpContext {
        OpContext(node: c.node, opset: 13, inputTypes: Array(c.inputTypes.prefix(3)), inputValues: Array(c.inputValues.prefix(3)))
    }

    static func inferFusedConv(_ c: OpContext) throws(OpError) -> [InferredOutput] {
        _ = try FusedActivation(c)
        let outputs = try Convolution.inferConv(inner(c))
        if c.hasInput(3) {
            let z = try c.input(3), y = outputs[0].type
            guard z.dtype == y.dtype, z.shape.rank == y.shape.rank,
                  zip(z.shape.dims, y.shape.dims).allSatisfy({ $0.value == nil || $1.value == nil || $0.value == $1.value })
            else {
                throw c.error("residual Z \(z.dtype)\(z.shape) must have the output's type \(y.dtype)\(y.shape)", subject: c.inputLabel(3))
            }
        }
        return outputs
    }

    static func inferFusedGemm(_ c: OpContext) throws(OpError) -> [InferredOutput] {
        _ = try FusedActivation(c)
        return try LinearAlgebra.inferGemm(inner(c))
    }
}

/// The activation a fused op applies to its output.
public enum FusedActivation: Sendable, Equatable {
    case relu
    case leakyRelu(alpha: Float)
    case clip(min: Float, max: Float)
    case sigmoid
    case tanh
    case hardSwish

    /// Activation names, as in the `activation` attribute and the ONNX op they stand for.
    public static let names = ["Relu", "LeakyRelu", "Clip", "Sigmoid", "Tanh", "HardSwish"]

    /// The ONNX op type this activation is.
    public var opType: String {
        switch self {
        case .relu: "Relu"
        case .leakyRelu: "LeakyRelu"
        case .clip: "Clip"
        case .sigmoid: "Sigmoid"
        case .tanh: "Tanh"
        case .hardSwish: "HardSwish"
        }
    }

    /// The `activation_params` attribute value.
    public var parameters: [Float] {
        switch self {
        case .leakyRelu(let alpha): [alpha]
        case .clip(let low, let high): [low, high]
        default: []
        }
    }

    /// Builds an activation from its name and parameters; `nil` when the name is unknown or the
    /// parameter count is wrong.
    public init?(name: String, parameters: [Float]) {
        switch (name, parameters.count) {
        case ("Relu", 0): self = .relu
        case ("LeakyRelu", 1): self = .leakyRelu(alpha: parameters[0])
        case ("Clip", 2): self = .clip(min: parameters[0], max: parameters[1])
        case ("Sigmoid", 0): self = .sigmoid
        case ("Tanh", 0): self = .tanh
        case ("HardSwish", 0): self = .hardSwish
        default: return nil
        }
    }

    /// The fused op's activation, or `nil` when it has none; throws on an unknown name or wrong parameters.
    public init?(_ c: OpContext) throws(OpError) {
        guard c.node.attribute("activation") != nil else { return nil }
        let name = try c.string("activation", default: "")
        let parameters = try c.floats("activation_params") ?? []
        guard let activation = FusedActivation(name: name, parameters: parameters) else {
            throw c.error("unknown activation '\(name)' with \(parameters.count) activation_params (known: \(Self.names.joined(separator: ", ")); LeakyRelu takes alpha, Clip takes min and max)", subject: "activation")
        }
        self = activation
    }
}
