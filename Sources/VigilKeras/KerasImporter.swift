import Foundation
import VigilFiles
import VigilHDF5
import VigilIR

/// Imports Keras models into the graph IR.
///
/// Reads legacy full-model `.h5` files (Keras 2, tf.keras, Keras 3), Keras 3 `.keras` archives, and
/// weights-only files of either layout together with a separate config JSON. The imported model uses
/// standard ONNX ops (opset 17) and takes and returns exactly what the Keras model does (channels_last).
///
/// ```swift
/// let model = try KerasImporter.importModel(at: "model.h5")
/// let model = try KerasImporter.importModel(at: "model.weights.h5", config: "config.json")
/// ```
public enum KerasImporter {
    /// The opset of the produced models.
    public static let opsetVersion: Int64 = 17

    /// Whether a path looks like a Keras file: a `.keras` archive or an HDF5 file (`.h5`, `.hdf5`, `.weights.h5`).
    public static func isKerasFile(_ path: String) -> Bool {
        let lower = path.lowercased()
        return lower.hasSuffix(".keras") || lower.hasSuffix(".h5") || lower.hasSuffix(".hdf5")
    }

    /// Imports a model.
    /// - Parameters:
    ///   - path: a `.h5`/`.hdf5` (full model or weights only) or `.keras` file.
    ///   - config: a model config JSON file (`model.to_json()` or `config.json`); needed for weights-only
    ///     files, and it overrides the config stored in the file.
    public static func importModel(at path: String, config: String? = nil) throws(KerasImportError) -> Model {
        do {
            return try importUnchecked(at: path, config: config)
        } catch let error as KerasImportError {
            throw error
        } catch let error as HDF5Error {
            throw KerasImportError(hdf5: error, importing: path)
        } catch {
            throw KerasImportError(.cannotRead, file: path, message: "\(error)")
        }
    }

    /// The weights of every layer as stored in the file, before any conversion, in config order, by
    /// layer path (`outer/inner` for layers of nested models). Layers without weights are left out.
    public static func layerWeights(at path: String, config: String? = nil) throws(KerasImportError) -> [(layer: String, weights: [KerasWeight])] {
        var result: [(layer: String, weights: [KerasWeight])] = []
        do {
            try withSource(at: path, config: config) { source in
                guard let weights = source.weights else { return }
                func visit(_ model: JSONValue, prefix: [LayerLocation]) throws {
                    var layers = model["config"]?["layers"]?.array ?? model["config"]?.array ?? []
                    if model["class_name"]?.string == "Sequential", layers.first?["class_name"]?.string == "InputLayer" {
                        layers.removeFirst()
                    }
                    for (layer, key) in zip(layers, ModelWalker.keys(for: layers)) {
                        let name = layer["config"]?["name"]?.string ?? layer["name"]?.string ?? "?"
                        let location = prefix + [LayerLocation(name: name, key: key)]
                        if ModelWalker.modelClasses.contains(layer["class_name"]?.string ?? "") {
                            try visit(layer, prefix: location)
                        } else if let sublayers = LayerRegistry.sublayers[layer["class_name"]?.string ?? ""],
                                  let found = try weights.weights(at: location, sublayers: sublayers), !found.isEmpty {
                            result.append((location.map(\.name).joined(separator: "/"), found))
                        } else if let found = try weights.weights(at: location), !found.isEmpty {
                            result.append((location.map(\.name).joined(separator: "/"), found))
                        }
                    }
                }
                try visit(source.config, prefix: [])
            }
        } catch let error as KerasImportError {
            throw error
        } catch let error as HDF5Error {
            throw KerasImportError(hdf5: error, importing: path)
        } catch {
            throw KerasImportError(.cannotRead, file: path, message: "\(error)")
        }
        return result
    }

    // MARK: Private

    private struct Source {
        var config: JSONValue
        var weights: WeightSource?
        var kerasVersion: String?
        var backend: String?
    }

    private static func importUnchecked(at path: String, config: String?) throws -> Model {
        var model: Model?
        try withSource(at: path, config: config) { source in
            let major = source.kerasVersion.flatMap { Int($0.prefix { $0.isNumber }) } ?? 3
            let name = source.config["config"]?["name"]?.string ?? "keras_model"
            let builder = GraphBuilder(name: name)
            let walker = ModelWalker(file: path, weights: source.weights, builder: builder, kerasMajor: major)
            let outputs = try walker.walk(source.config, prefix: [], inputs: nil)
            try nameOutputs(outputs, in: builder, config: source.config)
            var graph = builder.graph
            try graph.sortTopologically()
            var metadata = [MetadataEntry(key: "source_format", value: "keras")]
            if let version = source.kerasVersion { metadata.append(MetadataEntry(key: "keras_version", value: version)) }
            if let backend = source.backend { metadata.append(MetadataEntry(key: "keras_backend", value: backend)) }
            model = Model(irVersion: 8, opsetImports: [OpsetImport(domain: "", version: opsetVersion)], graph: graph,
                          producerName: "vigil-keras", metadata: metadata)
        }
        return model!
    }

    /// Makes each graph output a value named after the Keras layer that produces it.
    private static func nameOutputs(_ outputs: [KTensor], in builder: GraphBuilder, config: JSONValue) throws {
        var refs = config["config"]?["output_layers"]?.array ?? []
        // Dict outputs (Keras 3): in key order, as Keras flattens them, each named after its key.
        var keys: [String]?
        if let object = config["config"]?["output_layers"]?.object {
            keys = object.keys.sorted()
            refs = keys!.map { object[$0]! }
        }
        if refs.first?.string != nil { refs = [.array(refs)] }
        var taken = Set(builder.graph.inputs.map(\.name))
        for (index, output) in outputs.enumerated() {
            var wanted = "output_\(index)"
            if let keys, keys.indices.contains(index) {
                wanted = keys[index]
            } else if refs.indices.contains(index), let layer = refs[index].array?.first?.string {
                wanted = layer
            } else if refs.isEmpty,
                      let last = (config["config"]?["layers"]?.array ?? config["config"]?.array)?.last?["config"]?["name"]?.string {
                wanted = last
            }
            var value = output.name
            let graph = builder.graph
            let producer = graph.producer(of: value)
            if let producer, !taken.contains(value), !graph.isGraphOutput(value) {
                // Rename the producing node's output to the layer's name.
                let name = builder.fresh(wanted)
                var node = graph[producer]
                if let slot = node.outputs.firstIndex(of: value) {
                    node.outputs[slot] = name
                    builder.graph.replaceAllUses(of: value, with: name)
                    try builder.graph.replaceNode(producer, with: node)
                    value = name
                }
            } else {
                value = try builder.op("Identity", [value], [], name: wanted)
            }
            taken.insert(value)
            let dims: [Dim] = output.shape.enumerated().map { axis, size in
                size.map(Dim.fixed) ?? (axis == 0 ? .symbolic("batch") : .unknown)
            }
            builder.graph.outputs.append(ValueInfo(name: value, type: .tensor(output.dtype, Shape(dims))))
        }
    }

    /// Groups of Keras files whose datasets are optimizer state, never needed to import a model.
    static let optimizerGroups = ["/optimizer_weights", "/optimizer"]

    /// Largest config JSON accepted (Keras configs of very large models are a few MB).
    public static let maximumConfigBytes = 64 << 20

    /// Reads the file (HDF5 through the isolated `HDF5Reader`, or a `.keras` zip archive), finds
    /// the config and the weights, and runs `body` on them.
    private static func withSource(at path: String, config configPath: String?, _ body: (Source) throws -> Void) throws {
        let (fd, _) = try readable(path)
        var magic = [UInt8](repeating: 0, count: 4)
        let count = read(fd, &magic, 4)
        close(fd)
        var overrideConfig: JSONValue?
        if let configPath {
            overrideConfig = try readConfig(file: configPath, data: try configData(configPath, importing: path), importing: path)
        }
        if count == 4, magic == [0x50, 0x4B, 0x03, 0x04] {
            try withArchive(at: path, overrideConfig: overrideConfig, body)
            return
        }
        let snapshot = try HDF5Reader.read(path, options: .init(excludingData: optimizerGroups))
        let root = snapshot.root
        var source = Source(config: .null, weights: nil,
                            kerasVersion: try root.stringAttribute("keras_version"), backend: try root.stringAttribute("backend"))
        if let text = try root.stringAttribute("model_config") {
            source.config = try readConfig(file: path, data: Data(text.utf8), importing: path)
        }
        if let overrideConfig { source.config = overrideConfig }
        if root.isGroup("model_weights") {
            let group = try root.group("model_weights")
            if source.kerasVersion == nil { source.kerasVersion = try group.stringAttribute("keras_version") }
            source.weights = LegacyWeightSource(root: group)
            guard source.config != .null else {
                throw KerasImportError(.noModelConfig, file: path, message: "the file has no model_config; pass the model's config JSON")
            }
            try body(source)
            return
        }
        if root.isGroup("layers") || root.isGroup("vars") {
            source.weights = Keras3WeightSource(root: root)
        } else if try root.chunkedStringsAttribute("layer_names") != nil {
            source.weights = LegacyWeightSource(root: root)
        }
        guard source.config != .null else {
            throw KerasImportError(.noModelConfig, file: path,
                                   message: source.weights == nil
                                       ? "the HDF5 file has no model_config and no Keras weights"
                                       : "the file holds weights only (no model_config); pass the model's config JSON")
        }
        try body(source)
    }

    /// Opens a regular file without blocking (a FIFO or device is refused).
    private static func readable(_ path: String) throws -> (Int32, Int) {
        do { return try RegularFile.open(path) } catch {
            throw KerasImportError(.cannotRead, file: path, message: error.reason.hasPrefix("cannot read") ? "the file does not exist or cannot be read" : error.reason)
        }
    }

    private static func configData(_ configPath: String, importing path: String) throws -> Data {
        let size: Int
        do { size = try RegularFile.size(of: configPath) } catch {
            throw KerasImportError(.cannotRead, file: path, message: "cannot read the config file \(configPath): \(error.reason)")
        }
        guard size <= maximumConfigBytes else {
            throw KerasImportError(.invalidConfig, file: path, message: "the config file \(configPath) is \(size) bytes (at most \(maximumConfigBytes))")
        }
        do { return try RegularFile.map(configPath) } catch {
            throw KerasImportError(.cannotRead, file: path, message: "cannot read the config file \(configPath): \(error.reason)")
        }
    }

    private static func withArchive(at path: String, overrideConfig: JSONValue?, _ body: (Source) throws -> Void) throws {
        func fail(_ message: String) -> KerasImportError { KerasImportError(.archive, file: path, message: message) }
        let archive: ZipInput
        do { archive = try ZipInput(path: path) } catch { throw fail("cannot read the .keras archive: \(error.reason)") }
        if let unsafe = archive.unsafeMemberName() {
            throw fail("the archive holds a member with an unsafe path '\(unsafe)' (absolute or with '..'); refusing it")
        }
        for name in ["config.json", "metadata.json", "model.weights.h5"] where archive.count(named: name) > 1 {
            throw fail("the archive holds \(archive.count(named: name)) members named \(name); refusing an ambiguous archive")
        }
        func member(_ name: String) throws -> Data? {
            do { return try archive.data(of: name) } catch { throw fail("'\(name)' in the archive: \(error.reason)") }
        }
        var config = overrideConfig
        if config == nil {
            if let entry = archive.members.first(where: { $0.name == "config.json" }), entry.declaredSize > maximumConfigBytes {
                throw fail("config.json is \(entry.declaredSize) bytes (at most \(maximumConfigBytes))")
            }
            guard let data = try member("config.json") else {
                throw KerasImportError(.noModelConfig, file: path, message: "the .keras archive has no config.json")
            }
            config = try readConfig(file: path, data: data, importing: path)
        }
        var version: String?
        if let metadata = try member("metadata.json"), let json = try? JSONValue.parse(metadata) {
            version = json["keras_version"]?.string
        }
        guard let weightsData = try member("model.weights.h5") else {
            try body(Source(config: config!, weights: nil, kerasVersion: version, backend: nil))
            return
        }
        let temporary: TemporaryFile
        do {
            temporary = try TemporaryFile(prefix: "keras-weights", contents: weightsData)
        } catch {
            throw KerasImportError(.cannotRead, file: path, message: "cannot extract model.weights.h5: \(error.reason)")
        }
        let snapshot: HDF5Snapshot
        do {
            snapshot = try HDF5Reader.read(temporary.path, options: .init(excludingData: optimizerGroups))
        } catch {
            throw fail("model.weights.h5 in the archive: \(error.object == "/" ? "" : error.object + ": ")\(error.message)")
        }
        temporary.remove()
        try body(Source(config: config!, weights: Keras3WeightSource(root: snapshot.root), kerasVersion: version, backend: nil))
    }

    private static func readConfig(file: String, data: Data?, importing path: String) throws -> JSONValue {
        guard let data else {
            throw KerasImportError(.cannotRead, file: path, message: "cannot read the config file \(file)")
        }
        let json: JSONValue
        do {
            json = try JSONValue.parse(data)
        } catch {
            throw KerasImportError(.invalidConfig, file: path, message: "the model config in \(file) is not valid JSON")
        }
        // Configs written by some tools wrap the model in {"config": {"class_name": …}} or list it under "model_config".
        if json["class_name"] != nil { return json }
        if let inner = json["model_config"], inner["class_name"] != nil { return inner }
        throw KerasImportError(.invalidConfig, file: path, message: "the model config in \(file) has no 'class_name'")
    }
}
