import VigilIR

/// A network input or output as the model declares it: name, element type and shape (dims may be
/// symbolic, such as a batch dim `N`).
public struct TensorDescription: Sendable, Equatable, CustomStringConvertible {
    /// The name in the model.
    public var name: String
    /// The element type; `nil` when the model does not declare it.
    public var dtype: DType?
    /// The shape; `nil` when the model does not declare the rank.
    public var shape: Shape?
    /// The model's documentation of this value (ONNX `doc_string`), often empty.
    public var documentation: String

    /// Creates a description.
    public init(name: String, dtype: DType?, shape: Shape?, documentation: String = "") {
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.documentation = documentation
    }

    /// Describes a graph value.
    public init(_ info: ValueInfo) {
        let type = info.type?.tensorType
        self.init(name: info.name, dtype: type?.dtype ?? nil, shape: type?.shape ?? nil, documentation: info.docString)
    }

    /// The names of the symbolic dims, in order of first appearance.
    public var symbols: [String] {
        var seen = Set<String>()
        return (shape?.symbols ?? []).filter { seen.insert($0).inserted }
    }

    /// The concrete shape once every symbolic dim has a size; `nil` when the rank or a dim is
    /// unknown, or a symbol is missing from `sizes`.
    public func shape(binding sizes: [String: Int]) -> [Int]? {
        guard let shape else { return nil }
        var result: [Int] = []
        for dim in shape.dims {
            switch dim {
            case .fixed(let size): result.append(size)
            case .symbolic(let symbol):
                guard let size = sizes[symbol] else { return nil }
                result.append(size)
            case .unknown: return nil
            }
        }
        return result
    }

    /// `X: float32[N, 1, 28, 28]`.
    public var description: String { "\(name): \(dtype?.rawValue ?? "?")\(shape?.description ?? "[*]")" }
}
