import Foundation
import VigilExecutor
import VigilIR

/// Runs a network over an image set in batches and collects one output (an embedding or the logits).
public final class Embedder {
    public let model: Model
    public let inputName: String
    public let outputName: String
    /// The model's per-sample input shape (its input shape without the batch axis); `nil` when not static.
    public let sampleShape: [Int]?
    public let preprocessing: Preprocessing
    public let batchSize: Int
    private let session: InferenceSession

    /// - Parameters:
    ///   - model: the network, with exactly one float32 input `[N, …]`.
    ///   - output: the graph output to collect; the model's first output when `nil`.
    ///   - preprocessing: how images become network inputs.
    ///   - batchSize: samples per run.
    ///   - threads: executor threads (all cores when `nil`).
    ///   - winograd: whether 3×3 convolutions may use the Winograd kernel (`InferenceSession.Options.winograd`).
    public init(
        model: Model, output: String? = nil, preprocessing: Preprocessing = .init(), batchSize: Int = 256, threads: Int? = nil,
        winograd: Bool = true
    ) throws(DetectorError) {
        guard batchSize > 0 else { throw .invalidArgument("batch size must be positive") }
        let model = Self.exposing(output, in: model)
        do {
            session = try InferenceSession(model: model, options: .init(threads: threads, winograd: winograd))
        } catch {
            throw .execution(error.description)
        }
        guard session.inputs.count == 1, let input = session.inputs.first else {
            throw .modelInterface("the model must have exactly one input, it has \(session.inputs.count)")
        }
        let name = output ?? session.outputNames.first ?? ""
        guard session.outputNames.contains(name) else {
            throw .modelInterface("no graph output named '\(name)' (outputs: \(session.outputNames.joined(separator: ", ")))")
        }
        if let (dtype, _) = input.type?.tensorType, let dtype, dtype != .float32 {
            throw .modelInterface("the model input '\(input.name)' is \(dtype); only float32 inputs are supported")
        }
        self.model = model
        self.inputName = input.name
        self.outputName = name
        if let shape = input.type?.tensorType?.shape, shape.rank >= 1 {
            let rest = shape.dims.dropFirst().map(\.value)
            sampleShape = rest.allSatisfy { $0 != nil } ? rest.map { $0! } : nil
        } else {
            sampleShape = nil
        }
        self.preprocessing = try preprocessing.resolved(sampleShape: sampleShape)
        self.batchSize = batchSize
    }

    /// The model with `output` added to the graph outputs when it is an intermediate value some node
    /// produces (e.g. a classifier's penultimate layer); otherwise the model unchanged.
    public static func exposing(_ output: String?, in model: Model) -> Model {
        guard let output, !model.graph.outputs.contains(where: { $0.name == output }),
              model.graph.nodes.contains(where: { $0.outputs.contains(output) }) else { return model }
        var result = model
        let declared = model.graph.valueInfo.first { $0.name == output }
        result.graph.outputs.append(declared ?? ValueInfo(name: output, type: nil))
        return result
    }

    /// Checks that images of shape `[N, …]` fit the model's per-sample shape (size-1 axes are ignored,
    /// so `[N, 28, 28]` fits `[N, 28, 28, 1]` and `[N, 1, 28, 28]`).
    public func checkShape(of images: Tensor) throws(DetectorError) {
        guard images.dtype == .uint8 || images.dtype == .float32 else { throw .unsupportedImageType(images.dtype) }
        guard images.shape.count >= 1 else { throw .imageShape(expected: sampleShape ?? [], actual: images.shape) }
        guard let sampleShape else { return }
        let actual = Array(images.shape.dropFirst())
        if actual.filter({ $0 != 1 }) != sampleShape.filter({ $0 != 1 }) {
            throw .imageShape(expected: sampleShape, actual: actual)
        }
    }

    /// Runs the network over `images` (`[N, …]`, uint8 or float32) in batches.
    ///
    /// - Parameters:
    ///   - images: the samples, `[N, …]`.
    ///   - progress: called after each batch with (samples done, total).
    /// - Throws: ``DetectorError/imageShape(expected:actual:)``, ``DetectorError/nonFiniteEmbedding(sample:)``,
    ///   ``DetectorError/execution(_:)``.
    public func embed(_ images: Tensor, progress: ((Int, Int) -> Void)? = nil) throws(DetectorError) -> Embeddings {
        try checkShape(of: images)
        let count = images.shape[0]
        let perSample = images.shape.dropFirst().reduce(1, *)
        let sample = sampleShape ?? Array(images.shape.dropFirst())
        let pixels = try preprocessing.apply(images, sampleShape: sample)
        var out: [Float] = []
        var dimension = 0
        var start = 0
        while start < count {
            let n = min(batchSize, count - start)
            let slice = Array(pixels[(start * perSample)..<((start + n) * perSample)])
            let result: Tensor
            do {
                let feed = try Tensor(float32: slice, shape: [n] + sample)
                guard let value = try session.run([inputName: feed])[outputName] else {
                    throw DetectorError.modelInterface("the model did not produce '\(outputName)'")
                }
                result = value
            } catch let error as DetectorError {
                throw error
            } catch let error as ExecutorError {
                throw .execution(error.description)
            } catch {
                throw .execution("\(error)")
            }
            guard result.dtype == .float32, result.shape.first == n, result.elementCount > 0 else {
                throw .modelInterface("output '\(outputName)' is \(result.dtype)\(result.shape), expected float32 [\(n), D]")
            }
            let width = result.elementCount / n
            if dimension == 0 { dimension = width }
            let values = result.scalars(as: Float.self)
            if let bad = values.firstIndex(where: { !$0.isFinite }) { throw .nonFiniteEmbedding(sample: start + bad / width) }
            out.append(contentsOf: values)
            start += n
            progress?(start, count)
        }
        if count == 0 {
            return try Embeddings(values: [], count: 0, dimension: 1)
        }
        return try Embeddings(values: out, count: count, dimension: dimension)
    }
}
