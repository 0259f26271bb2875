import VigilIR

/// The facts `vigil inspect` reports about a model, as text or JSON.
struct ModelSummary {
    let model: Model

    init(_ model: Model) { self.model = model }

    static func shapeJSON(_ shape: Shape?) -> Any {
        guard let shape else { return NSNullValue.null }
        return shape.dims.map { dim -> Any in
            switch dim {
            case .fixed(let size): size
            case .symbolic(let name): name
            case .unknown: "?"
            }
        }
    }

    static func valueJSON(_ info: ValueInfo) -> [String: Any] {
        var object: [String: Any] = ["name": info.name]
        switch info.type {
        case .tensor(let dtype, let shape)?:
            object["dtype"] = dtype?.rawValue ?? "undefined"
            object["shape"] = shapeJSON(shape)
        case let other?:
            object["type"] = other.description
        case nil:
            object["type"] = "undeclared"
        }
        return object
    }

    var json: [String: Any] {
        [
            "producer_name": model.producerName,
            "producer_version": model.producerVersion,
            "ir_version": model.irVersion,
            "model_version": model.modelVersion,
            "domain": model.domain,
            "opsets": model.opsetImports.map { ["domain": $0.domain, "version": $0.version] as [String: Any] },
            "inputs": model.graph.runtimeInputs.map(Self.valueJSON),
            "outputs": model.graph.outputs.map(Self.valueJSON),
            "node_count": model.graph.nodeCount,
            "op_histogram": model.graph.opHistogram,
            "parameter_count": model.parameterCount,
            "parameter_bytes_by_dtype": Dictionary(uniqueKeysWithValues: model.parameterBytesByDType.map { ($0.key.rawValue, $0.value) }),
            "initializer_count": model.graph.initializers.count + model.graph.sparseInitializers.count,
            "external_data_files": model.externalDataLocations,
            "metadata": Dictionary(model.metadata.map { ($0.key, $0.value) }, uniquingKeysWith: { _, last in last }),
        ]
    }

    func text(file: String, format: String = "onnx") -> String {
        var lines = [file]
        func row(_ label: String, _ value: String) { lines.append("  " + label.padding(13) + value) }
        row("format", format == "keras" ? "Keras, imported as ONNX IR version \(model.irVersion)" : "ONNX, IR version \(model.irVersion)")
        let producer = [model.producerName, model.producerVersion].filter { !$0.isEmpty }.joined(separator: " ")
        row("producer", producer.isEmpty ? "(not set)" : producer)
        row("opsets", model.opsetImports.map { "\(Domain.display($0.domain)) \($0.version)" }.joined(separator: ", "))
        func values(_ label: String, _ infos: [ValueInfo]) {
            lines.append("  \(label)")
            let width = min(max(infos.map(\.name.count).max() ?? 0, 4), 40)
            for info in infos { lines.append("    " + info.name.padding(width + 2) + (info.type?.description ?? "undeclared")) }
        }
        values("inputs", model.graph.runtimeInputs)
        values("outputs", model.graph.outputs)
        row("nodes", String(model.graph.nodeCount))
        let ops = model.graph.opHistogram.sorted { ($0.value, $1.key) > ($1.value, $0.key) }
        row("ops", ops.map { "\($0.key) ×\($0.value)" }.joined(separator: ", "))
        let bytes = model.parameterBytesByDType.sorted { $0.key.rawValue < $1.key.rawValue }
        let total = bytes.reduce(0) { $0 + $1.value }
        row("parameters", "\(grouped(model.parameterCount)) (\(byteString(total)))" + (bytes.isEmpty ? "" : ": ")
            + bytes.map { "\($0.key) \(byteString($0.value))" }.joined(separator: ", "))
        row("initializers", String(model.graph.initializers.count + model.graph.sparseInitializers.count))
        let external = model.externalDataLocations
        row("external data", external.isEmpty ? "none" : external.joined(separator: ", "))
        return lines.joined(separator: "\n")
    }
}

/// JSON null for `JSONSerialization`.
enum NSNullValue {
    static var null: Any { Optional<Int>.none as Any }
}

func grouped(_ value: Int) -> String {
    let digits = Array(String(value))
    var result = ""
    for (index, digit) in digits.enumerated() {
        if index > 0 && (digits.count - index) % 3 == 0 { result.append(",") }
        result.append(digit)
    }
    return result
}

func byteString(_ bytes: Int) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"]
    var value = Double(bytes)
    var unit = 0
    while value >= 1024 && unit < units.count - 1 {
        value /= 1024
        unit += 1
    }
    return unit == 0 ? "\(bytes) B" : String(format: "%.1f %@", value, units[unit])
}

extension String {
    func padding(_ width: Int) -> String { count >= width ? self + " " : self + String(repeating: " ", count: width - count) }
}
