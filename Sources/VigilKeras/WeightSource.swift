import VigilHDF5

/// Where a layer sits: its name and, for Keras 3 weight files, the key the saver gave it
/// (`dense`, `dense_1`, … from the class name), at each level of model nesting.
struct LayerLocation {
    var name: String
    var key: String
}

/// Reads a layer's weights, in Keras order, from one of the weight-file layouts.
protocol WeightSource {
    /// `nil` when the file has no entry at all for the layer.
    func weights(at path: [LayerLocation]) throws(HDF5Error) -> [KerasWeight]?
    /// The weights of a layer made of sublayers (MultiHeadAttention's `query_dense`, …), in the order
    /// of `sublayers` (Keras 3 files store each sublayer's variables apart; legacy `.h5` files list them
    /// all, in Keras order, under the layer).
    func weights(at path: [LayerLocation], sublayers: [String]) throws(HDF5Error) -> [KerasWeight]?
}

extension WeightSource {
    func weights(at path: [LayerLocation], sublayers: [String]) throws(HDF5Error) -> [KerasWeight]? { try weights(at: path) }
}

/// Keras 2 / tf.keras / Keras 3 legacy `.h5`: `model_weights/<layer>/` (or, for weights-only files,
/// `<layer>/` at the root) whose `weight_names` attribute lists datasets relative to that group.
/// A nested model's group lists the weights of all its layers as `[model/]layer/weight[:0]`.
struct LegacyWeightSource: WeightSource {
    let root: HDF5Snapshot.Group

    func weights(at path: [LayerLocation]) throws(HDF5Error) -> [KerasWeight]? {
        guard let top = path.first, root.contains(top.name), root.isGroup(top.name) else { return nil }
        let group = try root.group(top.name)
        var names = try group.chunkedStringsAttribute("weight_names") ?? []
        if path.count > 1 {
            // Weights of a layer inside a nested model: the component before the variable name is the layer.
            let layer = path.last!.name
            names = names.filter { name in
                let parts = name.split(separator: "/")
                return parts.count >= 2 && parts[parts.count - 2] == layer
            }
        }
        return try names.map { (name) throws(HDF5Error) -> KerasWeight in
            let dataset = try group.dataset(name)
            return KerasWeight(name: name, shape: dataset.shape, buffer: try dataset.readFloatBuffer())
        }
    }
}

/// Keras 3 weights (`model.weights.h5` inside `.keras`, or `*.weights.h5`): `layers/<key>/vars/<i>`,
/// nested models as `layers/<key>/layers/<key>/…`. Newer files name the layer in the `vars` group's
/// `name` attribute; older ones are matched by the key derived from the class name.
struct Keras3WeightSource: WeightSource {
    let root: HDF5Snapshot.Group
    /// Per `layers` container: layer name → child key, read once.
    private let names = NameCache()

    private final class NameCache {
        var byContainer: [String: [String: String]] = [:]
    }

    init(root: HDF5Snapshot.Group) { self.root = root }

    /// The layer names recorded in the `vars` groups of a container's children.
    private func layerNames(in container: HDF5Snapshot.Group) throws(HDF5Error) -> [String: String] {
        if let cached = names.byContainer[container.path] { return cached }
        var result: [String: String] = [:]
        for child in container.childNames() where container.isGroup("\(child)/vars") {
            let vars = try container.group("\(child)/vars")
            if let name = try vars.stringAttribute("name"), result[name] == nil { result[name] = child }
        }
        names.byContainer[container.path] = result
        return result
    }

    func weights(at path: [LayerLocation], sublayers: [String]) throws(HDF5Error) -> [KerasWeight]? {
        guard let group = try groupPath(path) else { return nil }
        var result: [KerasWeight] = []
        for sublayer in sublayers where root.isGroup(group + sublayer + "/vars") { result += try variables(group + sublayer + "/vars") }
        return result
    }

    func weights(at path: [LayerLocation]) throws(HDF5Error) -> [KerasWeight]? {
        guard let group = try groupPath(path) else { return nil }
        let varsPath = group + "vars"
        guard root.isGroup(varsPath) else { return [] }
        return try variables(varsPath)
    }

    /// The variables `0`, `1`, … of a `vars` group, in order.
    private func variables(_ varsPath: String) throws(HDF5Error) -> [KerasWeight] {
        let vars = try root.group(varsPath)
        let indices = vars.childNames().compactMap { Int($0) }.sorted()
        return try indices.map { (index) throws(HDF5Error) -> KerasWeight in
            let dataset = try vars.dataset(String(index))
            return KerasWeight(name: "\(vars.path)/\(index)", shape: dataset.shape, buffer: try dataset.readFloatBuffer())
        }
    }

    /// The group of a (nested) layer, `layers/<key>/…/` with a trailing slash, or `nil`.
    private func groupPath(_ path: [LayerLocation]) throws(HDF5Error) -> String? {
        var groupPath = ""
        for location in path {
            let layers = groupPath + "layers"
            guard root.contains(layers) else { return nil }
            let container = try root.group(layers)
            var match = try layerNames(in: container)[location.name]
            if match == nil, container.isGroup(location.key) { match = location.key }
            guard let match else { return nil }
            groupPath = "\(layers)/\(match)/"
        }
        return groupPath
    }
}

/// Keras's `to_snake_case`, used for the keys of layers in Keras 3 weight files.
func kerasSnakeCase(_ name: String) -> String {
    let word = name.filter { $0.isLetter || $0.isNumber || $0 == "_" }
    let chars = Array(word)
    var out = ""
    // "(.)([A-Z][a-z]+)" → "\1_\2", then "([a-z])([A-Z])" → "\1_\2".
    var firstPass: [Character] = []
    for (i, c) in chars.enumerated() {
        if i > 0, c.isUppercase, i + 1 < chars.count, chars[i + 1].isLowercase { firstPass.append("_") }
        firstPass.append(c)
    }
    for (i, c) in firstPass.enumerated() {
        if i > 0, c.isUppercase, firstPass[i - 1].isLowercase { out.append("_") }
        out.append(c)
    }
    return out.lowercased()
}
