/// A model function (ONNX `FunctionProto`): a named, reusable node list.
public struct Function: Sendable, Equatable {
    public var name: String
    public var domain: String
    public var overload: String
    public var inputs: [String]
    public var outputs: [String]
    /// Attribute names without defaults.
    public var attributeNames: [String]
    /// Attributes with default values.
    public var attributeDefaults: [Attribute]
    public var nodes: [Node]
    public var opsetImports: [OpsetImport]
    public var valueInfo: [ValueInfo]
    public var docString: String
    public var metadata: [MetadataEntry]

    public init(
        name: String, domain: String, overload: String = "", inputs: [String], outputs: [String],
        attributeNames: [String] = [], attributeDefaults: [Attribute] = [], nodes: [Node],
        opsetImports: [OpsetImport], valueInfo: [ValueInfo] = [], docString: String = "",
        metadata: [MetadataEntry] = []
    ) {
        self.name = name
        self.domain = domain
        self.overload = overload
        self.inputs = inputs
        self.outputs = outputs
        self.attributeNames = attributeNames
        self.attributeDefaults = attributeDefaults
        self.nodes = nodes
        self.opsetImports = opsetImports
        self.valueInfo = valueInfo
        self.docString = docString
        self.metadata = metadata
    }
}

/// Training information carried through unchanged (ONNX `TrainingInfoProto`).
public struct TrainingInfo: Sendable, Equatable {
    public var initialization: Graph?
    public var algorithm: Graph?
    public var initializationBinding: [MetadataEntry]
    public var updateBinding: [MetadataEntry]

    public init(initialization: Graph?, algorithm: Graph?, initializationBinding: [MetadataEntry], updateBinding: [MetadataEntry]) {
        self.initialization = initialization
        self.algorithm = algorithm
        self.initializationBinding = initializationBinding
        self.updateBinding = updateBinding
    }
}

/// A whole model: the main graph plus the versions, opset imports and metadata around it.
public struct Model: Sendable, Equatable {
    public var irVersion: Int64
    public var opsetImports: [OpsetImport]
    public var producerName: String
    public var producerVersion: String
    public var domain: String
    public var modelVersion: Int64
    public var docString: String
    public var graph: Graph
    public var metadata: [MetadataEntry]
    public var functions: [Function]
    public var trainingInfo: [TrainingInfo]

    public init(
        irVersion: Int64, opsetImports: [OpsetImport], graph: Graph, producerName: String = "",
        producerVersion: String = "", domain: String = "", modelVersion: Int64 = 0, docString: String = "",
        metadata: [MetadataEntry] = [], functions: [Function] = [], trainingInfo: [TrainingInfo] = []
    ) {
        self.irVersion = irVersion
        self.opsetImports = opsetImports
        self.graph = graph
        self.producerName = producerName
        self.producerVersion = producerVersion
        self.domain = domain
        self.modelVersion = modelVersion
        self.docString = docString
        self.metadata = metadata
        self.functions = functions
        self.trainingInfo = trainingInfo
    }
}
