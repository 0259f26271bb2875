/// Small dense Double linear algebra for D×D covariance matrices (D is the embedding width, ~10–512).
enum LinearAlgebra {
    /// The inverse of a symmetric positive-definite matrix (row-major) via Cholesky, or `nil` when
    /// it is not positive definite.
    static func inverseSPD(_ a: [Double], size n: Int) -> [Double]? {
        // Cholesky: a = L·Lᵀ.
        var l = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in 0...i {
                var sum = a[i * n + j]
                for k in 0..<j { sum -= l[i * n + k] * l[j * n + k] }
                if i == j {
                    guard sum > 0, sum.isFinite else { return nil }
                    l[i * n + i] = sum.squareRoot()
                } else {
                    l[i * n + j] = sum / l[j * n + j]
                }
            }
        }
        // Solve L·Lᵀ·X = I column by column.
        var inverse = [Double](repeating: 0, count: n * n)
        var y = [Double](repeating: 0, count: n)
        for col in 0..<n {
            for i in 0..<n {
                var sum = i == col ? 1.0 : 0.0
                for k in 0..<i { sum -= l[i * n + k] * y[k] }
                y[i] = sum / l[i * n + i]
            }
            for i in stride(from: n - 1, through: 0, by: -1) {
                var sum = y[i]
                for k in (i + 1)..<n { sum -= l[k * n + i] * inverse[k * n + col] }
                inverse[i * n + col] = sum / l[i * n + i]
            }
        }
        // Symmetrize away rounding asymmetry.
        for i in 0..<n { for j in (i + 1)..<n {
            let m = 0.5 * (inverse[i * n + j] + inverse[j * n + i])
            inverse[i * n + j] = m
            inverse[j * n + i] = m
        } }
        return inverse
    }
}
