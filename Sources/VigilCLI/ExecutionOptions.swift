import ArgumentParser
import Foundation
import VigilExecutor
import VigilIR

/// Flags shared by the commands that execute a model.
struct ExecutionOptions: ParsableArguments {
    @Option(name: .long, help: "Threads for BLAS and the executor's own loops (default: all cores).")
    var threads: Int?

    @Flag(help: "Run the graph as given. By default the model is optimized in memory first (folding, fusion), as onnxruntime does.")
    var noOptimize = false

    @Flag(help: "Compute 3x3 convolutions directly, as onnxruntime does, not with Winograd F(2x2, 3x3) (slower; rounding closer to onnxruntime's).")
    var noWinograd = false

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    /// Creates an inference session — for the optimized model unless `--no-optimize` or `optimize` is
    /// false — turning executor errors into one-line failures naming the model.
    func session(for model: Model, file: String, optimize: Bool = true) throws -> InferenceSession {
        var model = model
        if optimize && !noOptimize { try OptimizationOptions.optimizeForExecution(&model, file: file) }
        do {
            return try InferenceSession(model: model, options: .init(threads: threads, winograd: !noWinograd))
        } catch {
            throw CommandFailure("\(file): \(error)")
        }
    }
}

/// `--input [NAME=]FILE` values: `.npy`, `.npz` (every array, by name) or ONNX `TensorProto` `.pb`.
struct InputOptions: ParsableArguments {
    @Option(name: .long, parsing: .singleValue, help: "An input as [NAME=]FILE (.npy, .npz or TensorProto .pb); repeatable.")
    var input: [String] = []

    /// The files named by `--input`.
    var files: [String] { input.map { Self.split($0).1 } }

    /// Loads the inputs; unnamed ones fill the model's inputs in order.
    func feeds(for model: Model) throws -> [String: Tensor] {
        var feeds: [String: Tensor] = [:]
        var unnamed: [(file: String, tensor: Tensor)] = []
        for argument in input {
            let (name, file) = Self.split(argument)
            for (arrayName, tensor) in try TensorFiles.read(file) {
                if let name {
                    feeds[name] = tensor
                } else if let arrayName, file.lowercased().hasSuffix(".npz") || file.lowercased().hasSuffix(".pb") && !arrayName.isEmpty {
                    feeds[arrayName] = tensor
                } else {
                    unnamed.append((file, tensor))
                }
            }
        }
        let open = model.graph.runtimeInputs.map(\.name).filter { feeds[$0] == nil }
        guard unnamed.count <= open.count else {
            throw CommandFailure("\(unnamed[open.count].file): the model has no input left for it (inputs: \(model.graph.runtimeInputs.map { "'\($0.name)'" }.joined(separator: ", ")))")
        }
        for (name, item) in zip(open, unnamed) { feeds[name] = item.tensor }
        return feeds
    }

    /// `NAME=FILE` when the part before the first `=` looks like a name rather than a path.
    static func split(_ argument: String) -> (String?, String) {
        guard let equals = argument.firstIndex(of: "=") else { return (nil, argument) }
        let name = String(argument[..<equals])
        guard !name.isEmpty, !name.contains("/") else { return (nil, argument) }
        return (name, String(argument[argument.index(after: equals)...]))
    }
}
