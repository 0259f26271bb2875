import VigilHDF5
import VigilIR

/// Walks a Sequential or Functional model config (Keras 2 or Keras 3 dialect), calling each layer's
/// lowering in dependency order. Nested models are inlined; shared layers reuse their initializers.
final class ModelWalker {
    let file: String
    let weights: WeightSource?
    let builder: GraphBuilder
    let kerasMajor: Int

    init(file: String, weights: WeightSource?, builder: GraphBuilder, kerasMajor: Int) {
        self.file = file
        self.weights = weights
        self.builder = builder
        self.kerasMajor = kerasMajor
    }

    static let modelClasses: Set<String> = ["Sequential", "Functional", "Model"]

    func configError(_ message: String, layer: String? = nil) -> KerasImportError {
        KerasImportError(.invalidConfig, file: file, layer: layer, message: message)
    }

    /// Imports a model. With `inputs` nil it is the top-level model and creates the graph inputs.
    func walk(_ model: JSONValue, prefix: [LayerLocation], inputs: [KTensor]?) throws -> [KTensor] {
        guard let className = model["class_name"]?.string, let config = model["config"] else {
            throw configError("the model config has no 'class_name' and 'config'")
        }
        let layerPath = prefix.map(\.name).joined(separator: "/")
        switch className {
        case "Sequential": return try walkSequential(config, prefix: prefix, inputs: inputs)
        case "Functional", "Model":
            guard config["layers"] != nil else {
                throw KerasImportError(.customLayer(className: className), file: file, layer: layerPath.isEmpty ? nil : layerPath,
                                       className: className, message: "a subclassed model has no layer graph in its config")
            }
            return try walkFunctional(config, prefix: prefix, inputs: inputs)
        default:
            throw configError("the top-level class is '\(className)', not a Sequential or Functional model")
        }
    }

    // MARK: Sequential

    private func walkSequential(_ config: JSONValue, prefix: [LayerLocation], inputs: [KTensor]?) throws -> [KTensor] {
        // Keras ≤ 2.2 stored a Sequential config as the bare list of layers.
        guard var layers = config["layers"]?.array ?? config.array else { throw configError("a Sequential config without 'layers'") }
        var inputName: String
        var inputShape: [Int?]?
        if let first = layers.first, first["class_name"]?.string == "InputLayer" {
            inputName = first["config"]?["name"]?.string ?? "input"
            inputShape = Self.batchShape(first["config"])
            layers.removeFirst()
        } else {
            let firstName = layers.first?["config"]?["name"]?.string ?? "sequential"
            inputName = firstName + "_input"
            inputShape = Self.batchShape(layers.first?["config"]) ?? config["build_input_shape"]?.array.map { $0.map(\.int) }
        }
        guard !layers.isEmpty else { throw configError("the Sequential model has no layers (nothing to compute)", layer: prefix.last?.name) }
        var current: KTensor
        if let inputs {
            guard inputs.count == 1 else { throw configError("a Sequential model called with \(inputs.count) inputs") }
            current = inputs[0]
        } else {
            guard let inputShape else { throw configError("the Sequential model declares no input shape") }
            inputName = builder.fresh(inputName)
            current = try addGraphInput(inputName, shape: inputShape)
        }
        let keys = Self.keys(for: layers)
        for (layer, key) in zip(layers, keys) {
            let outputs = try call(layer, inputs: [current], prefix: prefix, key: key)
            guard outputs.count == 1 else {
                throw configError("a layer in a Sequential model returned \(outputs.count) outputs", layer: layerName(layer))
            }
            current = outputs[0]
        }
        return [current]
    }

    // MARK: Functional

    private struct Ref: Hashable {
        var layer: String
        var node: Int
        var tensor: Int
    }

    /// A (layer, node) call waiting for its inputs; `inbound` is the node's JSON (Keras 3 operations
    /// read their constant arguments from it).
    private struct Pending {
        var layer: JSONValue
        var key: String
        var node: Int
        var inputs: [Ref]
        var inbound: JSONValue?
    }

    private func walkFunctional(_ config: JSONValue, prefix: [LayerLocation], inputs: [KTensor]?) throws -> [KTensor] {
        guard let layers = config["layers"]?.array else { throw configError("a Functional config without 'layers'") }
        guard layers.contains(where: { $0["class_name"]?.string != "InputLayer" }) else {
            throw configError("the model has no layers besides its inputs (nothing to compute)", layer: prefix.last?.name)
        }
        let keys = Self.keys(for: layers)
        let inputRefs = try refs(config["input_layers"])
        let outputRefs = try refs(config["output_layers"])
        var byName: [String: JSONValue] = [:]
        for layer in layers { byName[layerName(layer)] = layer }

        var tensors: [Ref: KTensor] = [:]
        if let inputs, inputs.count != inputRefs.count {
            throw configError("a nested model with \(inputRefs.count) inputs is called with \(inputs.count)", layer: prefix.last?.name)
        }
        for (index, ref) in inputRefs.enumerated() {
            if let inputs {
                tensors[ref] = inputs[index]
            } else {
                guard let layer = byName[ref.layer] else { throw configError("input layer '\(ref.layer)' is not in the model") }
                guard let shape = Self.batchShape(layer["config"]) else {
                    throw configError("the input layer declares no shape", layer: ref.layer)
                }
                tensors[ref] = try addGraphInput(builder.fresh(ref.layer), shape: shape)
            }
        }

        // Every (layer, node) call, run once all its inputs exist.
        var pending: [Pending] = []
        for (layer, key) in zip(layers, keys) where layer["class_name"]?.string != "InputLayer" {
            let nodes = layer["inbound_nodes"]?.array ?? []
            for (index, node) in nodes.enumerated() {
                pending.append(Pending(layer: layer, key: key, node: index, inputs: try nodeRefs(node, layer: layerName(layer)), inbound: node))
            }
        }
        let counts = Dictionary(layers.map { (layerName($0), ($0["inbound_nodes"]?.array?.count ?? 0)) }, uniquingKeysWith: { a, _ in a })
        let classes = Dictionary(layers.map { (layerName($0), $0["class_name"]?.string ?? "") }, uniquingKeysWith: { a, _ in a })
        let legacyNodes = layers.contains { $0["inbound_nodes"]?.array?.first?.array != nil } || kerasMajor < 3
        /// Node indices that refer to a nested model count its own construction node first: in Keras 2
        /// everywhere, in Keras 3 only in `input_layers`/`output_layers` and only for Functional models.
        func resolve(_ ref: Ref, inModelOutputs: Bool = false) -> KTensor? {
            var node = ref.node
            if let className = classes[ref.layer], Self.modelClasses.contains(className),
               legacyNodes || (inModelOutputs && className != "Sequential"), node > 0 {
                node -= 1
            }
            if let tensor = tensors[Ref(layer: ref.layer, node: node, tensor: ref.tensor)] { return tensor }
            if let tensor = tensors[ref] { return tensor }
            // A layer called once: accept any node index for it.
            if counts[ref.layer] == 1 { return tensors[Ref(layer: ref.layer, node: 0, tensor: ref.tensor)] }
            return nil
        }
        while !pending.isEmpty {
            var progressed = false
            var remaining: [Pending] = []
            for entry in pending {
                let resolved = entry.inputs.compactMap { resolve($0) }
                guard resolved.count == entry.inputs.count else { remaining.append(entry); continue }
                let outputs = try call(entry.layer, inputs: resolved, prefix: prefix, key: entry.key, inbound: entry.inbound)
                for (index, output) in outputs.enumerated() {
                    tensors[Ref(layer: layerName(entry.layer), node: entry.node, tensor: index)] = output
                }
                progressed = true
            }
            guard progressed else {
                let missing = remaining[0].inputs.first { resolve($0) == nil }!
                throw configError("its input '\(missing.layer)' (node \(missing.node), tensor \(missing.tensor)) is never computed",
                                  layer: layerName(remaining[0].layer))
            }
            pending = remaining
        }
        return try outputRefs.map { ref in
            guard let tensor = resolve(ref, inModelOutputs: true) else {
                throw configError("model output '\(ref.layer)' (node \(ref.node)) is never computed", layer: ref.layer)
            }
            return tensor
        }
    }

    /// `[["a", 0, 0], …]`, a single `["a", 0, 0]`, or (Keras 3 dict inputs/outputs) `{"key": ["a", 0, 0]}`
    /// taken in key order.
    private func refs(_ value: JSONValue?) throws -> [Ref] {
        if let object = value?.object { return try object.keys.sorted().map { try ref(object[$0]!) } }
        guard let array = value?.array else { throw configError("the model has no 'input_layers' or 'output_layers'") }
        if array.first?.string != nil { return [try ref(value!)] }
        return try array.map(ref)
    }

    private func ref(_ value: JSONValue) throws -> Ref {
        guard let parts = value.array, parts.count >= 3, let layer = parts[0].string, let node = parts[1].int,
              let tensor = parts[2].int else {
            throw configError("malformed tensor reference \(value)")
        }
        return Ref(layer: layer, node: node, tensor: tensor)
    }

    /// The tensors an inbound node reads: Keras 3 `{"args": […], "kwargs": {…}}` with
    /// `__keras_tensor__` entries, or Keras 2 `[["layer", node, tensor, {kwargs}], …]`.
    private func nodeRefs(_ node: JSONValue, layer: String) throws -> [Ref] {
        if node.object != nil {
            var found: [Ref] = []
            func collect(_ value: JSONValue) throws {
                if value["class_name"]?.string == "__keras_tensor__", let history = value["config"]?["keras_history"] {
                    found.append(try ref(history))
                } else if let array = value.array {
                    for element in array { try collect(element) }
                } else if let object = value.object {
                    for key in object.keys.sorted() { try collect(object[key]!) }
                }
            }
            try collect(node["args"] ?? .array([]))
            if let kwargs = node["kwargs"]?.object {
                for key in kwargs.keys.sorted() where key != "training" && key != "mask" { try collect(kwargs[key]!) }
            }
            return found
        }
        guard let entries = node.array else { throw configError("malformed inbound node", layer: layer) }
        return try entries.map { entry in
            guard let parts = entry.array, parts.count >= 3 else { throw configError("malformed inbound node", layer: layer) }
            return try ref(.array(Array(parts[0..<3])))
        }
    }

    // MARK: Layers

    func layerName(_ layer: JSONValue) -> String {
        layer["config"]?["name"]?.string ?? layer["name"]?.string ?? "?"
    }

    private static let lambdaClasses: Set<String> = ["Lambda", "TFOpLambda", "SlicingOpLambda", "TFOpLayer"]

    /// Lowers one call of a layer (or inlines a nested model, or lowers a Keras 3 operation).
    private func call(_ layer: JSONValue, inputs: [KTensor], prefix: [LayerLocation], key: String, inbound: JSONValue? = nil) throws -> [KTensor] {
        let name = layerName(layer)
        let location = prefix + [LayerLocation(name: name, key: key)]
        let path = location.map(\.name).joined(separator: "/")
        guard let className = layer["class_name"]?.string else { throw configError("the layer has no class_name", layer: path) }
        if Self.modelClasses.contains(className) {
            return try walk(layer, prefix: location, inputs: inputs)
        }
        let module = layer["module"]?.string ?? "keras.layers"
        let registered = layer["registered_name"]?.string
        let isCustom = !module.hasPrefix("keras") || (registered.map { $0 != className && $0.contains(">") } ?? false)
        if Self.lambdaClasses.contains(className) || isCustom {
            throw KerasImportError(.customLayer(className: className), file: file, layer: path, className: className,
                                   message: "\(className == "Lambda" ? "a Lambda layer" : "a custom layer") holds Python code that is not in the file; it cannot be imported")
        }
        let operation = OperationRegistry.isOperation(layer, kerasMajor: kerasMajor)
        guard let lowering = operation ? operationLowering(className, inputs: inputs, inbound: inbound) : LayerRegistry.lowerings[className] else {
            throw KerasImportError(.unsupportedLayer(className: className), file: file, layer: path, className: className,
                                   message: operation ? "the Keras operation '\(className)' is not supported" : "layer class '\(className)' is not supported")
        }
        let weights = self.weights
        let call = LayerCall(
            file: file, layerPath: path, className: className, config: layer["config"] ?? .object([:]), inputs: inputs,
            builder: builder, kerasMajor: kerasMajor,
            loadWeights: { (sublayers: [String]?) throws -> [KerasWeight]? in
                guard let sublayers else { return try weights?.weights(at: location) }
                return try weights?.weights(at: location, sublayers: sublayers)
            })
        let outerLayer = builder.currentLayer
        builder.currentLayer = path
        defer { builder.currentLayer = outerLayer }
        do {
            let outputs = try lowering(call)
            for output in outputs {
                if let reason = KTensor.implausibility(of: output.shape) { throw call.error(.invalidConfig, "its output \(reason)") }
            }
            return outputs
        } catch let error as KerasImportError {
            throw error
        } catch let error as HDF5Error {
            throw KerasImportError(.hdf5, file: file, layer: path, className: className, message: error.description)
        } catch {
            throw KerasImportError(.invalidConfig, file: file, layer: path, className: className, message: "\(error)")
        }
    }

    /// A layer lowering that runs a Keras 3 operation's lowering with the arguments of its inbound
    /// node (model tensors, in the order `nodeRefs` resolved them, and constants).
    private func operationLowering(_ className: String, inputs: [KTensor], inbound: JSONValue?) -> Lowering? {
        guard let lowering = OperationRegistry.lowerings[className] else { return nil }
        return { call in
            var tensors = ArraySlice(inputs)
            let arguments = (inbound?["args"]?.array ?? []).map { OperationArgument.decode($0, tensors: &tensors) }
            var keywords: [String: OperationArgument] = [:]
            for (key, value) in (inbound?["kwargs"]?.object ?? [:]).sorted(by: { $0.key < $1.key }) where key != "training" && key != "mask" {
                keywords[key] = OperationArgument.decode(value, tensors: &tensors)
            }
            return try lowering(OperationCall(layer: call, arguments: arguments, keywords: keywords))
        }
    }

    // MARK: Inputs

    /// `batch_shape` (Keras 3), `batch_input_shape` (Keras 2) or `shape` (without the batch dim).
    static func batchShape(_ config: JSONValue?) -> [Int?]? {
        if let shape = config?["batch_shape"]?.array ?? config?["batch_input_shape"]?.array { return shape.map(\.int) }
        if let shape = config?["shape"]?.array { return [nil] + shape.map(\.int) }
        return nil
    }

    private func addGraphInput(_ name: String, shape: [Int?]) throws -> KTensor {
        if let reason = KTensor.implausibility(of: shape) { throw configError("input '\(name)': \(reason)") }
        let dims: [Dim] = shape.enumerated().map { index, size in
            if let size { return .fixed(size) }
            return index == 0 ? .symbolic("batch") : .unknown
        }
        builder.graph.inputs.append(ValueInfo(name: name, type: .tensor(.float32, Shape(dims))))
        return KTensor(name: name, shape: shape)
    }

    /// The keys Keras 3 gives layers in weight files: the snake-cased class name, uniquified in order.
    /// Operations (which have no weights) are not saved and take no key (`""`).
    static func keys(for layers: [JSONValue]) -> [String] {
        var seen: [String: Int] = [:]
        return layers.map { layer in
            if OperationRegistry.isOperation(layer, kerasMajor: 3) { return "" }
            let base = kerasSnakeCase(layer["class_name"]?.string ?? "layer")
            let count = seen[base, default: 0]
            seen[base] = count + 1
            return count == 0 ? base : "\(base)_\(count)"
        }
    }
}
