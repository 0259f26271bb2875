import VigilIR

/// What the generated doc comments say about a model: producer, format versions, op counts, inputs and outputs.
enum ModelDocumentation {
    /// Summary lines for the wrapper type's doc comment (Markdown list items).
    static func summary(_ model: Model, interface: ModelInterface) -> [String] {
        var lines: [String] = []
        let producer = [model.producerName, model.producerVersion].filter { !$0.isEmpty }.joined(separator: " ")
        let opsets = model.opsetImports.map { "\(Domain.display($0.domain)) \($0.version)" }.joined(separator: ", ")
        lines.append("- Producer: \(producer.isEmpty ? "not recorded" : producer); ONNX IR \(model.irVersion); opsets: \(opsets)")
        if !model.graph.name.isEmpty { lines.append("- Graph: \(SwiftSource.code(model.graph.name))") }
        let histogram = model.graph.opHistogram.sorted { ($0.value, $1.key) > ($1.value, $0.key) }
        let ops = histogram.map { $0.value == 1 ? $0.key : "\($0.key) ×\($0.value)" }.joined(separator: ", ")
        lines.append("- Nodes: \(model.graph.nodeCount) (\(ops.isEmpty ? "none" : ops)); parameters: \(model.parameterCount)")
        lines.append("- Inputs: " + describe(interface.inputs))
        lines.append("- Outputs: " + describe(interface.outputs))
        return lines
    }

    /// `` `X` (x) float32 [N, 1, 28, 28] `` for each value.
    static func describe(_ values: [ModelInterface.Value]) -> String {
        values.isEmpty ? "none" : values.map { "\(SwiftSource.code($0.name)) \($0.typeDescription)" }.joined(separator: "; ")
    }

    /// The model's doc string and metadata, as paragraphs.
    static func notes(_ model: Model) -> [String] {
        var lines: [String] = []
        if !model.docString.isEmpty { lines += ["", model.docString] }
        if !model.graph.docString.isEmpty && model.graph.docString != model.docString { lines += ["", model.graph.docString] }
        if !model.metadata.isEmpty {
            lines += [""] + model.metadata.map { "- \(SwiftSource.code($0.key)): \($0.value)" }
        }
        return lines
    }
}
