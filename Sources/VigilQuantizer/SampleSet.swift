import VigilExecutor
import VigilIR
import VigilOptimizer

/// Samples for a model: one array per graph input, all with the same first (batch) dimension.
public struct SampleSet: Sendable {
    /// Arrays by input name.
    public let inputs: [String: Tensor]
    /// Samples (the shared first dimension).
    public let count: Int

    /// Checks that every array has the same first dimension.
    public init(_ inputs: [String: Tensor]) throws(QuantizationError) {
        let counts = Set(inputs.values.map { $0.shape.first ?? 0 })
        guard let count = counts.first, counts.count == 1, count > 0 else {
            let listed = inputs.map { "'\($0.key)' \($0.value.shape)" }.sorted().joined(separator: ", ")
            throw QuantizationError("the sample arrays must share their first (batch) dimension and hold at least one sample: \(listed)")
        }
        self.inputs = inputs
        self.count = count
    }

    /// Samples `range` of every input.
    public func slice(_ range: Range<Int>) -> [String: Tensor] {
        inputs.mapValues { tensor in
            let per = tensor.byteCount / max(tensor.shape[0], 1)
            let buffer = TensorBuffer(copying: UnsafeRawBufferPointer(rebasing: tensor.buffer!.bytes[(range.lowerBound * per)..<(range.upperBound * per)]))
            return try! Tensor(dtype: tensor.dtype, shape: [range.count] + tensor.shape.dropFirst(), contents: .bytes(buffer))
        }
    }

    /// The samples in batches of at most `size`.
    public func batches(of size: Int) -> [[String: Tensor]] {
        stride(from: 0, to: count, by: max(1, size)).map { slice($0..<min(count, $0 + max(1, size))) }
    }

    /// The first `limit` samples.
    public func prefix(_ limit: Int) -> SampleSet {
        guard limit < count else { return self }
        return try! SampleSet(slice(0..<limit))
    }
}

/// Runs a model on the executor, returning its graph outputs and chosen intermediates (made extra
/// graph outputs so that they survive optimization).
public struct ModelRunner {
    let session: InferenceSession
    let names: [String]

    /// - Parameters:
    ///   - capture: values to return besides the graph outputs.
    ///   - optimize: optimize in memory first (the default pipeline, as `vigil run` does).
    public init(_ model: Model, capture: [String] = [], optimize: Bool = true, threads: Int? = nil) throws {
        var model = model
        let present = Set(model.graph.outputs.map(\.name))
        for name in capture where !present.contains(name) { model.graph.outputs.append(ValueInfo(name: name, type: nil)) }
        if optimize {
            let manager = PassManager(passes: try OptimizerPipeline.passes(OptimizerPipeline.defaultPasses),
                                      context: PassContext(evaluator: KernelEvaluator()))
            try manager.run(on: &model)
        }
        session = try InferenceSession(model: model, options: .init(threads: threads))
        names = model.graph.outputs.map(\.name)
    }

    /// The values of one batch.
    public func run(_ feeds: [String: Tensor]) throws -> [String: Tensor] { try session.run(feeds) }

    /// The values over every batch, concatenated along the first dimension.
    public func run(_ samples: SampleSet, batchSize: Int) throws -> [String: Tensor] {
        var parts: [String: [Tensor]] = [:]
        for batch in samples.batches(of: batchSize) {
            for (name, tensor) in try run(batch) { parts[name, default: []].append(tensor) }
        }
        return parts.mapValues(concatenate)
    }
}

/// Tensors of one type joined along their first dimension.
func concatenate(_ parts: [Tensor]) -> Tensor {
    guard parts.count > 1 else { return parts[0] }
    let bytes = parts.reduce(0) { $0 + $1.byteCount }
    let buffer = TensorBuffer(count: bytes) { target in
        var offset = 0
        for part in parts {
            target.baseAddress!.advanced(by: offset).copyMemory(from: part.buffer!.baseAddress, byteCount: part.byteCount)
            offset += part.byteCount
        }
    }
    let first = parts.reduce(0) { $0 + ($1.shape.first ?? 1) }
    return try! Tensor(dtype: parts[0].dtype, shape: [first] + parts[0].shape.dropFirst(), contents: .bytes(buffer))
}
