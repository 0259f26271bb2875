import VigilIR

/// Helpers for passes that rewrite constant weights.
extension Graph {
    /// A float32 initializer's values.
    func floatInitializer(_ name: String) -> [Float]? {
        guard !name.isEmpty, let tensor = initializer(name), tensor.dtype == .float32 else { return nil }
        return tensor.scalars(as: Float.self)
    }

    /// Stores values under a fresh name derived from `base` and returns the name.
    mutating func addInitializer(_ base: String, _ values: [Float], shape: [Int]) throws -> String {
        let name = freshName(base)
        setInitializer(name, try Tensor(float32: values, shape: shape))
        return name
    }
}

/// A constant read as one value per channel along `axis` of a value of rank `rank` with `channels`
/// channels (numpy broadcasting: a scalar or a shape that is 1 everywhere except possibly `axis`).
func perChannel(_ tensor: Tensor, channels: Int, rank: Int, axis: Int) -> [Float]? {
    guard tensor.dtype == .float32, tensor.shape.count <= rank else { return nil }
    let padded = [Int](repeating: 1, count: rank - tensor.shape.count) + tensor.shape
    for (index, size) in padded.enumerated() where index != axis && size != 1 { return nil }
    let values = tensor.scalars(as: Float.self)
    if values.count == 1 { return [Float](repeating: values[0], count: channels) }
    return padded[axis] == channels ? values : nil
}

/// Scales slices of a weight tensor: element i of slice c along `axis` is multiplied by `scale[c]`.
func scale(_ weights: [Float], shape: [Int], axis: Int, by scale: [Float]) -> [Float] {
    let inner = shape[(axis + 1)...].reduce(1, *)
    let channels = shape[axis]
    var result = weights
    for index in result.indices { result[index] *= scale[(index / inner) % channels] }
    return result
}
