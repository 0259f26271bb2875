import VigilIR

/// One argument of a Keras 3 operation call, as its functional config records it.
enum OperationArgument {
    /// A tensor computed by the model.
    case tensor(KTensor)
    /// A Python number.
    case number(Double)
    /// A constant tensor (`__tensor__`, or a nested list of numbers), as float32.
    case constant(values: [Float], shape: [Int])
    /// `slice(start, stop, step)` in an indexing expression.
    case slice(start: Int?, stop: Int?, step: Int?)
    /// `...` in an indexing expression.
    case ellipsis
    /// `None` (a new axis in an indexing expression, or an omitted argument).
    case none
    /// A list or tuple of arguments.
    case list([OperationArgument])
    /// Anything else (a string, a bool), kept as JSON.
    case other(JSONValue)
}

/// A lowering of one Keras 3 operation class (`keras.src.ops.*`) to IR nodes.
typealias OperationLowering = @Sendable (OperationCall) throws -> [KTensor]

/// Everything an operation's lowering sees: its positional and keyword arguments (tensors resolved),
/// its config (the static options: `axis`, `keepdims`, …) and the layer context for emitting nodes.
///
/// Keras 3 records arithmetic on tensors in a functional model (`x + 3.0`, `keras.ops.mean(x)`, `x[:, 0]`)
/// as operation entries in the layer list; their arguments mix tensors and constants.
final class OperationCall {
    let layer: LayerCall
    let arguments: [OperationArgument]
    let keywords: [String: OperationArgument]

    init(layer: LayerCall, arguments: [OperationArgument], keywords: [String: OperationArgument]) {
        self.layer = layer
        self.arguments = arguments
        self.keywords = keywords
    }

    var config: JSONValue { layer.config }
    var builder: GraphBuilder { layer.builder }

    func error(_ message: String) -> KerasImportError { layer.error(.invalidConfig, message) }
    func unsupported(_ message: String) -> KerasImportError { layer.error(.unsupportedOption, message) }

    /// Positional argument `index` (or the keyword `name`), `.none` when absent.
    func argument(_ index: Int, _ name: String? = nil) -> OperationArgument {
        if index < arguments.count { return arguments[index] }
        if let name, let value = keywords[name] { return value }
        return .none
    }

    /// Argument `index` as a tensor: a model tensor, or a constant made an initializer.
    func tensor(_ index: Int, _ name: String? = nil) throws -> KTensor {
        try tensor(of: argument(index, name), role: "argument \(index)")
    }

    func tensor(of argument: OperationArgument, role: String) throws -> KTensor {
        switch argument {
        case .tensor(let t): return t
        case .number(let value): return KTensor(name: try builder.scalar(Float(value)), shape: [])
        case .constant(let values, let shape):
            let name = try builder.floatConstant("\(layer.layerPath)/\(role)", shape: shape) { values }
            return KTensor(name: name, shape: shape.map { $0 })
        default: throw error("\(role) is not a tensor or a number")
        }
    }

    /// The tensors of a list argument (Concatenate, Stack).
    func tensors(_ index: Int) throws -> [KTensor] {
        guard case .list(let items) = argument(index) else { return [try tensor(index)] }
        return try items.enumerated().map { try tensor(of: $1, role: "item \($0)") }
    }

    /// The op's config value `key` as an int or a list of ints (`nil` when absent or null).
    func ints(_ key: String) throws -> [Int]? {
        guard let value = config[key] else { return nil }
        guard let ints = value.ints else { throw error("'\(key)' is not an integer or a list of integers") }
        return ints
    }

    /// Normalizes an axis against a rank.
    func axis(_ value: Int, rank: Int) throws -> Int { try layer.axis(value, rank: rank) }

    /// Adds a node named after the operation.
    func op(_ type: String, _ inputs: [String], _ attributes: [Attribute] = []) throws -> String {
        try layer.op(type, inputs, attributes)
    }
}

extension OperationArgument {
    /// Decodes one argument from an inbound node's JSON, taking model tensors from `tensors` in order.
    static func decode(_ value: JSONValue, tensors: inout ArraySlice<KTensor>) -> OperationArgument {
        switch value {
        case .null: return .none
        case .number(let number): return .number(number)
        case .array(let items): return .list(items.map { decode($0, tensors: &tensors) })
        case .object:
            switch value["class_name"]?.string {
            case "__keras_tensor__":
                guard let tensor = tensors.popFirst() else { return .none }
                return .tensor(tensor)
            case "__slice__":
                let c = value["config"]
                return .slice(start: c?["start"]?.int, stop: c?["stop"]?.int, step: c?["step"]?.int)
            case "__ellipsis__": return .ellipsis
            case "__tensor__", "__numpy__":
                guard let content = value["config"]?["value"], let (values, shape) = flatten(content) else { return .other(value) }
                return .constant(values: values, shape: shape)
            default: return .other(value)
            }
        default: return .other(value)
        }
    }

    /// A nested list of numbers as C-order values and a shape (`nil` when ragged or not numeric).
    static func flatten(_ value: JSONValue) -> ([Float], [Int])? {
        if let number = value.double { return ([Float(number)], []) }
        guard let items = value.array, !items.isEmpty else { return value.array != nil ? ([], [0]) : nil }
        var values: [Float] = []
        var inner: [Int]?
        for item in items {
            guard let (v, s) = flatten(item), inner == nil || inner == s else { return nil }
            inner = s
            values += v
        }
        return (values, [items.count] + (inner ?? []))
    }
}
