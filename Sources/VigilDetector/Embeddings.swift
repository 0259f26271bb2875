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
