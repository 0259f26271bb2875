import Foundation
import VigilBLAS

/// An out-of-distribution score; every scorer returns higher = more OOD.
public enum Scorer: String, CaseIterable, Sendable {
    /// Smallest squared Euclidean distance to a class mean (Masana et al. 2018).
    case meanDistance = "mean_distance"
    /// Smallest Mahalanobis distance (squared) to a class mean, tied covariance with a ridge.
    case mahalanobis
    /// Euclidean distance to the k-th nearest L2-normalized training embedding (query normalized too).
    case knn
    /// −max softmax probability of the logits.
    case maxSoftmax = "max_softmax"
    /// −max logit.
    case maxLogit = "max_logit"
    /// Energy −T·logsumexp(logits/T).
    case energy
    /// ODIN without input perturbation: −max softmax(logits/T), T = 1000 by default.
    case odin

    /// Scorers on an embedding with the fitted class statistics.
    public static let embeddingScorers: [Scorer] = [.meanDistance, .mahalanobis, .knn]
    /// Scorers on a classifier's logits.
    public static let logitScorers: [Scorer] = [.maxSoftmax, .maxLogit, .energy, .odin]

    public var usesEmbedding: Bool { Self.embeddingScorers.contains(self) }
}

extension Detector {
    /// Scores embeddings (or, for the logit scorers, logits) with `scorer`; higher = more OOD.
    public func scores(_ scorer: Scorer, _ outputs: Embeddings) throws(DetectorError) -> [Double] {
        if let bad = outputs.firstNonFiniteRow { throw .nonFiniteEmbedding(sample: bad) }
        switch scorer {
        case .meanDistance: return try meanDistanceScores(outputs)
        case .mahalanobis: return try mahalanobisScores(outputs)
        case .knn: return try knnScores(outputs, k: settings.knnK)
        case .maxSoftmax, .maxLogit, .energy, .odin: return LogitScores.scores(scorer, outputs, settings: settings)
        }
    }

    private func checkWidth(_ e: Embeddings) throws(DetectorError) {
        guard e.dimension == dimension else { throw .dimensionMismatch(expected: dimension, actual: e.dimension) }
    }

    /// min over classes of ‖e − μ_c‖².
    public func meanDistanceScores(_ e: Embeddings) throws(DetectorError) -> [Double] {
        try checkWidth(e)
        let d = dimension
        return (0..<e.count).map { i in
            var best = Double.infinity
            for mean in means {
                var sum = 0.0
                for j in 0..<d { let diff = Double(e.values[i * d + j]) - mean[j]; sum += diff * diff }
                best = min(best, sum)
            }
            return best
        }
    }

    /// min over classes of (e − μ_c)ᵀ P (e − μ_c) with P the ridge-regularized precision.
    public func mahalanobisScores(_ e: Embeddings) throws(DetectorError) -> [Double] {
        try checkWidth(e)
        let d = dimension
        var diff = [Double](repeating: 0, count: d)
        return (0..<e.count).map { i in
            var best = Double.infinity
            for mean in means {
                for j in 0..<d { diff[j] = Double(e.values[i * d + j]) - mean[j] }
                var sum = 0.0
                for a in 0..<d {
                    var row = 0.0
                    for b in 0..<d { row += precision[a * d + b] * diff[b] }
                    sum += diff[a] * row
                }
                best = min(best, sum)
            }
            return best
        }
    }

    /// Distance to the k-th nearest normalized training embedding.
    ///
    /// Candidates come from one SGEMM per block of queries (squared distance ‖q‖² + ‖t‖² − 2 q·t with
    /// negative values clamped to 0); the `k + 16` best candidates are then re-measured exactly in
    /// Double, so Float cancellation in the GEMM form does not reach the score.
    public func knnScores(_ e: Embeddings, k: Int) throws(DetectorError) -> [Double] {
        try checkWidth(e)
        guard let train = normalizedTraining else {
            throw .scorerUnavailable(scorer: "knn", reason: "the detector was fitted without keeping training embeddings")
        }
        let d = dimension
        let n = train.count / d
        guard k >= 1, k <= n else { throw .invalidArgument("k = \(k) must be in 1…\(n) (the training set size)") }
        let queries = Detector.l2Normalized(e)
        var trainNorms = [Float](repeating: 0, count: n)
        for t in 0..<n { var s: Float = 0; for j in 0..<d { s += train[t * d + j] * train[t * d + j] }; trainNorms[t] = s }
        let candidates = min(n, k + 16)
        let block = 256
        var result = [Double](repeating: 0, count: e.count)
        var gram = [Float](repeating: 0, count: block * n)
        var start = 0
        while start < e.count {
            let m = min(block, e.count - start)
            queries.withUnsafeBufferPointer { q in
                train.withUnsafeBufferPointer { t in
                    gram.withUnsafeMutableBufferPointer { g in
                        BLAS.sgemm(
                            transB: true, m: m, n: n, k: d, a: q.baseAddress! + start * d, lda: d,
                            b: t.baseAddress!, ldb: d, c: g.baseAddress!, ldc: n)
                    }
                }
            }
            for r in 0..<m {
                let i = start + r
                var qNorm: Float = 0
                for j in 0..<d { qNorm += queries[i * d + j] * queries[i * d + j] }
                // Approximate squared distances, clamped at 0; keep the `candidates` smallest
                // (an insertion-sorted buffer: most distances are rejected by one comparison).
                var best = [(Float, Int)]()
                best.reserveCapacity(candidates + 1)
                for t in 0..<n {
                    let value = max(0, qNorm + trainNorms[t] - 2 * gram[r * n + t])
                    if best.count == candidates, value >= best[candidates - 1].0 { continue }
                    var position = best.count
                    while position > 0, best[position - 1].0 > value { position -= 1 }
                    best.insert((value, t), at: position)
                    if best.count > candidates { best.removeLast() }
                }
                var exact = [Double]()
                exact.reserveCapacity(candidates)
                for c in 0..<candidates {
                    let t = best[c].1
                    var s = 0.0
                    for j in 0..<d { let diff = Double(queries[i * d + j]) - Double(train[t * d + j]); s += diff * diff }
                    exact.append(s)
                }
                exact.sort()
                result[i] = exact[k - 1].squareRoot()
            }
            start += m
        }
        return result
    }
}

/// Scores computed from a classifier's logits (Double arithmetic, numerically stable logsumexp).
public enum LogitScores {
    public static func scores(_ scorer: Scorer, _ logits: Embeddings, settings: ScorerSettings = .init()) -> [Double] {
        let c = logits.dimension
        return (0..<logits.count).map { i in
            let row = (0..<c).map { Double(logits.values[i * c + $0]) }
            switch scorer {
            case .maxSoftmax: return -maxSoftmax(row, temperature: 1)
            case .odin: return -maxSoftmax(row, temperature: settings.odinTemperature)
            case .maxLogit: return -row.max()!
            case .energy:
                let t = settings.energyTemperature
                return -t * logSumExp(row.map { $0 / t })
            default: preconditionFailure("\(scorer) is not a logit scorer")
            }
        }
    }

    static func logSumExp(_ z: [Double]) -> Double {
        let m = z.max()!
        return m + log(z.reduce(0) { $0 + exp($1 - m) })
    }

    static func maxSoftmax(_ logits: [Double], temperature: Double) -> Double {
        let z = logits.map { $0 / temperature }
        return exp(z.max()! - logSumExp(z))
    }
}
