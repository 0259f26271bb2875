import Foundation
import VigilExecutor
import VigilIR

/// A network loaded from an ONNX or Keras file, optimized and ready to run on the CPU.
///
/// ```swift
/// let network = try Network(contentsOf: URL(fileURLWithPath: "embedding.onnx"))
/// let images = try TypedTensor<Float>(shape: [1, 28, 28, 1], scalars: pixels)
/// let outputs = try network.run(["image": images.tensor])      // keyed by output name
/// let embedding = try outputs["embedding"]!.typed(as: Float.self)
/// ```
///
/// Like onnxruntime, which optimizes a graph when it creates a session, the network runs the
/// optimizer's default pipeline first (BatchNorm folding, Conv/Gemm + activation fusion, …; see
/// ``Optimization``), so it computes exactly what `vigil run` computes. The plan for each set of
/// input shapes is made once and cached; a symbolic dim such as the batch size binds per run.
///
/// A network may be shared between threads: runs are serialized (each plan owns reusable
/// buffers). Create several networks to run in parallel.
public final class Network: Sendable {
    /// How a network runs.
    public struct Options: Sendable, Equatable {
        /// Threads for the executor's own loops and for OpenBLAS; `nil` uses every active core.
        public var threads: Int?
        /// Whether 3×3 stride-1 convolutions may use the Winograd F(2×2, 3×3) kernel (faster; its
        /// rounding differs from a direct convolution's in the last bits). `false` computes every
        /// convolution directly, as onnxruntime does.
        public var winograd: Bool
        /// Whether to run the optimizer's default pipeline before planning (as `vigil run` does);
        /// `false` runs the graph exactly as given.
        public var optimize: Bool
        /// The most memory, in bytes, a run may use for its values and scratch space (the weights and
        /// inputs are not counted); `nil` allows the memory the machine has available. A network that
        /// would need more fails when it is planned, naming the node.
        public var memoryLimit: Int?
        /// How a batch runs: whole, or in chunks of samples that keep each layer's values in the
        /// caches when every node keeps the samples apart (the same numbers; `vigil run --batch-chunk`).
        public var batching: Batching

        /// Creates options; the defaults are those of `vigil run`.
        public init(threads: Int? = nil, winograd: Bool = true, optimize: Bool = true, memoryLimit: Int? = nil,
                    batching: Batching = .automatic) {
            self.threads = threads
            self.winograd = winograd
            self.optimize = optimize
            self.memoryLimit = memoryLimit
            self.batching = batching
        }
    }

    /// How a batch runs (``Options/batching``).
    public enum Batching: Sendable, Equatable {
        /// Chunks when a model of the caches says they move fewer bytes (light networks at large
        /// batches), else the whole batch.
        case automatic
        /// The whole batch at once.
        case whole
        /// Chunks of this many samples, when the network keeps its samples apart.
        case chunks(of: Int)

        var executor: InferenceSession.Batching {
            switch self {
            case .automatic: .automatic
            case .whole: .whole
            case .chunks(let n): .chunks(of: n)
            }
        }
    }

    /// The file the network was loaded from, when it was; errors name it.
    public let file: String?
    /// The options it runs with.
    public let options: Options
    /// The model as it runs (after optimization unless ``Options/optimize`` is `false`).
    public let model: Model
    /// The inputs each run needs, in the model's order (weights listed as inputs are not among them).
    public let inputs: [TensorDescription]
    /// The outputs each run returns, in the model's order.
    public let outputs: [TensorDescription]
    private let session: InferenceSession

    /// Loads, optimizes and plans the network in a model file.
    ///
    /// - Parameters:
    ///   - url: an ONNX file (`.onnx`, external data next to it) or a Keras file (`.h5`, `.keras`,
    ///     `.weights.h5` with `kerasConfig`).
    ///   - kerasConfig: the config JSON of a weights-only Keras file.
    ///   - options: threads, Winograd, in-memory optimization, memory limit.
    /// - Throws: ``VigilError`` naming the file and the node or layer: an unreadable or invalid file,
    ///   unsupported ops (all of them at once), or a node that fails to plan.
    public convenience init(contentsOf url: URL, kerasConfig: URL? = nil, options: Options = .init()) throws(VigilError) {
        let model = try ModelFile.load(url, kerasConfig: kerasConfig)
        try self.init(model: model, file: url.path, options: options)
    }

    /// Optimizes and plans a model already in memory.
    ///
    /// - Parameters:
    ///   - model: the model, as read by ``ModelFile`` or built in code.
    ///   - file: names the model in errors.
    ///   - options: threads, Winograd, in-memory optimization, memory limit.
    public init(model: Model, file: String? = nil, options: Options = .init()) throws(VigilError) {
        if let threads = options.threads, threads < 1 {
            throw VigilError(.invalidInput, file: file, cause: "threads must be at least 1, not \(threads)")
        }
        if case .chunks(let samples) = options.batching, samples < 1 {
            throw VigilError(.invalidInput, file: file, cause: "a chunk must hold at least 1 sample, not \(samples)")
        }
        var model = model
        if options.optimize { try Optimization.optimize(&model, file: file) }
        do {
            session = try InferenceSession(
                model: model, options: .init(threads: options.threads, winograd: options.winograd, memoryLimit: options.memoryLimit,
                                             batching: options.batching.executor))
        } catch {
            throw VigilError(error, file: file)
        }
        self.file = file
        self.options = options
        self.model = model
        inputs = session.inputs.map(TensorDescription.init)
        outputs = model.graph.outputs.map(TensorDescription.init)
    }

    /// Runs the network.
    ///
    /// - Parameter feeds: a tensor for every input, by input name.
    /// - Returns: every output, by output name (``outputs`` gives their order).
    /// - Throws: ``VigilError`` of kind ``VigilError/Kind/invalidInput`` (a missing or unknown input,
    ///   a wrong element type or shape, naming the input) or ``VigilError/Kind/execution`` (naming the node).
    public func run(_ feeds: [String: Tensor]) throws(VigilError) -> [String: Tensor] {
        do { return try session.run(feeds) } catch { throw VigilError(error, file: file) }
    }

    /// Runs a network that has exactly one input.
    public func run(_ input: Tensor) throws(VigilError) -> [String: Tensor] {
        guard inputs.count == 1 else {
            throw VigilError(.invalidInput, file: file, cause: "the network has \(inputs.count) inputs (\(inputs.map { "'\($0.name)'" }.joined(separator: ", "))); pass them by name")
        }
        return try run([inputs[0].name: input])
    }

    /// Runs the network and returns the outputs in the model's order.
    public func runOrdered(_ feeds: [String: Tensor]) throws(VigilError) -> [(name: String, tensor: Tensor)] {
        let results = try run(feeds)
        return outputs.map { ($0.name, results[$0.name]!) }
    }
}
