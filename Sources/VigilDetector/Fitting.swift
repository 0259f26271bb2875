import VigilIR

/// A deterministic per-class split of labelled images into training and validation indices.
public enum ValidationSplit {
    /// Per class, the last `⌈fraction · n_c⌉` samples (in file order) go to validation; the rest to
    /// training. A fraction of 0 gives no validation samples.
    public static func split(labels: [Int], fraction: Double) throws(DetectorError) -> (train: [Int], validation: [Int]) {
        guard fraction >= 0, fraction < 1 else { throw .invalidArgument("the validation fraction must be in [0, 1), got \(fraction)") }
        var byClass: [Int: [Int]] = [:]
        for (index, label) in labels.enumerated() { byClass[label, default: []].append(index) }
        var train: [Int] = [], validation: [Int] = []
        for label in byClass.keys.sorted() {
            let indices = byClass[label]!
            let held = Int((fraction * Double(indices.count) - 1e-9).rounded(.up))
            train += indices.dropLast(held)
            validation += indices.suffix(held)
        }
        return (train.sorted(), validation.sorted())
    }

    /// The samples at `indices` of a `[N, …]` tensor.
    public static func select(_ images: Tensor, _ indices: [Int]) throws(DetectorError) -> Tensor {
        let per = images.shape.dropFirst().reduce(1, *)
        let width = images.dtype == .uint8 ? 1 : 4
        guard images.dtype == .uint8 || images.dtype == .float32, let buffer = images.buffer else {
            throw .unsupportedImageType(images.dtype)
        }
        var bytes = [UInt8](repeating: 0, count: indices.count * per * width)
        let source = buffer.bytes
        for (row, index) in indices.enumerated() {
            for b in 0..<(per * width) { bytes[row * per * width + b] = source[index * per * width + b] }
        }
        do {
            return try Tensor(images.dtype, shape: [indices.count] + Array(images.shape.dropFirst()), scalars: bytes)
        } catch {
            throw .invalidArgument("\(error)")
        }
    }
}

extension Detector {
    /// Fits a detector end to end: embeds `images` with `embedder`, fits the class statistics,
    /// calibrates the embedding scorers' thresholds at `tpr` on `validation` (when given) and binds
    /// the detector to the model (`modelSHA256`, input, output, preprocessing).
    ///
    /// Checks lengths and shapes before running the network. `progress` gets (images embedded, training
    /// plus validation images) after each batch.
    public static func fit(
        embedder: Embedder, modelSHA256: String, images: Tensor, labels: [Int], validation: Tensor? = nil, tpr: Double = 0.95,
        settings: ScorerSettings = .init(), keepTrainingEmbeddings: Bool = true, progress: ((Int, Int) -> Void)? = nil
    ) throws(DetectorError) -> Detector {
        guard images.shape.first == labels.count else {
            throw .lengthMismatch(images: images.shape.first ?? 0, labels: labels.count)
        }
        try embedder.checkShape(of: images)
        if let validation { try embedder.checkShape(of: validation) }
        if let index = labels.firstIndex(where: { $0 < 0 }) { throw .negativeLabel(index: index, label: labels[index]) }
        if let maximum = labels.max() {
            let present = Set(labels)
            if let missing = (0...maximum).first(where: { !present.contains($0) }) { throw .emptyClass(label: missing) }
        }
        let total = images.shape[0] + (validation?.shape.first ?? 0)
        let embeddings = try embedder.embed(images, progress: progress.map { report in { done, _ in report(done, total) } })
        var detector = try fit(embeddings: embeddings, labels: labels, settings: settings, keepTrainingEmbeddings: keepTrainingEmbeddings)
        if let validation, validation.shape.first ?? 0 > 0 {
            let trained = images.shape[0]
            let e = try embedder.embed(validation, progress: progress.map { report in { done, _ in report(trained + done, total) } })
            var outputs: [Scorer: Embeddings] = [.meanDistance: e, .mahalanobis: e]
            if keepTrainingEmbeddings { outputs[.knn] = e }
            try detector.calibrate(outputs, tpr: tpr)
        }
        var preprocessing = embedder.preprocessing
        preprocessing.imageType = images.dtype
        preprocessing.imageShape = Array(images.shape.dropFirst())
        detector.model = ModelBinding(
            sha256: modelSHA256, inputName: embedder.inputName, outputName: embedder.outputName, preprocessing: preprocessing)
        return detector
    }
}
