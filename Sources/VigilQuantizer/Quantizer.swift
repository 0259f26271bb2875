import VigilIR

/// Quantizes a float model to int8 and proves what changed.
///
/// ```swift
/// let quantizer = Quantizer(options: .init(method: .percentile(99.999)))
/// let outcome = try quantizer.quantize(model, calibration: samples, validation: samples, maxError: 0.05, autoExclude: true)
/// // outcome.model: standard QDQ ONNX; outcome.parity: per output max/mean error, cosine, top-1 agreement
/// ```
///
/// Static quantization (the default) calibrates every quantized tensor's range on the calibration data
/// (running the float model on the executor), then writes the QDQ form (``QDQBuilder``); weights-only
/// quantization writes onnxruntime's dynamic form (``DynamicBuilder``) without calibration. Both models
/// are then run on the validation data against the float model (``OutputParity``). With a budget
/// (`maxError`, the largest absolute output error allowed) and `autoExclude`, the node that adds the
/// most error — found by comparing every quantized node's input and output with the float model's,
/// layer by layer (``LayerError``) — is kept in float, and the model rebuilt, until it fits.
public struct Quantizer {
    public var options: QuantizationOptions

    public init(options: QuantizationOptions = .init()) { self.options = options }

    /// The outcome of a quantization.
    public struct Outcome: Sendable {
        public var model: Model
        /// The nodes quantized, and those left in float (with the reason).
        public var quantized: [QuantizationTarget]
        public var skipped: [(name: String, reason: String)]
        /// Nodes `autoExclude` kept in float, in order, with the largest output error before each exclusion.
        public var autoExcluded: [(name: String, maxError: Double)]
        /// Parity of the final model on the validation data (empty when there is none).
        public var parity: [OutputParity]
        /// Whether the final model fits the budget (true without one).
        public var withinBudget: Bool
        /// Calibration statistics per activation tensor (static quantization).
        public var statistics: [String: TensorStatistics]
    }

    /// Progress messages (phase names) for a caller that shows them.
    public typealias Log = (String) -> Void

    public func quantize(_ model: Model, calibration: SampleSet?, validation: SampleSet?, maxError: Double? = nil, autoExclude: Bool = false,
                         log: Log = { _ in }) throws -> Outcome {
        let shapes = (calibration ?? validation)?.inputs.mapValues(\.shape) ?? [:]
        let (targets, skipped) = QuantizationTargets.find(in: model, exclude: options.exclude, sampleShapes: shapes)
        guard !targets.isEmpty else {
            let reasons = skipped.map { "\($0.name): \($0.reason)" }.joined(separator: "; ")
            throw QuantizationError("the model has no Conv, Gemm or MatMul node to quantize" + (reasons.isEmpty ? "" : " (\(reasons))"))
        }
        var statistics: [String: TensorStatistics] = [:]
        if !options.weightsOnly {
            guard let calibration else { throw QuantizationError("static quantization needs calibration data") }
            statistics = try calibrate(model, targets: targets, samples: calibration, log: log)
        }
        var excluded: [(name: String, maxError: Double)] = []
        var reference: [String: Tensor]?
        while true {
            let active = targets.filter { t in !excluded.contains { $0.name == t.name } }
            log("writing the quantized model (\(active.count) nodes)")
            let built = try build(model, targets: active, statistics: statistics)
            guard let validation else {
                return Outcome(model: built.model, quantized: active, skipped: skipped, autoExcluded: excluded, parity: [], withinBudget: true,
                               statistics: statistics)
            }
            if reference == nil {
                log("running the float model on \(validation.count) samples")
                reference = try ModelRunner(model, threads: options.threads).run(validation, batchSize: options.batchSize)
            }
            log("running the quantized model on \(validation.count) samples")
            let outputs = try ModelRunner(built.model, threads: options.threads).run(validation, batchSize: options.batchSize)
            let parity = model.graph.outputs.compactMap { o -> OutputParity? in
                guard let q = outputs[o.name], let f = reference?[o.name] else { return nil }
                return OutputParity.compare(o.name, quantized: q, float: f)
            }
            let worst = parity.map(\.maxAbsoluteError).max() ?? 0
            let fits = maxError.map { worst <= $0 } ?? true
            guard !fits, autoExclude, !active.isEmpty else {
                return Outcome(model: built.model, quantized: active, skipped: skipped, autoExcluded: excluded, parity: parity, withinBudget: fits,
                               statistics: statistics)
            }
            log("finding the layer that adds the most error")
            let layers = try layerErrors(model, built: built, targets: active, samples: validation.prefix(options.batchSize))
            guard let culprit = layers.max(by: { $0.contribution < $1.contribution }) else { break }
            excluded.append((culprit.name, worst))
        }
        throw QuantizationError("no layer left to keep in float")
    }

    /// A built quantized model, with where the quantized model reads and writes each target's values.
    struct Built {
        var model: Model
        /// Target name → (the value its node reads, the value standing for its output), in the quantized model.
        var probes: [String: (input: String, output: String)]
    }

    func build(_ model: Model, targets: [QuantizationTarget], statistics: [String: TensorStatistics]) throws -> Built {
        if options.weightsOnly {
            let quantized = try DynamicBuilder.build(model, targets: targets)
            return Built(model: quantized, probes: Dictionary(uniqueKeysWithValues: targets.map { ($0.name, ($0.input, $0.quantizedOutput)) }))
        }
        let ranges = statistics.mapValues { $0.range(options.method) }
        let result = try QDQBuilder.build(model, targets: targets, ranges: ranges, activationType: options.activationType)
        let probes = targets.map { t in
            (t.name, (result.dequantized[t.input] ?? t.input, result.dequantized[t.quantizedOutput] ?? t.quantizedOutput))
        }
        return Built(model: result.model, probes: Dictionary(uniqueKeysWithValues: probes))
    }

    /// Range statistics (and, for the histogram methods, histograms in a second pass) of every tensor the
    /// targets read or write, from the float model on the calibration data.
    func calibrate(_ model: Model, targets: [QuantizationTarget], samples: SampleSet, log: Log) throws -> [String: TensorStatistics] {
        var tensors: [String] = []
        for t in targets { for name in [t.input, t.quantizedOutput] where !tensors.contains(name) { tensors.append(name) } }
        let runner = try ModelRunner(model, capture: tensors, threads: options.threads)
        var statistics: [String: TensorStatistics] = [:], edges: [String: [Float]] = [:]
        for pass in options.method.needsHistogram ? [1, 2] : [1] {
            log("calibrating \(tensors.count) tensors on \(samples.count) samples\(pass == 2 ? " (histograms)" : "")")
            if pass == 2 { edges = statistics.mapValues(\.edges) }
            for batch in samples.batches(of: options.batchSize) {
                let values = try runner.run(batch)
                for name in tensors {
                    guard let tensor = values[name], tensor.dtype == .float32, let buffer = tensor.buffer else { continue }
                    let floats = UnsafeBufferPointer(start: buffer.baseAddress.assumingMemoryBound(to: Float.self), count: tensor.elementCount)
                    withExtendedLifetime(buffer) {
                        if pass == 1 {
                            statistics[name, default: TensorStatistics()].observeRange(floats)
                        } else if let e = edges[name] {
                            statistics[name]?.observeHistogram(floats, edges: e)
                        }
                    }
                }
            }
        }
        return statistics
    }

    /// Each target's input and output error against the float model, on `samples`.
    func layerErrors(_ model: Model, built: Built, targets: [QuantizationTarget], samples: SampleSet) throws -> [LayerError] {
        let floatNames = targets.flatMap { [$0.input, $0.quantizedOutput] }
        let quantizedNames = targets.flatMap { t in built.probes[t.name].map { [$0.input, $0.output] } ?? [] }
        let reference = try ModelRunner(model, capture: floatNames, threads: options.threads).run(samples, batchSize: options.batchSize)
        let quantized = try ModelRunner(built.model, capture: quantizedNames, threads: options.threads).run(samples, batchSize: options.batchSize)
        return targets.compactMap { t in
            guard let probe = built.probes[t.name], let fi = reference[t.input], let fo = reference[t.quantizedOutput],
                  let qi = quantized[probe.input], let qo = quantized[probe.output] else { return nil }
            return LayerError(name: t.name, inputError: LayerError.relativeRMS(qi, fi), outputError: LayerError.relativeRMS(qo, fo))
        }
    }
}
