/// Scorer settings stored with a detector.
public struct ScorerSettings: Sendable, Equatable {
    /// k of the kNN scorer (k-th nearest training embedding).
    public var knnK: Int
    /// Mahalanobis ridge, relative: the covariance gets `ridge · trace(Σ)/D` added to its diagonal.
    public var mahalanobisRidge: Double
    /// Temperature of the energy score.
    public var energyTemperature: Double
    /// Temperature of ODIN's temperature-scaled softmax.
    public var odinTemperature: Double

    public init(knnK: Int = 10, mahalanobisRidge: Double = 1e-3, energyTemperature: Double = 1, odinTemperature: Double = 1000) {
        self.knnK = knnK
        self.mahalanobisRidge = mahalanobisRidge
        self.energyTemperature = energyTemperature
        self.odinTemperature = odinTemperature
    }
}

/// What a detector knows about the network it was fitted on.
public struct ModelBinding: Sendable, Equatable {
    /// SHA-256 (lowercase hex) of the model file's bytes.
    public var sha256: String
    public var inputName: String
    /// The graph output used as the embedding.
    public var outputName: String
    public var preprocessing: Preprocessing

    public init(sha256: String, inputName: String, outputName: String, preprocessing: Preprocessing) {
        self.sha256 = sha256
        self.inputName = inputName
        self.outputName = outputName
        self.preprocessing = preprocessing
    }
}

/// A fitted metric-learning novelty/anomaly detector (Masana et al. 2018): statistics of the
/// in-distribution training embeddings, per class `0..<classCount`.
///
/// Statistics are computed in Double from the Float embeddings.
public struct Detector: Sendable, Equatable {
    public var dimension: Int
    /// `means[c]` is the mean training embedding of class c.
    public var means: [[Double]]
    /// Training samples per class.
    public var counts: [Int]
    /// Per class, the root-mean-square distance of its embeddings to the class mean.
    public var spread: [Double]
    /// The tied (pooled, within-class) covariance, `1/N · Σ (e − μ_y)(e − μ_y)ᵀ`, row-major D×D.
    public var covariance: [Double]
    /// The absolute ridge added to the covariance's diagonal before inversion.
    public var ridge: Double
    /// `(covariance + ridge · I)⁻¹`, row-major D×D.
    public var precision: [Double]
    /// The L2-normalized training embeddings (row-major, `trainingCount × dimension`) for kNN; `nil` when not kept.
    public var normalizedTraining: [Float]?
    public var settings: ScorerSettings
    /// Calibrated thresholds by scorer name: a sample is in-distribution when its score ≤ the threshold.
    public var thresholds: [String: Double]
    /// The TPR the thresholds were calibrated at.
    public var calibrationTPR: Double?
    public var model: ModelBinding?
    /// SHA-256 (lowercase hex) of the classifier file the logit scorers' thresholds were calibrated
    /// on (`nil` when none was); scoring with another classifier is an error unless overridden.
    public var classifierSHA256: String?

    public var classCount: Int { means.count }
    public var trainingCount: Int { counts.reduce(0, +) }

    public init(
        dimension: Int, means: [[Double]], counts: [Int], spread: [Double], covariance: [Double], ridge: Double,
        precision: [Double], normalizedTraining: [Float]?, settings: ScorerSettings, thresholds: [String: Double] = [:],
        calibrationTPR: Double? = nil, model: ModelBinding? = nil, classifierSHA256: String? = nil
    ) {
        self.dimension = dimension
        self.means = means
        self.counts = counts
        self.spread = spread
        self.covariance = covariance
        self.ridge = ridge
        self.precision = precision
        self.normalizedTraining = normalizedTraining
        self.settings = settings
        self.thresholds = thresholds
        self.calibrationTPR = calibrationTPR
        self.model = model
        self.classifierSHA256 = classifierSHA256
    }

    /// Fits class statistics to labelled training embeddings.
    ///
    /// - Parameters:
    ///   - embeddings: the training embeddings, one row per sample.
    ///   - labels: one per embedding, in `0..<C`; every class in that range must occur.
    ///   - settings: the scorers' settings, stored with the detector.
    ///   - keepTrainingEmbeddings: keep the L2-normalized embeddings for the kNN scorer.
    /// - Throws: ``DetectorError/lengthMismatch(images:labels:)``, ``DetectorError/emptyClass(label:)``,
    ///   ``DetectorError/negativeLabel(index:label:)``, ``DetectorError/nonFiniteEmbedding(sample:)``.
    public static func fit(
        embeddings: Embeddings, labels: [Int], settings: ScorerSettings = .init(), keepTrainingEmbeddings: Bool = true
    ) throws(DetectorError) -> Detector {
        guard embeddings.count == labels.count else { throw .lengthMismatch(images: embeddings.count, labels: labels.count) }
        guard !labels.isEmpty else { throw .invalidArgument("no training samples") }
        if let index = labels.firstIndex(where: { $0 < 0 }) { throw .negativeLabel(index: index, label: labels[index]) }
        if let bad = embeddings.firstNonFiniteRow { throw .nonFiniteEmbedding(sample: bad) }
        guard settings.mahalanobisRidge >= 0 else { throw .invalidArgument("the Mahalanobis ridge must be ≥ 0") }
        let classes = labels.max()! + 1
        let d = embeddings.dimension
        var counts = [Int](repeating: 0, count: classes)
        var sums = [[Double]](repeating: [Double](repeating: 0, count: d), count: classes)
        embeddings.values.withUnsafeBufferPointer { e in
            for (i, label) in labels.enumerated() {
                counts[label] += 1
                for j in 0..<d { sums[label][j] += Double(e[i * d + j]) }
            }
        }
        if let empty = counts.firstIndex(of: 0) { throw .emptyClass(label: empty) }
        let means = (0..<classes).map { c in sums[c].map { $0 / Double(counts[c]) } }

        var covariance = [Double](repeating: 0, count: d * d)
        var squared = [Double](repeating: 0, count: classes)
        var centered = [Double](repeating: 0, count: d)
        embeddings.values.withUnsafeBufferPointer { e in
            for (i, label) in labels.enumerated() {
                for j in 0..<d { centered[j] = Double(e[i * d + j]) - means[label][j] }
                for a in 0..<d {
                    squared[label] += centered[a] * centered[a]
                    for b in 0..<d { covariance[a * d + b] += centered[a] * centered[b] }
                }
            }
        }
        let n = Double(labels.count)
        covariance = covariance.map { $0 / n }
        let spread = (0..<classes).map { (squared[$0] / Double(counts[$0])).squareRoot() }
        let trace = (0..<d).reduce(0.0) { $0 + covariance[$1 * d + $1] }
        let ridge = settings.mahalanobisRidge * trace / Double(d)
        var regularized = covariance
        for j in 0..<d { regularized[j * d + j] += ridge }
        guard let precision = LinearAlgebra.inverseSPD(regularized, size: d) else {
            throw .invalidArgument("the covariance is singular; use a positive Mahalanobis ridge")
        }
        let normalized = keepTrainingEmbeddings ? Self.l2Normalized(embeddings) : nil
        return Detector(
            dimension: d, means: means, counts: counts, spread: spread, covariance: covariance, ridge: ridge,
            precision: precision, normalizedTraining: normalized, settings: settings)
    }

    /// Rows scaled to unit L2 norm (norms computed in Double; a zero row stays zero).
    static func l2Normalized(_ embeddings: Embeddings) -> [Float] {
        let d = embeddings.dimension
        var out = [Float](repeating: 0, count: embeddings.values.count)
        for i in 0..<embeddings.count {
            var norm = 0.0
            for j in 0..<d { let v = Double(embeddings.values[i * d + j]); norm += v * v }
            norm = norm.squareRoot()
            guard norm > 0 else { continue }
            for j in 0..<d { out[i * d + j] = Float(Double(embeddings.values[i * d + j]) / norm) }
        }
        return out
    }
}

extension Detector {
    /// Checks that a model's SHA-256 is the one this detector was fitted on.
    ///
    /// - Parameters:
    ///   - sha256: the SHA-256 (hex) of the model file's bytes.
    ///   - allowMismatch: the override: accept another model anyway.
    /// - Returns: with the override, a warning describing the mismatch (`nil` when the hashes agree).
    /// - Throws: ``DetectorError/modelMismatch(expected:actual:)``.
    @discardableResult
    public func verifyModel(sha256: String, allowMismatch: Bool = false) throws(DetectorError) -> String? {
        guard let expected = model?.sha256, expected.lowercased() != sha256.lowercased() else { return nil }
        guard allowMismatch else { throw .modelMismatch(expected: expected, actual: sha256) }
        return "the embedding network is not the one the detector was fitted on (SHA-256 \(sha256), expected \(expected)); used anyway (--allow-model-mismatch)"
    }

    /// Checks that a classifier's SHA-256 is the one the logit scorers' thresholds were calibrated on.
    /// A detector fitted without a classifier accepts any (it holds nothing calibrated on one).
    ///
    /// - Returns: with the override, a warning describing the mismatch (`nil` when the hashes agree).
    /// - Throws: ``DetectorError/classifierMismatch(expected:actual:)``.
    @discardableResult
    public func verifyClassifier(sha256: String, allowMismatch: Bool = false) throws(DetectorError) -> String? {
        guard let expected = classifierSHA256, expected.lowercased() != sha256.lowercased() else { return nil }
        guard allowMismatch else { throw .classifierMismatch(expected: expected, actual: sha256) }
        return "the classifier is not the one the detector was calibrated with (SHA-256 \(sha256), expected \(expected)); used anyway (--allow-model-mismatch)"
    }
}
