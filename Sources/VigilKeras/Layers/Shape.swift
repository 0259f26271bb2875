import VigilIR

/// Flatten, Reshape and Permute. Tensors stay channels-last between layers, so Flatten's order is Keras's.
enum ShapeLayers {
    static func flatten(_ call: LayerCall) throws -> [KTensor] {
        var x = try call.input
        if try !call.channelsLast, x.rank > 2 {
            // Keras switches channels_first inputs to channels-last before flattening.
            let perm = [0] + Array(2..<x.rank) + [1]
            x = KTensor(name: try call.op("Transpose", [x.name], [.ints("perm", perm)]), shape: perm.map { x.shape[$0] })
        }
        let rest = x.shape.dropFirst()
        let size: Int? = rest.contains { $0 == nil } ? nil : rest.reduce(1) { $0 * $1! }
        let y = try call.op("Flatten", [x.name], [.int("axis", 1)])
        return [KTensor(name: y, shape: [x.shape[0], size])]
    }

    /// `target_shape` excludes the batch dim; one entry may be -1.
    static func reshape(_ call: LayerCall) throws -> [KTensor] {
        let x = try call.input
        guard let target = call.config["target_shape"]?.ints else { throw call.error(.invalidConfig, "config lacks 'target_shape'") }
        var shape: [Int?] = target.map { $0 < 0 ? nil : $0 }
        let known = x.shape.dropFirst()
        if let unknown = target.firstIndex(of: -1), !known.contains(where: { $0 == nil }) {
            let total = known.reduce(1) { $0 * $1! }
            let rest = checkedProduct(target.filter { $0 != -1 }) ?? 0
            guard rest > 0, total % rest == 0 else { throw call.error(.invalidConfig, "cannot reshape \(known.map { $0! }) to \(target)") }
            shape[unknown] = total / rest
        }
        let constant = try call.builder.intConstant("\(call.layerPath)/shape", [0] + target)
        let y = try call.op("Reshape", [x.name, constant])
        return [KTensor(name: y, shape: [x.shape[0]] + shape)]
    }

    /// `dims` are 1-based permutations of the non-batch axes.
    static func permute(_ call: LayerCall) throws -> [KTensor] {
        let x = try call.input
        guard let dims = call.config["dims"]?.ints, dims.sorted() == Array(1..<x.rank) else {
            throw call.error(.invalidConfig, "'dims' must permute 1…\(x.rank - 1)")
        }
        let perm = [0] + dims
        let y = try call.op("Transpose", [x.name], [.ints("perm", perm)])
        return [KTensor(name: y, shape: perm.map { x.shape[$0] })]
    }
}
