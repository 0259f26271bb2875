
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
        WorkerPool.shared.run(chunks) { chunk in
            let start = count * chunk / chunks, end = count * (chunk + 1) / chunks
            if start < end { body(start..<end) }
        }
    }
}

extension Parallel {
    /// Runs `body(task)` for every task in `0..<tasks` (at most `threads` of them at once); the task
    /// index lets each task use its own workspace.
    func forEachTask(_ tasks: Int, _ body: (Int) -> Void) {
        WorkerPool.shared.run(tasks, body)
    }
}
