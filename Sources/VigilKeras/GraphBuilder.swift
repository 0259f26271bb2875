import VigilHDF5
import VigilIR

/// A Keras tensor during import: an IR value and its shape (batch first, `nil` for unknown sizes).
struct KTensor: Equatable {
    var name: String
    var shape: [Int?]
    /// The element type (float32 but for the results of comparisons, argmax and casts).
    var dtype: DType = .float32
    var rank: Int { shape.count }

    /// The largest dimension a Keras tensor may declare.
    static let largestDimension = 1 << 31
    /// The largest element count of a tensor's known dimensions (2^40 float32 elements are 4 TiB).
    static let largestElementCount = 1 << 40

    /// Why `shape` is out of bounds (a negative or huge dimension, or too many elements), or `nil`. The
    /// bounds, checked on graph inputs and on every layer's outputs, keep each layer's shape arithmetic
    /// far from overflow.
    static func implausibility(of shape: [Int?]) -> String? {
        let text = "[" + shape.map { $0.map(String.init) ?? "None" }.joined(separator: ", ") + "]"
        if let bad = shape.compactMap({ $0 }).first(where: { !(0...largestDimension).contains($0) }) {
            return "dimension \(bad) of shape \(text) is outside 0…\(largestDimension)"
        }
        guard let count = checkedProduct(shape.compactMap { $0 }), count <= largestElementCount else {
            return "shape \(text) has more than \(largestElementCount) elements"
        }
        return nil
    }
}

/// The product of `values`, or `nil` when it overflows `Int`.
func checkedProduct(_ values: some Sequence<Int>) -> Int? {
    var product = 1
    for value in values {
        let (result, overflow) = product.multipliedReportingOverflow(by: value)
        guard !overflow else { return nil }
        product = result
    }
    return product
}

/// Accumulates the IR graph: fresh value names, nodes, and initializers (shared layers reuse theirs).
final class GraphBuilder {
    var graph: Graph
    private var usedNames: Set<String> = []
    private var constants: [String: String] = [:]
    /// The Keras layer being lowered (`outer/inner` in nested models); recorded on every node it emits
    /// as metadata `keras_layer`, so diagnostics can name it.
    var currentLayer: String?

    init(name: String) { graph = Graph(name: name) }

    /// A value name not used before, based on `hint`.
    func fresh(_ hint: String) -> String {
        var name = hint
        var counter = 1
        while usedNames.contains(name) {
            name = "\(hint)_\(counter)"
            counter += 1
        }
        usedNames.insert(name)
        return name
    }

    func reserve(_ name: String) { usedNames.insert(name) }

    /// Adds a node with one output and returns the output's name.
    func op(_ type: String, _ inputs: [String], _ attributes: [Attribute] = [], name hint: String) throws -> String {
        let output = fresh(hint)
        let metadata = currentLayer.map { [MetadataEntry(key: "keras_layer", value: $0)] } ?? []
        try graph.addNode(Node(name: output, opType: type, inputs: inputs, outputs: [output], attributes: attributes, metadata: metadata))
        return output
    }

    /// A float32 initializer, created once per `key` (the layer's weights are shared between its calls).
    func floatConstant(_ key: String, shape: [Int], _ values: () throws -> [Float]) throws -> String {
        if let name = constants[key] { return name }
        let name = fresh(key)
        graph.setInitializer(name, try Tensor(float32: try values(), shape: shape))
        constants[key] = name
        return name
    }

    /// A float32 initializer that wraps memory read from the file, without copying it.
    func floatConstant(_ key: String, shape: [Int], buffer: FloatBuffer) throws -> String {
        if let name = constants[key] { return name }
        let name = fresh(key)
        let bytes = TensorBuffer(unsafeBytes: UnsafeRawPointer(buffer.pointer), count: buffer.count * 4) { _ in
            withExtendedLifetime(buffer) {}
        }
        graph.setInitializer(name, try Tensor(dtype: .float32, shape: shape, contents: .bytes(bytes)))
        constants[key] = name
        return name
    }

    /// An int64 initializer (shapes, pads, axes).
    func intConstant(_ hint: String, _ values: [Int], shape: [Int]? = nil) throws -> String {
        let key = "int64:\(shape ?? [values.count]):\(values)"
        if let name = constants[key] { return name }
        let name = fresh(hint)
        graph.setInitializer(name, try Tensor(int64: values.map(Int64.init), shape: shape ?? [values.count]))
        constants[key] = name
        return name
    }

    /// A float32 scalar initializer.
    func scalar(_ value: Float, hint: String = "const") throws -> String {
        let key = "scalar:\(value.bitPattern)"
        if let name = constants[key] { return name }
        let name = fresh(hint)
        graph.setInitializer(name, try Tensor(float32: [value], shape: []))
        constants[key] = name
        return name
    }
}

/// Attribute shorthands.
extension Attribute {
    static func int(_ name: String, _ value: Int) -> Attribute { Attribute(name: name, value: .int(Int64(value))) }
    static func ints(_ name: String, _ values: [Int]) -> Attribute { Attribute(name: name, value: .ints(values.map(Int64.init))) }
    static func float(_ name: String, _ value: Double) -> Attribute { Attribute(name: name, value: .float(Float(value))) }
    static func string(_ name: String, _ value: String) -> Attribute { Attribute(name: name, value: .string(Array(value.utf8))) }
}

/// Reorders a C-order array: output axis `i` is input axis `perm[i]`.
func permute(_ values: [Float], shape: [Int], perm: [Int]) -> [Float] {
    let rank = shape.count
    guard rank > 1, perm != Array(0..<rank) else { return values }
    var inStrides = [Int](repeating: 1, count: rank)
    for axis in stride(from: rank - 2, through: 0, by: -1) { inStrides[axis] = inStrides[axis + 1] * shape[axis + 1] }
    let outShape = perm.map { shape[$0] }
    let strides = perm.map { inStrides[$0] }
    var result = [Float](repeating: 0, count: values.count)
    var index = [Int](repeating: 0, count: rank)
    var source = 0
    for target in 0..<values.count {
        result[target] = values[source]
        var axis = rank - 1
        while axis >= 0 {
            index[axis] += 1
            source += strides[axis]
            if index[axis] < outShape[axis] { break }
            source -= strides[axis] * outShape[axis]
            index[axis] = 0
            axis -= 1
        }
    }
    return result
}
