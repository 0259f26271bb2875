import VigilIR

/// Everything inference (and kernel construction) knows about one node: the node, the opset it is
/// read under, its input types, any constant input values, and its op's descriptor (whose
/// attribute specs give every attribute's default).
///
/// Omitted optional inputs (empty names, or slots past the end) have `nil` type and value.
public struct OpContext: Sendable {
    public let node: Node
    /// The version of the node's domain the model imports.
    public let opset: Int
    public let inputTypes: [TensorType?]
    public let inputValues: [Tensor?]
    /// The op's descriptor (looked up in ``OpRegistry/standard`` when not given).
    public let descriptor: OpDescriptor?

    public init(node: Node, opset: Int, inputTypes: [TensorType?], inputValues: [Tensor?], descriptor: OpDescriptor? = nil) {
        self.node = node
        self.opset = opset
        self.inputTypes = inputTypes
        self.inputValues = inputValues + [Tensor?](repeating: nil, count: max(0, inputTypes.count - inputValues.count))
        self.descriptor = descriptor ?? OpRegistry.standard.descriptor(for: node, opset: opset)
    }

    /// The same context read under another descriptor (a fused op's inner Conv or Gemm, say).
    public func with(descriptor: OpDescriptor, node: Node? = nil, opset: Int? = nil) -> OpContext {
        OpContext(node: node ?? self.node, opset: opset ?? self.opset, inputTypes: inputTypes, inputValues: inputValues,
                  descriptor: descriptor)
    }

    public var opType: String { node.opType }

    // MARK: Errors

    /// An error located at this node.
    public func error(_ message: String, subject: String? = nil, kind: OpError.Kind = .invalid) -> OpError {
        OpError(kind: kind, node: node.label, opType: node.opType, subject: subject, message: message)
    }

    /// Describes input slot `index` for messages: `input 1 ('W')`.
    public func inputLabel(_ index: Int) -> String {
        let name = index < node.inputs.count ? node.inputs[index] : ""
        return name.isEmpty ? "input \(index)" : "input \(index) ('\(name)')"
    }

    // MARK: Inputs

    /// Whether optional input `index` is given.
    public func hasInput(_ index: Int) -> Bool {
        index < inputTypes.count && inputTypes[index] != nil
    }

    /// The type of a required input.
    public func input(_ index: Int) throws(OpError) -> TensorType {
        guard index < inputTypes.count, let type = inputTypes[index] else {
            throw error("missing required \(inputLabel(index))", subject: inputLabel(index))
        }
        return type
    }

    /// The constant value of input `index`, when known.
    public func value(_ index: Int) -> Tensor? {
        index < inputValues.count ? inputValues[index] : nil
    }

    /// The constant value of input `index` read as integers (int64/int32 inputs), or `nil` when the
    /// input is absent. Throws `unresolved` when the input is given but not constant.
    public func intsInput(_ index: Int) throws(OpError) -> [Int]? {
        guard hasInput(index) else { return nil }
        guard let tensor = value(index) else {
            throw error("\(inputLabel(index)) must be a constant to determine the output", subject: inputLabel(index),
                        kind: .unresolved)
        }
        switch tensor.dtype {
        case .int64: return tensor.scalars(as: Int64.self).map { Int($0) }
        case .int32: return tensor.scalars(as: Int32.self).map { Int($0) }
        default: throw error("\(inputLabel(index)) must be int64 or int32, got \(tensor.dtype)", subject: inputLabel(index))
        }
    }

    /// The constant value of input `index` read as floats (float32/float64/int inputs), `nil` when absent.
    public func floatsInput(_ index: Int) throws(OpError) -> [Float]? {
        guard hasInput(index) else { return nil }
        guard let tensor = value(index) else {
            throw error("\(inputLabel(index)) must be a constant", subject: inputLabel(index), kind: .unresolved)
        }
        switch tensor.dtype {
        case .float32: return tensor.scalars(as: Float.self)
        case .float64: return tensor.scalars(as: Double.self).map { Float($0) }
        case .int64: return tensor.scalars(as: Int64.self).map { Float($0) }
        case .int32: return tensor.scalars(as: Int32.self).map { Float($0) }
        default: throw error("\(inputLabel(index)) has unsupported type \(tensor.dtype)", subject: inputLabel(index))
        }
    }

    // MARK: Attributes

    public func hasAttribute(_ name: String) -> Bool { node.attribute(name) != nil }

    /// The node's value of a declared attribute, else its declared default (`nil` when it has none).
    /// Reading an attribute the descriptor does not declare is an `unsupported` error naming it, so
    /// that every default lives in the descriptor.
    public func attribute(_ name: String) throws(OpError) -> AttributeValue? {
        guard let spec = descriptor?.attributes[name] else {
            throw error("Vigil's descriptor of \(opType) does not declare the attribute '\(name)'", subject: name, kind: .unsupported)
        }
        if let value = node.attribute(name) {
            guard value.kindName == spec.kind.rawValue || (spec.kind == .float && value.kindName == "INT") else {
                throw kindError(name, spec.kind.rawValue, value)
            }
            return value
        }
        return spec.defaultValue
    }

    /// A value the op cannot do without: the node's, else the default; throws when neither exists.
    private func present(_ name: String) throws(OpError) -> AttributeValue {
        guard let value = try attribute(name) else {
            throw error("the required attribute '\(name)' is missing", subject: name)
        }
        return value
    }

    /// An INT attribute (or its default).
    public func int(_ name: String) throws(OpError) -> Int {
        guard case .int(let v) = try present(name) else { throw kindError(name, "INT", node.attribute(name)) }
        return Int(v)
    }

    /// An INT attribute without a default: `nil` when the node does not give it.
    public func optionalInt(_ name: String) throws(OpError) -> Int? {
        guard let value = try attribute(name) else { return nil }
        guard case .int(let v) = value else { throw kindError(name, "INT", value) }
        return Int(v)
    }

    /// An INTS attribute (or its default), `nil` when absent without a default.
    public func ints(_ name: String) throws(OpError) -> [Int]? {
        guard let value = try attribute(name) else { return nil }
        guard case .ints(let v) = value else { throw kindError(name, "INTS", value) }
        return v.map { Int($0) }
    }

    /// A FLOAT attribute (or its default); an INT value is accepted.
    public func float(_ name: String) throws(OpError) -> Float {
        switch try present(name) {
        case .float(let v): return v
        case .int(let v): return Float(v)
        case let other: throw kindError(name, "FLOAT", other)
        }
    }

    /// A FLOAT attribute without a default: `nil` when the node does not give it.
    public func optionalFloat(_ name: String) throws(OpError) -> Float? {
        guard try attribute(name) != nil else { return nil }
        return try float(name)
    }

    /// A FLOATS attribute (or its default), `nil` when absent without a default.
    public func floats(_ name: String) throws(OpError) -> [Float]? {
        guard let value = try attribute(name) else { return nil }
        guard case .floats(let v) = value else { throw kindError(name, "FLOATS", value) }
        return v
    }

    /// A STRING attribute (or its default).
    public func string(_ name: String) throws(OpError) -> String {
        guard case .string(let bytes) = try present(name) else { throw kindError(name, "STRING", node.attribute(name)) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// A STRING attribute without a default: `nil` when the node does not give it.
    public func optionalString(_ name: String) throws(OpError) -> String? {
        guard try attribute(name) != nil else { return nil }
        return try string(name)
    }

    /// A TENSOR attribute, `nil` when absent.
    public func tensor(_ name: String) throws(OpError) -> Tensor? {
        guard let value = try attribute(name) else { return nil }
        guard case .tensor(let t) = value else { throw kindError(name, "TENSOR", value) }
        return t
    }

    private func kindError(_ name: String, _ wanted: String, _ value: AttributeValue?) -> OpError {
        error("attribute '\(name)' must be \(wanted), got \(value?.kindName ?? "nothing")", subject: name)
    }

    // MARK: Checks

    /// Normalizes a possibly negative axis against `rank`, throwing when out of range.
    public func axis(_ axis: Int, rank: Int, what: String = "axis", scalarAllowed: Bool = false) throws(OpError) -> Int {
        let normalized = axis < 0 ? axis + rank : axis
        guard normalized >= 0, normalized < rank || (scalarAllowed && rank == 0 && normalized == 0) else {
            throw error("\(what) \(axis) is out of range for rank \(rank)", subject: what)
        }
        return normalized
    }

    /// Throws unless the input's element type is one of `allowed`.
    public func requireType(_ index: Int, in allowed: Set<DType>) throws(OpError) -> TensorType {
        let type = try input(index)
        guard allowed.contains(type.dtype) else {
            let names = allowed.map(\.rawValue).sorted().joined(separator: ", ")
            throw error("\(inputLabel(index)) has type \(type.dtype); expected one of \(names)", subject: inputLabel(index))
        }
        return type
    }

    /// Throws unless the input has the given rank (or a rank in the range).
    public func requireRank(_ index: Int, _ ranks: ClosedRange<Int>) throws(OpError) -> TensorType {
        let type = try input(index)
        guard ranks.contains(type.rank) else {
            let wanted = ranks.count == 1 ? "\(ranks.lowerBound)" : "\(ranks.lowerBound)…\(ranks.upperBound)"
            throw error("\(inputLabel(index)) has rank \(type.rank) (shape \(type.shape)); expected rank \(wanted)",
                        subject: inputLabel(index))
        }
        return type
    }

    /// Throws unless all the given inputs share one element type, which it returns.
    public func sameType(_ indices: [Int]) throws(OpError) -> DType {
        let first = try input(indices[0]).dtype
        for index in indices.dropFirst() where hasInput(index) {
            let t = try input(index).dtype
            guard t == first else {
                throw error("\(inputLabel(index)) has type \(t) but \(inputLabel(indices[0])) has \(first)",
                            subject: inputLabel(index))
            }
        }
        return first
    }
}

/// Element-type families used by op schemas.
public enum TypeSets {
    public static let float: Set<DType> = [.float32, .float64, .float16, .bfloat16]
    public static let int: Set<DType> = [.int8, .int16, .int32, .int64, .uint8, .uint16, .uint32, .uint64]
    public static let signedNumeric: Set<DType> = float.union([.int8, .int16, .int32, .int64])
    public static let numeric: Set<DType> = float.union(int)
    public static let indices: Set<DType> = [.int32, .int64]
    public static let all: Set<DType> = Set(DType.allCases)
}
