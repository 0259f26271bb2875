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

    @Flag(help: "Compute 3x3 convolutions directly, as onnxruntime does, not with Winograd F(2x2, 3x3) (slower on AVX2-only CPUs; AVX-512 CPUs compute them directly anyway; rounding closer to onnxruntime's).")
    var noWinograd = false

    @Option(name: .long, help: ArgumentHelp(
        "The most memory the model's values and scratch space may take, e.g. 512M or 4G (default: the memory available now). A model that needs more fails before anything is allocated, naming the node.",
        valueName: "SIZE"))
    var maxMemory: String?

    @Option(name: .long, help: ArgumentHelp(
        "How a batch runs: 'auto' (chunks of samples that keep each layer's values in the cache, when every node keeps the samples apart; the numbers are the same), 'whole', or a number of samples per chunk.",
        valueName: "auto|whole|N"))
    var batchChunk: String = "auto"

    /// `--batch-chunk` as the session's batching.
    var batching: InferenceSession.Batching? {
        switch batchChunk {
        case "auto": .automatic
        case "whole": .whole
        default: Int(batchChunk).flatMap { $0 >= 1 ? .chunks(of: $0) : nil }
        }
    }

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        if batching == nil { throw ValidationError("--batch-chunk '\(batchChunk)' is not 'auto', 'whole' or a positive number of samples") }
        if let maxMemory, MemoryLimit.parse(maxMemory) == nil { throw ValidationError("--max-memory '\(maxMemory)' is not a size (e.g. 512M, 4G)") }
    }

    /// The session options these flags select.
    var sessionOptions: InferenceSession.Options {
        .init(threads: threads, winograd: !noWinograd, memoryLimit: maxMemory.flatMap(MemoryLimit.parse), batching: batching ?? .automatic)
    }

    /// Creates an inference session — for the optimized model unless `--no-optimize` or `optimize` is
    /// false — turning executor errors into one-line failures naming the model.
    func session(for model: Model, file: String, optimize: Bool = true) throws -> InferenceSession {
        var model = model
        if optimize && !noOptimize { try OptimizationOptions.optimizeForExecution(&model, file: file) }
        do {
            return try InferenceSession(model: model, options: sessionOptions)
        } catch {
            throw CommandFailure("\(file): \(error)")
        }
    }
}

/// `--input [NAME=]FILE` values: `.npy`, `.npz` (every array, by name) or ONNX `TensorProto` `.pb`.
struct InputOptions: ParsableArguments {
    @Option(name: .long, parsing: .singleValue, help: "A model input as [NAME=]FILE (.npy, .npz or TensorProto .pb); repeatable.")
    var input: [String] = []

    /// The files named by `--input`.
    var files: [String] { input.map { Self.split($0).1 } }

    /// Loads the inputs; unnamed ones fill the model's inputs in order. Each must be an input of the
    /// model with its element type, rank and fixed sizes, or the failure names the file.
    func feeds(for model: Model) throws -> [String: Tensor] {
        var feeds: [String: (file: String, tensor: Tensor)] = [:]
        var unnamed: [(file: String, tensor: Tensor)] = []
        for argument in input {
            let (name, file) = Self.split(argument)
            for (arrayName, tensor) in try TensorFiles.read(file) {
                if let name {
                    feeds[name] = (file, tensor)
                } else if let arrayName, file.lowercased().hasSuffix(".npz") || file.lowercased().hasSuffix(".pb") && !arrayName.isEmpty {
                    feeds[arrayName] = (file, tensor)
                } else {
                    unnamed.append((file, tensor))
                }
            }
        }
        let inputs = model.graph.runtimeInputs
        let names = inputs.map { "'\($0.name)'" }.joined(separator: ", ")
        let open = inputs.map(\.name).filter { feeds[$0] == nil }
        guard unnamed.count <= open.count else {
            throw CommandFailure("\(unnamed[open.count].file): the model has no input left for it (inputs: \(names))")
        }
        for (name, item) in zip(open, unnamed) { feeds[name] = item }
        for (name, item) in feeds.sorted(by: { $0.key < $1.key }) {
            guard let info = inputs.first(where: { $0.name == name }) else {
                throw CommandFailure("\(item.file): the model has no input named '\(name)' (inputs: \(names))")
            }
            if let problem = Self.mismatch(item.tensor, info) {
                throw CommandFailure("\(item.file): the model cannot take it as input '\(name)': \(problem)")
            }
        }
        return feeds.mapValues(\.tensor)
    }

    /// Why `tensor` does not fit the declared input, or `nil` when it fits (or nothing is declared).
    static func mismatch(_ tensor: Tensor, _ info: ValueInfo) -> String? {
        guard let (dtype, shape) = info.type?.tensorType else { return nil }
        let declared = info.type?.description ?? ""
        if let dtype, dtype != tensor.dtype {
            return "it is \(tensor.dtype)\(tensor.shape), the input is \(declared)"
        }
        guard let shape else { return nil }
        guard shape.rank == tensor.shape.count else {
            return "it has rank \(tensor.shape.count) (\(tensor.shape)), the input is \(declared)"
        }
        for (axis, (dim, size)) in zip(shape.dims, tensor.shape).enumerated() {
            if case .fixed(let want) = dim, want != size {
                return "axis \(axis) is \(size), the input is \(declared)"
            }
        }
        return nil
    }

    /// `NAME=FILE` when the part before the first `=` looks like a name rather than a path.
    static func split(_ argument: String) -> (String?, String) {
        guard let equals = argument.firstIndex(of: "=") else { return (nil, argument) }
        let name = String(argument[..<equals])
        guard !name.isEmpty, !name.contains("/") else { return (nil, argument) }
        return (name, String(argument[argument.index(after: equals)...]))
    }
}
