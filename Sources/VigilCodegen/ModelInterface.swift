import VigilIR

/// A model's inputs and outputs as the generated Swift code names and types them.
public struct ModelInterface: Sendable {
    /// One input or output.
    public struct Value: Sendable {
        /// The name in the model.
        public var name: String
        /// The Swift property name (unescaped; see ``SwiftNames/escaped(_:)``).
        public var property: String
        public var dtype: DType?
        public var shape: Shape?
        /// The Swift element type (`Float`, `Int64`, …), or `nil` when the value is an untyped `Tensor`.
        public var scalarType: String?
        /// The model's doc string for the value.
        public var documentation: String
        /// Per axis, the parameter that gives its size (`nil` for fixed sizes); set for inputs only.
        public var dimParameters: [String?]

        /// `TypedTensor<Float>`, or `Tensor` when the element type has no Swift scalar.
        public var swiftType: String { scalarType.map { "TypedTensor<\($0)>" } ?? "Tensor" }

        /// `float32 [N, 1, 28, 28]`.
        public var typeDescription: String { "\(dtype?.rawValue ?? "?") \(shape?.description ?? "[*]")" }
    }

    /// A symbolic (or unknown) input dim and the parameter that sets its size.
    public struct DimParameter: Sendable, Equatable {
        /// The symbol's name in the model, or `nil` for an unnamed unknown dim.
        public var symbol: String?
        /// The Swift parameter name.
        public var parameter: String
        /// Where it first occurs: the input's model name and the axis.
        public var input: String
        public var axis: Int
    }

    public var inputs: [Value]
    public var outputs: [Value]
    /// Every parameter of the input shapes, in order of first occurrence.
    public var dimParameters: [DimParameter]

    /// Element types with a Swift scalar type in VigilRuntime (`TensorScalar`); others are untyped.
    static let scalarTypes: [DType: String] = [
        .float32: "Float", .float64: "Double", .int8: "Int8", .int16: "Int16", .int32: "Int32", .int64: "Int64",
        .uint8: "UInt8", .uint16: "UInt16", .uint32: "UInt32", .uint64: "UInt64", .bool: "Bool",
    ]

    /// Members of the generated `Input` and `Output` types besides the values themselves.
    public static let reservedInputMembers: Set<String> = ["modelFeeds"]
    public static let reservedOutputMembers: Set<String> = ["namedTensors"]

    /// Names inputs and outputs: lowerCamelCase, unique within the inputs and within the outputs
    /// (`_2`, … on a collision), dim parameters unique among the input names too.
    public init(model: Model) {
        var inputScope = IdentifierScope(reserved: Self.reservedInputMembers)
        inputs = model.graph.runtimeInputs.map { Self.value($0, property: inputScope.claim(SwiftNames.lowerCamel($0.name, role: "input"))) }
        var outputScope = IdentifierScope(reserved: Self.reservedOutputMembers)
        outputs = model.graph.outputs.map { Self.value($0, property: outputScope.claim(SwiftNames.lowerCamel($0.name, role: "output"))) }
        var parameters: [String: Int] = [:]  // symbol (or input/axis key) → index in dimParameters
        dimParameters = []
        for index in inputs.indices {
            guard let dims = inputs[index].shape?.dims else { continue }
            inputs[index].dimParameters = dims.enumerated().map { axis, dim -> String? in
                let key: String
                let symbol: String?
                switch dim {
                case .fixed: return nil
                case .symbolic(let name): (key, symbol) = ("symbol:" + name, name)
                case .unknown: (key, symbol) = ("axis:\(index):\(axis)", nil)
                }
                if let known = parameters[key] { return dimParameters[known].parameter }
                let base = symbol.map { SwiftNames.lowerCamel($0, role: "dim") } ?? "\(inputs[index].property)Dim\(axis)"
                let parameter = inputScope.claim(base)
                parameters[key] = dimParameters.count
                dimParameters.append(DimParameter(symbol: symbol, parameter: parameter, input: inputs[index].name, axis: axis))
                return parameter
            }
        }
    }

    static func value(_ info: ValueInfo, property: String) -> Value {
        let type = info.type?.tensorType
        let dtype = type?.dtype ?? nil
        let shape = type?.shape ?? nil
        return Value(
            name: info.name, property: property, dtype: dtype, shape: shape, scalarType: dtype.flatMap { scalarTypes[$0] },
            documentation: info.docString, dimParameters: shape.map { [String?](repeating: nil, count: $0.rank) } ?? [])
    }

    /// Whether every input has a Swift scalar type and a known rank, so that the wrapper can offer
    /// an initializer from plain arrays.
    public var inputsFromArrays: Bool { inputs.allSatisfy { $0.scalarType != nil && $0.shape != nil } }
}
