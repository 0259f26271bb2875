import VigilIR

/// How serious a diagnostic is.
public enum Severity: String, Sendable, Comparable, CaseIterable, Codable {
    /// The model is invalid or cannot be run as written.
    case error
    /// The model is valid but probably wrong (weights, dead code); an error under `--strict`.
    case warning
    /// Information, such as a shape that could not be resolved statically.
    case note

    private var rank: Int {
        switch self {
        case .error: 0
        case .warning: 1
        case .note: 2
        }
    }

    /// Errors sort first.
    public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs.rank < rhs.rank }
}

/// Where a diagnostic points: a node (name, op type and index in its graph), a value, the graph
/// path for subgraphs, and the Keras layer a node came from when the model was imported from Keras.
public struct Location: Hashable, Sendable {
    /// The path of subgraphs from the main graph: empty for the main graph, else e.g.
    /// `["'if1' (If).then_branch"]`.
    public var graphPath: [String]
    public var nodeName: String?
    public var opType: String?
    /// The node's position in its graph's node list (0-based).
    public var nodeIndex: Int?
    /// The value (tensor name) concerned.
    public var value: String?
    /// The Keras layer the node was imported from (node metadata ``Location/kerasLayerKey``).
    public var kerasLayer: String?

    /// The node metadata key under which the Keras importer records a node's source layer.
    public static let kerasLayerKey = "keras_layer"

    public init(graphPath: [String] = [], nodeName: String? = nil, opType: String? = nil, nodeIndex: Int? = nil,
                value: String? = nil, kerasLayer: String? = nil) {
        self.graphPath = graphPath
        self.nodeName = nodeName
        self.opType = opType
        self.nodeIndex = nodeIndex
        self.value = value
        self.kerasLayer = kerasLayer
    }

    /// A location at a node.
    public static func node(_ node: Node, index: Int?, graphPath: [String] = [], value: String? = nil) -> Location {
        Location(graphPath: graphPath, nodeName: node.name, opType: node.opType, nodeIndex: index, value: value,
                 kerasLayer: node.metadata.first { $0.key == kerasLayerKey }?.value)
    }

    /// A location at a value.
    public static func value(_ name: String, graphPath: [String] = []) -> Location {
        Location(graphPath: graphPath, value: name)
    }

    /// The model as a whole.
    public static let model = Location()

    /// A compact human description: `node #3 'conv1' (Conv), value 'x' [layer 'conv2d']`.
    public var description: String {
        var parts: [String] = []
        if !graphPath.isEmpty { parts.append("in " + graphPath.joined(separator: " > ")) }
        if let opType {
            var node = "node"
            if let nodeIndex { node += " #\(nodeIndex)" }
            if let nodeName, !nodeName.isEmpty { node += " '\(nodeName)'" }
            parts.append(node + " (\(opType.isEmpty ? "<no op_type>" : opType))")
        }
        if let value { parts.append("value '\(value)'") }
        if let kerasLayer { parts.append("Keras layer '\(kerasLayer)'") }
        return parts.isEmpty ? "model" : parts.joined(separator: ", ")
    }
}

/// One finding of the verifier.
public struct Diagnostic: Hashable, Sendable, CustomStringConvertible {
    public var code: DiagnosticCode
    public var severity: Severity
    public var location: Location
    public var message: String
    public var hint: String?

    /// A diagnostic with the code's default severity.
    public init(_ code: DiagnosticCode, _ message: String, at location: Location = .model, hint: String? = nil,
                severity: Severity? = nil) {
        self.code = code
        self.severity = severity ?? code.defaultSeverity
        self.location = location
        self.message = message
        self.hint = hint
    }

    /// One line: `error[V201] at node #3 'conv1' (Conv): message`.
    public var description: String { "\(severity)[\(code.rawValue)] at \(location): \(message)" }
}

/// The stable diagnostic codes. Codes are never reused for a different meaning; see
/// `Formats/diagnostics.md`.
public enum DiagnosticCode: String, Sendable, CaseIterable, Codable, Comparable {
    // Reading the file
    case unreadable = "V001"
    case malformedProtobuf = "V002"
    case invalidAtLoad = "V003"
    case externalData = "V004"
    case unsupportedByReader = "V005"
    case tensorData = "V006"
    // Model: versions and opsets
    case irVersion = "V100"
    case noDefaultOpset = "V101"
    case duplicateOpsetImport = "V102"
    case opsetVersion = "V103"
    case opsetNeedsNewerIR = "V104"
    case domainNotImported = "V105"
    case duplicateInitializer = "V106"
    case emptyName = "V107"
    case initializerNotInput = "V108"
    // Graph structure
    case multipleDefinitions = "V110"
    case undefinedValue = "V111"
    case notTopological = "V112"
    case cycle = "V113"
    case outputNotProduced = "V114"
    case missingType = "V115"
    case emptyOpType = "V116"
    case duplicateAttribute = "V117"
    case referenceAttributeOutsideFunction = "V118"
    case subgraphSignature = "V119"
    // Operator schemas
    case unknownOperator = "V120"
    case deprecatedOperator = "V121"
    case unknownAttribute = "V122"
    case attributeType = "V123"
    case missingAttribute = "V124"
    case inputCount = "V125"
    case outputCount = "V126"
    case sparseTensor = "V127"
    case emptyRequiredSlot = "V128"
    // Types and shapes
    case inference = "V200"
    case declaredTypeConflict = "V203"
    case declaredShapeConflict = "V204"
    case notImplemented = "V205"
    case unresolvedShape = "V206"
    // Weight lint
    case nonFinite = "V300"
    case nonPositiveVariance = "V301"
    case nonPositiveEpsilon = "V302"
    case allZeroWeight = "V303"
    case denormals = "V304"
    case unusedInitializer = "V305"
    case deadNode = "V306"
    case constantOutput = "V307"
    case duplicateInitializerData = "V308"

    public static func < (lhs: DiagnosticCode, rhs: DiagnosticCode) -> Bool { lhs.rawValue < rhs.rawValue }

    /// The severity a diagnostic with this code has unless stated otherwise.
    public var defaultSeverity: Severity {
        switch self {
        case .nonFinite, .nonPositiveVariance, .nonPositiveEpsilon, .allZeroWeight, .denormals, .unusedInitializer,
            .deadNode, .constantOutput, .duplicateInitializerData, .notImplemented, .opsetNeedsNewerIR:
            .warning
        case .unresolvedShape:
            .note
        default:
            .error
        }
    }

    /// A short kebab-case name (the SARIF rule name).
    public var name: String {
        switch self {
        case .unreadable: "unreadable-file"
        case .malformedProtobuf: "malformed-protobuf"
        case .invalidAtLoad: "invalid-model"
        case .externalData: "external-data"
        case .unsupportedByReader: "unsupported-by-reader"
        case .tensorData: "tensor-data"
        case .irVersion: "ir-version"
        case .noDefaultOpset: "no-default-opset"
        case .duplicateOpsetImport: "duplicate-opset-import"
        case .opsetVersion: "opset-version"
        case .opsetNeedsNewerIR: "opset-needs-newer-ir"
        case .domainNotImported: "domain-not-imported"
        case .duplicateInitializer: "duplicate-initializer"
        case .emptyName: "empty-name"
        case .initializerNotInput: "initializer-not-input"
        case .multipleDefinitions: "multiple-definitions"
        case .undefinedValue: "undefined-value"
        case .notTopological: "not-topological"
        case .cycle: "cycle"
        case .outputNotProduced: "output-not-produced"
        case .missingType: "missing-type"
        case .emptyOpType: "empty-op-type"
        case .duplicateAttribute: "duplicate-attribute"
        case .referenceAttributeOutsideFunction: "ref-attr-outside-function"
        case .subgraphSignature: "subgraph-signature"
        case .unknownOperator: "unknown-operator"
        case .deprecatedOperator: "deprecated-operator"
        case .unknownAttribute: "unknown-attribute"
        case .attributeType: "attribute-type"
        case .missingAttribute: "missing-attribute"
        case .inputCount: "input-count"
        case .outputCount: "output-count"
        case .sparseTensor: "sparse-tensor"
        case .emptyRequiredSlot: "empty-required-slot"
        case .inference: "inference"
        case .declaredTypeConflict: "declared-type-conflict"
        case .declaredShapeConflict: "declared-shape-conflict"
        case .notImplemented: "not-implemented"
        case .unresolvedShape: "unresolved-shape"
        case .nonFinite: "non-finite-weights"
        case .nonPositiveVariance: "non-positive-variance"
        case .nonPositiveEpsilon: "non-positive-epsilon"
        case .allZeroWeight: "all-zero-weight"
        case .denormals: "denormal-weights"
        case .unusedInitializer: "unused-initializer"
        case .deadNode: "dead-node"
        case .constantOutput: "constant-output"
        case .duplicateInitializerData: "duplicate-initializer-data"
        }
    }

    /// One sentence on what the code means.
    public var summary: String {
        switch self {
        case .unreadable: "The file cannot be opened or read."
        case .malformedProtobuf: "The file is not a well-formed ONNX protobuf message."
        case .invalidAtLoad: "The reader rejected the model as invalid."
        case .externalData: "An external data reference is unsafe or does not fit its file."
        case .unsupportedByReader: "The file uses something the reader does not support (e.g. an unknown data type)."
        case .tensorData: "A tensor's data does not match its type and shape."
        case .irVersion: "The IR version is missing or outside the supported range."
        case .noDefaultOpset: "The model imports no version of the default ONNX domain."
        case .duplicateOpsetImport: "A domain is imported more than once."
        case .opsetVersion: "An imported opset version does not exist."
        case .opsetNeedsNewerIR: "The default-domain opset needs a newer IR version than the model declares."
        case .domainNotImported: "A node's domain is not among the model's opset imports."
        case .duplicateInitializer: "Two initializers share a name."
        case .emptyName: "An initializer, graph value or attribute has an empty name."
        case .initializerNotInput: "Below IR version 4 every initializer must also be a graph input."
        case .multipleDefinitions: "A value is defined more than once (graph input, initializer or node output): not SSA."
        case .undefinedValue: "A node reads a value that nothing in scope defines."
        case .notTopological: "A node reads a value produced by a later node."
        case .cycle: "Nodes depend on each other in a cycle."
        case .outputNotProduced: "A graph output is neither produced by a node nor otherwise defined."
        case .missingType: "A graph input or output lacks a type, element type or shape."
        case .emptyOpType: "A node has no op_type."
        case .duplicateAttribute: "A node has two attributes with the same name."
        case .referenceAttributeOutsideFunction: "An attribute refers to a caller attribute (ref_attr_name) outside a function body."
        case .subgraphSignature: "A control-flow node (If, Loop) disagrees with its subgraphs' inputs or outputs, or its condition is not bool."
        case .unknownOperator: "The operator does not exist in the imported opset of its domain."
        case .deprecatedOperator: "The operator is deprecated in the imported opset."
        case .unknownAttribute: "The operator has no attribute of this name in the imported opset."
        case .attributeType: "An attribute has the wrong type for the operator."
        case .missingAttribute: "A required attribute is missing."
        case .inputCount: "The node lists more or fewer inputs than the operator accepts."
        case .outputCount: "The node lists more or fewer outputs than the operator produces."
        case .sparseTensor: "A sparse tensor's indices or values are inconsistent with its shape."
        case .emptyRequiredSlot: "A required (non-optional) input or output of the operator is left empty."
        case .inference: "Type and shape inference (VigilOps) rejects the node."
        case .declaredTypeConflict: "A declared element type disagrees with the inferred one."
        case .declaredShapeConflict: "A declared shape disagrees with the inferred one."
        case .notImplemented: "Vigil does not implement the operator (or this form of it, or its opset); its outputs are not type-checked."
        case .unresolvedShape: "An output's shape depends on a value not known statically."
        case .nonFinite: "An initializer holds NaN or infinite values."
        case .nonPositiveVariance: "A BatchNormalization variance is zero or negative."
        case .nonPositiveEpsilon: "A normalization epsilon is zero or negative."
        case .allZeroWeight: "A weight tensor is entirely zero."
        case .denormals: "An initializer holds denormal (subnormal) floats, which are slow on many CPUs."
        case .unusedInitializer: "No node, subgraph or graph output reads the initializer."
        case .deadNode: "The node's outputs reach no graph output."
        case .constantOutput: "The graph output does not depend on any graph input."
        case .duplicateInitializerData: "Two initializers hold identical data."
        }
    }
}
