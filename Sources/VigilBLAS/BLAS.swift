import COpenBLAS

/// The only Swift face of OpenBLAS: single-precision GEMM and the library's thread controls.
///
/// Everything here converts at the boundary: Swift `Int`s and `Bool`s in, C enums and `blasint`s
/// out; the core name comes back as a Swift `String`.
public enum BLAS {
    /// Row-major single-precision GEMM: `C = alpha · op(A) · op(B) + beta · C`.
    ///
    /// - Parameters:
    ///   - transA: use Aᵀ; `A` is stored `m×k` (or `k×m` when transposed) with row stride `lda`.
    ///   - transB: use Bᵀ; `B` is stored `k×n` (or `n×k` when transposed) with row stride `ldb`.
    ///   - c: `m×n` output with row stride `ldc`.
    @inlinable
    public static func sgemm(
        transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        guard m > 0, n > 0 else { return }
        if k == 0 {
            // BLAS leaves C scaled by beta when the inner dimension is empty; do it explicitly.
            for row in 0..<m {
                for col in 0..<n { c[row * ldc + col] = beta == 0 ? 0 : beta * c[row * ldc + col] }
            }
            return
        }
        useThreads(forMultiplyAdds: m * n * k)
        if m == 1 {
            // A single row (a batch-1 dense layer) is a matrix-vector product: GEMV streams op(B) once
            // instead of packing it.
            cblas_sgemv(
                CblasRowMajor, transB ? CblasNoTrans : CblasTrans, blasint(transB ? n : k), blasint(transB ? k : n), alpha,
                b, blasint(ldb), a, blasint(transA ? lda : 1), beta, c, 1)
            return
        }
        cblas_sgemm(
            CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
            blasint(m), blasint(n), blasint(k), alpha, a, blasint(lda), b, blasint(ldb), beta, c, blasint(ldc))
    }

    /// Multiply-adds below which a GEMM runs on one thread: waking OpenBLAS's threads costs more than
    /// they save on small products (a batch-1 fully connected layer), and they keep spinning afterwards,
    /// taking cores from the executor's own loops.
    public static let parallelThreshold = 1 << 21

    /// The thread count of the last `setThreadCount`, used by GEMMs of at least `parallelThreshold`.
    nonisolated(unsafe) private static var configuredThreads = Int(openblas_get_num_threads())
    nonisolated(unsafe) private static var activeThreads = Int(openblas_get_num_threads())

    @usableFromInline
    static func useThreads(forMultiplyAdds work: Int) {
        useThreads(work >= parallelThreshold ? configuredThreads : 1)
    }

    private static func useThreads(_ count: Int) {
        guard count != activeThreads else { return }
        activeThreads = count
        openblas_set_num_threads(Int32(count))
    }

    /// Sets OpenBLAS to one thread now, so that GEMMs below ``parallelThreshold`` can then be called from
    /// several threads at once (each runs single-threaded and none changes the thread count).
    public static func prepareConcurrentSmallGEMMs() { useThreads(1) }

    /// The number of threads OpenBLAS uses for a large GEMM.
    public static var threadCount: Int { configuredThreads }

    /// Sets the number of threads OpenBLAS uses for large GEMMs (process-wide).
    public static func setThreadCount(_ count: Int) {
        configuredThreads = max(1, count)
        useThreads(configuredThreads)
    }

    /// The name of the CPU kernel OpenBLAS selected (e.g. `Haswell`, `SkylakeX`).
    public static var coreName: String {
        guard let name = openblas_get_corename() else { return "unknown" }
        return String(cString: name)
    }
}
