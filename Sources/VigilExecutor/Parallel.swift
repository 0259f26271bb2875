
/// The executor's own loop parallelism, bounded by the session's thread count.
///
/// Work is split into at most `threads` contiguous chunks, run on the shared `WorkerPool`; with one
/// thread (or little work) it runs inline. BLAS calls are never made from inside a parallel region, so BLAS threads and these loops
/// never oversubscribe the cores.
struct Parallel: Sendable {
    let threads: Int

    /// Calls `body` on disjoint subranges covering `0..<count`, each at least `grain` long.
    func forEach(_ count: Int, grain: Int = 1, _ body: (Range<Int>) -> Void) {
        guard count > 0 else { return }
        let chunks = min(threads, max(1, count / max(grain, 1)))
        if chunks <= 1 {
            body(0..<count)
            return
        }
        WorkerPool.shared.run(chunks, threads: threads) { chunk, _ in
            let start = count * chunk / chunks, end = count * (chunk + 1) / chunks
            if start < end { body(start..<end) }
        }
    }
}

extension Parallel {
    /// Runs `body(task, slot)` for every task in `0..<tasks` on at most `threads` threads, which claim
    /// tasks one at a time (so many small tasks balance the load); `slot`, in `0..<threads`, names the
    /// thread, so that each can use its own workspace.
    func forEachTask(_ tasks: Int, _ body: (_ task: Int, _ slot: Int) -> Void) {
        WorkerPool.shared.run(tasks, threads: threads, body)
    }
}
