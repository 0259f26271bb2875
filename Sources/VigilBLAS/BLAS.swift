import COpenBLAS
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

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
        withThreads(forMultiplyAdds: m * n * k) {
            if m == 1 {
                // A single row (a batch-1 dense layer) is a matrix-vector product: GEMV streams op(B) once
                // instead of packing it.
                cblas_sgemv(
                    CblasRowMajor, transB ? CblasNoTrans : CblasTrans, blasint(transB ? n : k), blasint(transB ? k : n),
                    alpha, b, blasint(ldb), a, blasint(transA ? lda : 1), beta, c, 1)
            } else {
                cblas_sgemm(
                    CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    blasint(m), blasint(n), blasint(k), alpha, a, blasint(lda), b, blasint(ldb), beta, c, blasint(ldc))
            }
        }
    }

    /// Multiply-adds below which a GEMM runs on one thread: waking OpenBLAS's threads costs more than
    /// they save on small products (a batch-1 fully connected layer), and they keep spinning afterwards,
    /// taking cores from the executor's own loops.
    public static let parallelThreshold = 1 << 21

    /// The thread count of the last `setThreadCount`, used by GEMMs of at least `parallelThreshold`.
    nonisolated(unsafe) private static var configuredThreads = Int(openblas_get_num_threads())
    nonisolated(unsafe) private static var activeThreads = Int(openblas_get_num_threads())

    /// Runs one OpenBLAS call of `work` multiply-adds on ``threadCount`` threads if it is large enough, else
    /// on one. A threaded call holds the lock that ``releaseIdleThreads()`` takes, and ends OpenBLAS's threads
    /// when it returns, before they spin.
    @usableFromInline
    static func withThreads(forMultiplyAdds work: Int, _ body: () -> Void) {
        useThreads(work >= parallelThreshold ? configuredThreads : 1)
        guard activeThreads > 1 else { return body() }
        threadedCalls.withLock { _ in
            body()
            _ = shutdownThreads?()
        }
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

    /// Sets the number of threads OpenBLAS uses for large GEMMs (process-wide), and stops OpenBLAS's
    /// idle threads (see ``releaseIdleThreads()``).
    public static func setThreadCount(_ count: Int) {
        configuredThreads = max(1, count)
        useThreads(configuredThreads)
        releaseIdleThreads()
    }

    /// Ends OpenBLAS's worker threads; its next threaded GEMM starts them again.
    ///
    /// OpenBLAS starts its threads when the library loads and after every threaded call they spin
    /// (`sched_yield` in a loop) for about 2^28 cycles, some 0.1 s, before they sleep: a whole core taken
    /// from the executor's own loops, which run between OpenBLAS's calls. Measured on a 2-core machine,
    /// SqueezeNet's first 0.1 s ran at 2 threads no faster than at one. With pthread builds of OpenBLAS
    /// (`blas_thread_shutdown_`, looked up at run time) the threads are joined here; with other builds
    /// this does nothing. It waits for a threaded call of ``sgemm`` in another thread to finish.
    public static func releaseIdleThreads() {
        threadedCalls.withLock { _ in _ = shutdownThreads?() }
    }

    /// Held by threaded OpenBLAS calls and by ``releaseIdleThreads()``, so that no call loses its threads.
    private static let threadedCalls = Mutex<Void>(())

    private typealias ShutdownFunction = @convention(c) () -> Int32
    private static let shutdownThreads: ShutdownFunction? = {
        // 1: OpenBLAS built with its own pthreads server (0 sequential, 2 OpenMP).
        guard openblas_get_parallel() == 1,
              let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "blas_thread_shutdown_") else { return nil }
        return unsafeBitCast(symbol, to: ShutdownFunction.self)
    }()

    /// The name of the CPU kernel OpenBLAS selected (e.g. `Haswell`, `SkylakeX`).
    public static var coreName: String {
        guard let name = openblas_get_corename() else { return "unknown" }
        return String(cString: name)
    }
}
