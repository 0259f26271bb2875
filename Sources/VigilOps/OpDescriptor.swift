import VigilIR

/// Everything Vigil knows about one operator, in one place: its name and domain, the opsets it
/// implements, its arity, the attributes it reads with their defaults, its type and shape inference
/// (which is also where the node is validated) and its traits as data.
///
/// The executor, the verifier and the optimizer read descriptors; none of them keeps its own list
/// of op names. A new op is one descriptor (in the file of its family) plus, for the executor, a
/// kernel; an elementwise activation needs no kernel of its own (see ``OpTraits/activation``).
public struct OpDescriptor: Sendable {
    public typealias Inference = @Sendable (OpContext) throws(OpError) -> [InferredOutput]

    /// The operator domain (`""` is the default ONNX domain).
    public let domain: String
    public let opType: String
    /// The opset versions of ``domain`` whose semantics are implemented (per-opset forms are told
    /// apart by `OpContext.opset` inside the inference).
    public let versions: ClosedRange<Int>
    /// How many inputs a node may list (trailing optional ones included).
    public let inputs: ClosedRange<Int>
    /// How many outputs a node may list.
    public let outputs: ClosedRange<Int>
    /// The attributes the op reads, by name: kinds and defaults (the only place a default is written).
    public let attributes: [String: AttributeSpec]
    /// Traits that kernels, passes and the verifier read.
    public let traits: OpTraits
    private let inference: Inference

    /// The newest default-domain opset whose operator set Vigil knows (onnx 1.23's
    /// `onnx_opset_version()`; a test keeps it equal to the verifier's catalog). A model importing a
    /// newer opset may change any op's semantics, so ops are implemented through this one only.
    public static let newestKnownOpset = 28

    /// - Parameters:
    ///   - since: the lowest implemented opset; `through` the highest (default: ``newestKnownOpset``
    ///     in the default domain, every later one elsewhere).
    public init(
        _ opType: String, domain: String = "", inputs: ClosedRange<Int>, outputs: ClosedRange<Int> = 1...1,
        since: Int = 1, through: Int? = nil, attributes: [AttributeSpec] = [], traits: OpTraits = OpTraits(),
        infer: @escaping Inference
    ) {
        self.domain = Domain.canonical(domain)
        self.opType = opType
        self.versions = since...(through ?? (Domain.isDefault(domain) ? Self.newestKnownOpset : .max))
        self.inputs = inputs
        self.outputs = outputs
        self.attributes = Dictionary(attributes.map { ($0.name, $0) }) { first, _ in first }
        precondition(self.attributes.count == attributes.count, "\(opType): an attribute is declared twice")
        self.traits = traits
        self.inference = infer
    }

    /// The lowest opset whose semantics are implemented.
    public var sinceVersion: Int { versions.lowerBound }

    /// `OpType`, or `domain::OpType` outside the default domain.
    public var qualifiedName: String { Domain.qualified(domain, opType) }

    /// Checks the node against this descriptor (arity, opset) and infers its output types.
    public func infer(_ context: OpContext) throws(OpError) -> [InferredOutput] {
        let c = context.descriptor?.opType == opType ? context : context.with(descriptor: self)
        let node = c.node
        guard inputs.contains(node.inputs.count) else {
            throw c.error("takes \(Self.describe(inputs)) inputs but the node lists \(node.inputs.count)")
        }
        guard outputs.contains(node.outputs.count) else {
            throw c.error("produces \(Self.describe(outputs)) outputs but the node lists \(node.outputs.count)")
        }
        guard versions.contains(c.opset) else {
            let supported = versions.upperBound == .max ? "\(versions.lowerBound) and later" : "\(versions.lowerBound)…\(versions.upperBound)"
            throw c.error("opset \(c.opset) is not supported (Vigil implements opsets \(supported))", kind: .unsupported)
        }
        var results = try inference(c)
        if results.count > node.outputs.count { results.removeLast(results.count - node.outputs.count) }
        guard results.count == node.outputs.count else {
            throw c.error("inference produced \(results.count) outputs for \(node.outputs.count) declared")
        }
        return results
    }

    static func describe(_ range: ClosedRange<Int>) -> String {
        if range.count == 1 { return "\(range.lowerBound)" }
        if range.upperBound == Int.max { return "at least \(range.lowerBound)" }
        return "\(range.lowerBound)…\(range.upperBound)"
    }
}

/// An attribute an op reads: its name, kind and default. Reading an attribute through `OpContext`
/// takes the node's value or this default, so a default is written once, here.
public struct AttributeSpec: Sendable, Equatable {
    /// ONNX attribute kinds, spelled as `AttributeValue.kindName` spells them.
    public enum Kind: String, Sendable {
        case int = "INT", float = "FLOAT", string = "STRING", tensor = "TENSOR", graph = "GRAPH"
        case sparseTensor = "SPARSE_TENSOR", ints = "INTS", floats = "FLOATS", strings = "STRINGS"
    }

    public let name: String
    public let kind: Kind
    /// The value when the node omits the attribute (`nil`: none; the op then treats it as absent).
    public let defaultValue: AttributeValue?
    /// Whether a node must give it.
    public let required: Bool

    public init(_ name: String, _ kind: Kind, default defaultValue: AttributeValue? = nil, required: Bool = false) {
        self.name = name
        self.kind = kind
        self.defaultValue = defaultValue
        self.required = required
    }

    public static func int(_ name: String, _ value: Int64) -> AttributeSpec { AttributeSpec(name, .int, default: .int(value)) }
    public static func float(_ name: String, _ value: Float) -> AttributeSpec { AttributeSpec(name, .float, default: .float(value)) }
    public static func string(_ name: String, _ value: String) -> AttributeSpec {
        AttributeSpec(name, .string, default: .string(Array(value.utf8)))
    }
    /// An attribute without a default (absent means "not given").
    public static func optional(_ name: String, _ kind: Kind) -> AttributeSpec { AttributeSpec(name, kind) }
    /// An attribute every node must give.
    public static func required(_ name: String, _ kind: Kind) -> AttributeSpec { AttributeSpec(name, kind, required: true) }
}

/// Maps (domain, op type) to descriptors. Registering two descriptors for one op with overlapping
/// opset ranges is a programming error and stops the process at start-up (a test registers them all).
public struct OpRegistry: Sendable {
    private var table: [String: [OpDescriptor]] = [:]

    public init(_ descriptors: [OpDescriptor]) {
        for descriptor in descriptors { register(descriptor) }
    }

    /// Adds a descriptor; its opset range must not overlap another form of the same op.
    public mutating func register(_ descriptor: OpDescriptor) {
        let key = Self.key(descriptor.domain, descriptor.opType)
        let forms = table[key, default: []]
        precondition(!forms.contains { $0.versions.overlaps(descriptor.versions) },
                     "\(descriptor.qualifiedName) is registered twice for overlapping opsets")
        table[key] = (forms + [descriptor]).sorted { $0.versions.lowerBound < $1.versions.lowerBound }
    }

    /// The descriptor of an op at an opset, or `nil` when unsupported. Without an opset: its newest form.
    public func descriptor(domain: String, opType: String, opset: Int? = nil) -> OpDescriptor? {
        guard let forms = table[Self.key(domain, opType)] else { return nil }
        guard let opset else { return forms.last }
        return forms.last { $0.versions.contains(opset) } ?? forms.last
    }

    /// The descriptor of a node's op (newest form when the opset is not given).
    public func descriptor(for node: Node, opset: Int? = nil) -> OpDescriptor? {
        descriptor(domain: node.domain, opType: node.opType, opset: opset)
    }

    /// Every registered descriptor (all forms), sorted by qualified name.
    public var all: [OpDescriptor] {
        table.values.flatMap { $0 }.sorted { ($0.qualifiedName, $0.sinceVersion) < ($1.qualifiedName, $1.sinceVersion) }
    }

    /// Every registered op type, sorted, as `domain::OpType` for non-default domains.
    public var opTypes: [String] { Set(all.map(\.qualifiedName)).sorted() }

    /// Infers the output types of a node, throwing an `unsupported` error for an unknown op.
    public func infer(_ context: OpContext) throws(OpError) -> [InferredOutput] {
        guard let descriptor = descriptor(for: context.node, opset: context.opset) else {
            throw context.error("unsupported op \(Domain.qualified(context.node.domain, context.node.opType))", kind: .unsupported)
        }
        return try descriptor.infer(context)
    }

    private static func key(_ domain: String, _ opType: String) -> String { Domain.canonical(domain) + "::" + opType }

    /// Every op Vigil implements, registered by family.
    public static let standard = OpRegistry(
        Activations.descriptors + Elementwise.descriptors + LinearAlgebra.descriptors + Convolution.descriptors
            + Pooling.descriptors + Normalization.descriptors + Reduction.descriptors + ShapeOps.descriptors
            + Resampling.descriptors + Indexing.descriptors + Einsum.descriptors + FusedOps.descriptors + Quantization.descriptors
            + AttentionOps.descriptors)
}
