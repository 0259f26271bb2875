import VigilHDF5
import VigilIR

/// One weight array of a layer as stored in the file.
public struct KerasWeight: Sendable, Equatable {
    /// The name in the file (`dense/kernel:0`, `vars/0`, …).
    public var name: String
    public var shape: [Int]
    /// The elements in C order, as read (not copied again when they become an initializer unchanged).
    public var buffer: FloatBuffer

    public init(name: String, shape: [Int], buffer: FloatBuffer) {
        self.name = name
        self.shape = shape
        self.buffer = buffer
    }

    public init(name: String, shape: [Int], values: [Float]) {
        self.init(name: name, shape: shape, buffer: FloatBuffer(values))
    }

    /// A copy of the elements in C order.
    public var values: [Float] { buffer.array }

    public static func == (lhs: KerasWeight, rhs: KerasWeight) -> Bool {
        lhs.name == rhs.name && lhs.shape == rhs.shape && lhs.buffer.elements.elementsEqual(rhs.buffer.elements)
    }
}

/// A lowering turns one call of a Keras layer into IR nodes and returns the call's outputs.
typealias Lowering = @Sendable (LayerCall) throws -> [KTensor]

/// Everything a lowering sees: the layer's config, its inputs, its weights, and the graph being built.
final class LayerCall {
    let file: String
    /// The layer's name, prefixed by the names of the models it is nested in (`outer/inner`).
    let layerPath: String
    let className: String
    let config: JSONValue
    let inputs: [KTensor]
    let builder: GraphBuilder
    /// The Keras major version that wrote the file (2 or 3); some defaults differ.
    let kerasMajor: Int
    /// Reads the layer's weights (with sublayer names: those sublayers' weights, in that order).
    private let loadWeights: (_ sublayers: [String]?) throws -> [KerasWeight]?

    init(file: String, layerPath: String, className: String, config: JSONValue, inputs: [KTensor],
         builder: GraphBuilder, kerasMajor: Int, loadWeights: @escaping (_ sublayers: [String]?) throws -> [KerasWeight]?) {
        self.file = file
        self.layerPath = layerPath
        self.className = className
        self.config = config
        self.inputs = inputs
        self.builder = builder
        self.kerasMajor = kerasMajor
        self.loadWeights = loadWeights
    }

    func error(_ kind: KerasImportError.Kind, _ message: String) -> KerasImportError {
        KerasImportError(kind, file: file, layer: layerPath, className: className, message: message)
    }

    /// The only input (layers such as Dense take exactly one).
    var input: KTensor {
        get throws {
            guard inputs.count == 1 else { throw error(.invalidConfig, "expects one input, got \(inputs.count)") }
            return inputs[0]
        }
    }

    // MARK: Config

    func int(_ key: String, _ fallback: Int) throws -> Int {
        guard let value = config[key] else { return fallback }
        guard let int = value.int ?? value.ints.flatMap({ $0.count == 1 ? $0[0] : nil }) else {
            throw error(.invalidConfig, "'\(key)' is not an integer")
        }
        return int
    }

    /// An int or list option expanded to `count` values (Keras accepts `3` for `(3, 3)`).
    func ints(_ key: String, count: Int, _ fallback: Int? = nil) throws -> [Int] {
        guard let value = config[key] else {
            if let fallback { return Array(repeating: fallback, count: count) }
            throw error(.invalidConfig, "config lacks '\(key)'")
        }
        guard let ints = value.ints else { throw error(.invalidConfig, "'\(key)' is not an integer or a list of integers") }
        if ints.count == 1 { return Array(repeating: ints[0], count: count) }
        guard ints.count == count else { throw error(.invalidConfig, "'\(key)' has \(ints.count) values, expected \(count)") }
        return ints
    }

    /// The largest kernel, stride, dilation, pool or upsampling factor accepted from a config; it keeps the
    /// window arithmetic far from overflow (real models stay below a few hundred).
    static let largestWindowFactor = 1 << 20

    /// `ints` for window sizes, strides, dilations and factors, which must be positive: a zero stride in a
    /// hostile config is refused by name rather than dividing by zero.
    func positiveInts(_ key: String, count: Int, _ fallback: Int? = nil) throws -> [Int] {
        let values = try ints(key, count: count, fallback)
        guard values.allSatisfy({ (1...Self.largestWindowFactor).contains($0) }) else {
            throw error(.invalidConfig, "'\(key)' is \(values); each value must be between 1 and \(Self.largestWindowFactor)")
        }
        return values
    }

    /// `positiveInts` for a single value (a depth multiplier, say).
    func positiveInt(_ key: String, _ fallback: Int) throws -> Int { try positiveInts(key, count: 1, fallback)[0] }

    func double(_ key: String, _ fallback: Double) throws -> Double {
        guard let value = config[key] else { return fallback }
        guard let double = value.double else { throw error(.invalidConfig, "'\(key)' is not a number") }
        return double
    }

    func optionalDouble(_ key: String) throws -> Double? {
        guard let value = config[key] else { return nil }
        guard let double = value.double else { throw error(.invalidConfig, "'\(key)' is not a number") }
        return double
    }

    func string(_ key: String, _ fallback: String) throws -> String {
        guard let value = config[key] else { return fallback }
        guard let string = value.string else { throw error(.invalidConfig, "'\(key)' is not a string") }
        return string
    }

    func bool(_ key: String, _ fallback: Bool) throws -> Bool {
        guard let value = config[key] else { return fallback }
        guard let bool = value.bool else { throw error(.invalidConfig, "'\(key)' is not a boolean") }
        return bool
    }

    /// Whether `data_format` is channels_last (the default).
    var channelsLast: Bool {
        get throws { try string("data_format", "channels_last") != "channels_first" }
    }

    /// An axis option normalized to 0..<rank (a negative axis counts from the end).
    func axis(_ value: Int, rank: Int) throws -> Int {
        let axis = value < 0 ? value + rank : value
        guard (0..<rank).contains(axis) else { throw error(.invalidConfig, "axis \(value) is out of range for rank \(rank)") }
        return axis
    }

    /// An axis option that may be an int or a list, normalized and sorted.
    func axes(_ key: String, rank: Int, _ fallback: [Int]) throws -> [Int] {
        let raw: [Int]
        if let value = config[key] {
            guard let ints = value.ints else { throw error(.invalidConfig, "'\(key)' is not an axis or a list of axes") }
            raw = ints
        } else {
            raw = fallback
        }
        return try raw.map { try axis($0, rank: rank) }.sorted()
    }

    // MARK: Weights

    /// The layer's weights, checked against what its config implies (`expected` in Keras order); a
    /// layer made of sublayers names them (Keras 3 files store their variables apart).
    func weights(_ expected: [(role: String, shape: [Int])], sublayers: [String]? = nil) throws -> [KerasWeight] {
        let found: [KerasWeight]
        do {
            found = try loadWeights(sublayers) ?? []
        } catch let error as KerasImportError {
            throw error
        } catch let error as HDF5Error where error.kind == .missing {
            throw self.error(.missingWeights, "a weight listed in the file is missing: \(error)")
        } catch {
            throw self.error(.hdf5, "cannot read the weights: \(error)")
        }
        if found.count < expected.count {
            let missing = expected[found.count...].map(\.role).joined(separator: ", ")
            throw error(.missingWeights, "the file holds \(found.count) weight(s) for this layer, the config needs \(expected.count) (missing: \(missing))")
        }
        if found.count > expected.count {
            throw error(.weightShapeMismatch, "the file holds \(found.count) weights for this layer, the config implies \(expected.count) (\(expected.map(\.role).joined(separator: ", ")))")
        }
        for (weight, want) in zip(found, expected) where weight.shape != want.shape {
            throw error(.weightShapeMismatch, "weight '\(weight.name)' (\(want.role)) has shape \(weight.shape), the config implies \(want.shape)")
        }
        return found
    }

    /// An initializer holding a weight unchanged (its memory is shared, not copied).
    func constant(_ role: String, weight: KerasWeight) throws -> String {
        try builder.floatConstant("\(layerPath)/\(role)", shape: weight.shape, buffer: weight.buffer)
    }

    /// An initializer derived from this layer's weights, created once and shared by all calls of the layer.
    func constant(_ role: String, shape: [Int], _ values: () throws -> [Float]) throws -> String {
        try builder.floatConstant("\(layerPath)/\(role)", shape: shape, values)
    }

    // MARK: Emitting

    /// Adds a node named after the layer.
    func op(_ type: String, _ inputs: [String], _ attributes: [Attribute] = []) throws -> String {
        try builder.op(type, inputs, attributes, name: "\(layerPath)/\(type)")
    }

    /// Transposes a channels-last tensor of rank `rank` to channels-first (NHWC → NCHW).
    func toChannelsFirst(_ value: String, rank: Int) throws -> String {
        try op("Transpose", [value], [.ints("perm", [0, rank - 1] + Array(1..<(rank - 1)))])
    }

    /// Transposes back from channels-first to channels-last.
    func toChannelsLast(_ value: String, rank: Int) throws -> String {
        try op("Transpose", [value], [.ints("perm", [0] + Array(2..<rank) + [1])])
    }
}
