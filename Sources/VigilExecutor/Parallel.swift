
/// The executor's own loop parallelism, bounded by the session's thread count.
///
/// Work runs on the session's ``WorkerPool`` (none with one thread, when everything runs inline).
/// BLAS calls are never made from inside a parallel region, so BLAS threads and these loops never
/// oversubscribe the cores.
struct Parallel: Sendable {
    let threads: Int
    let pool: WorkerPool?

    /// `threads` threads: the caller and the pool's workers (at most `threads − 1` of them are used).
    init(threads: Int, pool: WorkerPool? = nil) {
        self.threads = max(1, min(threads, 1 + (pool?.workerCount ?? 0)))
        self.pool = pool
    }

    /// Calls `body` on disjoint subranges covering `0..<count`, each at least `grain` long.
    func forEach(_ count: Int, grain: Int = 1, _ body: (Range<Int>) -> Void) {
        guard count > 0 else { return }
        let chunks = min(threads, max(1, count / max(grain, 1)))
        guard chunks > 1, let pool else {
            body(0..<count)
            return
        }
        pool.run(chunks) { chunk, _ in
            let start = count * chunk / chunks, end = count * (chunk + 1) / chunks
            if start < end { body(start..<end) }
        }
    }

    /// Runs `body(task, slot)` for every task in `0..<tasks` on at most `threads` threads, which claim
    /// tasks one at a time (so many small tasks balance the load); `slot`, in `0..<threads`, names the
    /// thread, so that each can use its own workspace.
    func forEachTask(_ tasks: Int, _ body: (_ task: Int, _ slot: Int) -> Void) {
        guard let pool, threads > 1 else {
            for task in 0..<tasks { body(task, 0) }
            return
        }
        pool.run(tasks, body)
    }
}
