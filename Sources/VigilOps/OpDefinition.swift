import VigilIR

/// The schema and type/shape inference of one operator: the single home of its rules.
///
/// `infer` checks arity first, then runs the op's inference, which validates attributes and input
/// types and returns one ``InferredOutput`` per declared node output.
public struct OpDefinition: Sendable {
    public typealias Inference = @Sendable (OpContext) throws(OpError) -> [InferredOutput]

    /// The operator domain ("" is the default ONNX domain).
    public let domain: String
    public let opType: String
    /// How many inputs the node may list (trailing optional ones included).
    public let inputs: ClosedRange<Int>
    /// How many outputs the node may list.
    public let outputs: ClosedRange<Int>
    /// The lowest opset version whose semantics are implemented.
    public let sinceVersion: Int
    private let inference: Inference

    public init(
        _ opType: String, domain: String = "", inputs: ClosedRange<Int>, outputs: ClosedRange<Int> = 1...1,
        since: Int = 1, infer: @escaping Inference
    ) {
        self.domain = domain
        self.opType = opType
        self.inputs = inputs
        self.outputs = outputs
        self.sinceVersion = since
        self.inference = infer
    }

    /// Checks the node against this schema and infers its output types.
    public func infer(_ context: OpContext) throws(OpError) -> [InferredOutput] {
        let node = context.node
        guard inputs.contains(node.inputs.count) else {
            throw context.error("takes \(Self.describe(inputs)) inputs but the node lists \(node.inputs.count)")
        }
        guard outputs.contains(node.outputs.count) else {
            throw context.error("produces \(Self.describe(outputs)) outputs but the node lists \(node.outputs.count)")
        }
        guard context.opset >= sinceVersion else {
            throw context.error("opset \(context.opset) is older than the supported \(sinceVersion)", kind: .unsupported)
        }
        var results = try inference(context)
        if results.count > node.outputs.count { results.removeLast(results.count - node.outputs.count) }
        guard results.count == node.outputs.count else {
            throw context.error("inference produced \(results.count) outputs for \(node.outputs.count) declared")
        }
        return results
    }

    private static func describe(_ range: ClosedRange<Int>) -> String {
        if range.count == 1 { return "\(range.lowerBound)" }
        if range.upperBound == Int.max { return "at least \(range.lowerBound)" }
        return "\(range.lowerBound)…\(range.upperBound)"
    }
}

/// Maps (domain, op type) to op definitions.
public struct OpRegistry: Sendable {
    private var table: [String: OpDefinition] = [:]

    public init(_ definitions: [OpDefinition]) {
        for definition in definitions { register(definition) }
    }

    /// Adds or replaces a definition.
    public mutating func register(_ definition: OpDefinition) {
        table[Self.key(definition.domain, definition.opType)] = definition
    }

    /// The definition for an op, or `nil` when unsupported.
    public func definition(domain: String, opType: String) -> OpDefinition? {
        table[Self.key(domain, opType)]
    }

    /// Every registered op type, sorted, as `domain::OpType` for non-default domains.
    public var opTypes: [String] {
        table.values.map { $0.domain.isEmpty ? $0.opType : "\($0.domain)::\($0.opType)" }.sorted()
    }

    /// Infers the output types of a node, throwing an `unsupported` error for an unknown op.
    public func infer(_ context: OpContext) throws(OpError) -> [InferredOutput] {
        guard let definition = definition(domain: context.node.domain, opType: context.node.opType) else {
            throw context.error("unsupported op \(context.node.opType)", kind: .unsupported)
        }
        return try definition.infer(context)
    }

    private static func key(_ domain: String, _ opType: String) -> String {
        let d = domain == "ai.onnx" ? "" : domain
        return d + "::" + opType
    }

    /// Every op Vigil implements, registered by family.
    public static let standard = OpRegistry(
        Elementwise.definitions + LinearAlgebra.definitions + Convolution.definitions + Pooling.definitions
            + Normalization.definitions + Reduction.definitions + ShapeOps.definitions + Resampling.definitions
            + FusedOps.definitions)
}
