import VigilIR

/// A row-major matrix of network outputs: `count` samples × `dimension` values (embeddings or logits).
public struct Embeddings: Sendable, Equatable {
    public let count: Int
    public let dimension: Int
    /// Row-major values, `count · dimension` of them.
    public let values: [Float]

    /// Wraps row-major values, checking that they fill `count × dimension` exactly.
    public init(values: [Float], count: Int, dimension: Int) throws(DetectorError) {
        guard count >= 0, dimension > 0, values.count == count * dimension else {
            throw .invalidArgument("\(values.count) values do not form a \(count)×\(dimension) matrix")
        }
        self.values = values
        self.count = count
        self.dimension = dimension
    }

    /// The samples of a network output: a float32 tensor `[N, …]`, one row per sample (the values
    /// after the first axis, flattened), e.g. the `embedding` output of a batch.
    public init(_ tensor: Tensor) throws(DetectorError) {
        guard tensor.dtype == .float32, let count = tensor.shape.first else {
            throw .invalidArgument("embeddings must be a float32 tensor [N, …], not \(tensor)")
        }
        let dimension = tensor.shape.dropFirst().reduce(1, *)
        try self.init(values: tensor.scalars(as: Float.self), count: count, dimension: dimension)
    }

    /// Row `i` as Double.
    public func row(_ i: Int) -> [Double] {
        (0..<dimension).map { Double(values[i * dimension + $0]) }
    }

    /// The first sample index whose row has a NaN or infinity.
    public var firstNonFiniteRow: Int? {
        for (index, value) in values.enumerated() where !value.isFinite { return index / dimension }
        return nil
    }
}
