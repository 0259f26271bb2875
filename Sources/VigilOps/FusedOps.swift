import VigilIR

/// Vigil's fused operators (domain `ai.vigil`, version 1), produced by the optimizer and run by the
/// executor in the GEMM epilogue. They mirror onnxruntime's `com.microsoft` FusedConv/FusedGemm:
///
/// - `FusedConv(X, W, [B], [Z])` = `act(Conv(X, W, B) + Z)`: Conv's attributes plus `activation`
///   and `activation_params`; `Z`, the residual, has the output's type and shape.
/// - `FusedGemm(A, B, [C])` = `act(Gemm(A, B, C))`: Gemm's attributes plus `activation` and
///   `activation_params`.
/// - `FusedBatchNormalization(X, scale, B, mean, var)` = `act(BatchNormalization(X, …))` in inference
///   mode (one output): BatchNormalization's attributes plus `activation` and `activation_params` (a
///   pre-activation network's BatchNormalization → Relu, which no Conv before it can absorb).
///
/// `activation` names any default-domain op whose descriptor has a fusable
/// ``OpTraits/activation`` (absent: none); `activation_params` holds its parameter values in the
/// order ``ScalarActivation/parameters`` gives (LeakyRelu's `alpha`, Clip's `min, max`, …).
/// Exporters lower them back to standard ONNX ops.
public enum FusedOps {
    /// The domain of Vigil's own operators.
    public static let domain = "ai.vigil"
    /// The opset version of ``domain`` these descriptors implement.
    public static let version = 1

    static var descriptors: [OpDescriptor] {
        let fused: [AttributeSpec] = [.optional("activation", .string), .optional("activation_params", .floats)]
        return [
            OpDescriptor("FusedConv", domain: domain, inputs: 2...4, since: 1,
                         attributes: Array(Convolution.conv.attributes.values) + fused, infer: inferFusedConv),
            OpDescriptor("FusedGemm", domain: domain, inputs: 2...3, since: 1,
                         attributes: Array(LinearAlgebra.gemm.attributes.values) + fused, infer: inferFusedGemm),
            OpDescriptor("FusedBatchNormalization", domain: domain, inputs: 5...5, since: 1,
                         attributes: Array(batchNormalization.attributes.values) + fused, infer: inferFusedBatchNormalization),
        ]
    }

    /// The standard BatchNormalization descriptor (opset 7 on) the fused form extends.
    static let batchNormalization = Normalization.descriptors.first { $0.opType == "BatchNormalization" }!

    /// The standard-op context the fused op's own part is checked under (Conv/Gemm/BatchNormalization at
    /// opset 13, on its first `operands` inputs).
    static func inner(_ c: OpContext, _ base: OpDescriptor, operands: Int = 3) -> OpContext {
        OpContext(node: c.node, opset: 13, inputTypes: Array(c.inputTypes.prefix(operands)), inputValues: Array(c.inputValues.prefix(operands)),
                  descriptor: base)
    }

    static func inferFusedConv(_ c: OpContext) throws(OpError) -> [InferredOutput] {
        _ = try FusedActivation(fusedNode: c)
        let outputs = try Convolution.inferConv(inner(c, Convolution.conv))
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
        _ = try FusedActivation(fusedNode: c)
        return try LinearAlgebra.inferGemm(inner(c, LinearAlgebra.gemm))
    }

    static func inferFusedBatchNormalization(_ c: OpContext) throws(OpError) -> [InferredOutput] {
        _ = try FusedActivation(fusedNode: c)
        return Array(try Normalization.inferBatchNorm(inner(c, batchNormalization, operands: 5)).prefix(1))
    }
}

/// The activation a fused op applies to its output: a fusable activation op and its parameters.
public struct FusedActivation: Sendable, Equatable {
    /// The activation's op type (default domain).
    public let opType: String
    /// Its parameter values, in the order of ``ScalarActivation/parameters``.
    public let parameters: [Float]
    /// The activation's trait.
    public let activation: ScalarActivation

    /// An activation from its op type and parameters; `nil` when the op is not a fusable activation
    /// or the parameter count is wrong.
    public init?(opType: String, parameters: [Float], registry: OpRegistry = .standard) {
        guard let activation = registry.descriptor(domain: "", opType: opType)?.traits.activation, activation.fusable,
              activation.parameters.count == parameters.count
        else { return nil }
        self.opType = opType
        self.parameters = parameters
        self.activation = activation
    }

    /// The activation a node applies to its first input, when a fused op can apply it instead:
    /// a fusable activation op whose parameters are constants.
    public init?(activationNode c: OpContext) throws(OpError) {
        guard c.node.isDefaultDomain, c.node.outputs.count == 1, let activation = c.descriptor?.traits.activation,
              activation.fusable, let values = try activation.parameterValues(c)
        else { return nil }
        self.init(opType: c.node.opType, parameters: values)
    }

    /// The activation of a fused node (`activation`, `activation_params`), or `nil` when it has none;
    /// throws on an unknown name or wrong parameters.
    public init?(fusedNode c: OpContext) throws(OpError) {
        guard let name = try c.optionalString("activation") else { return nil }
        let parameters = try c.floats("activation_params") ?? []
        guard let activation = FusedActivation(opType: name, parameters: parameters) else {
            throw c.error("unknown activation '\(name)' with \(parameters.count) activation_params (known: \(Self.names.joined(separator: ", ")))",
                          subject: "activation")
        }
        self = activation
    }

    /// The op types of every fusable activation.
    public static var names: [String] {
        OpRegistry.standard.all.filter { $0.domain.isEmpty && $0.traits.activation?.fusable == true }.map(\.opType)
    }

    /// The scalar function.
    public var function: ScalarFunction { activation.function(parameters) }

    /// The epilogue form when the function is piecewise linear.
    public var piecewiseLinear: PiecewiseLinear? { activation.piecewiseLinear?(parameters) }

    /// The closed form the vectorized kernels compute, when there is one.
    public var vectorForm: VectorForm? { activation.vectorForm(parameters) }

    /// The standard nodes computing the activation at an opset (see ``ScalarActivation/lower``).
    public func lowered(_ lowering: ActivationLowering) throws -> [Node] {
        if let lower = activation.lower { return try lower(lowering) }
        let attributes = zip(activation.parameters, parameters).map { Attribute(name: $0, value: .float($1)) }
        return [lowering.node(attributes: attributes)]
    }

    public static func == (lhs: FusedActivation, rhs: FusedActivation) -> Bool {
        lhs.opType == rhs.opType && lhs.parameters == rhs.parameters
    }
}
