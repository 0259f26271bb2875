import Foundation
import Synchronization

/// Persistent worker threads for the executor's parallel loops.
///
/// A parallel loop hands its tasks to the workers by bumping a generation counter; workers spin
/// briefly on it before sleeping, so the back-to-back loops of one inference start without a thread
/// wake-up each (what `DispatchQueue.concurrentPerform` costs), and an idle process does not spin.
/// The caller takes tasks too. Tasks are claimed one at a time from a shared counter, so a task index
/// runs exactly once whatever the number of workers, and a thread slowed down (by another process on
/// its core) takes fewer tasks instead of holding the others up. When another session is using the
/// pool, the loop runs inline.
final class WorkerPool: @unchecked Sendable {
    /// One worker per core beyond the caller's.
    static let shared = WorkerPool(workers: max(0, ProcessInfo.processInfo.activeProcessorCount - 1))

    /// Spins (atomic loads) a worker makes before it sleeps: some tens of microseconds.
    private static let spinLimit = 50_000

    let workerCount: Int
    private let generation = Atomic<Int>(0)
    private let nextTask = Atomic<Int>(0)
    /// Workers that have not finished the current generation.
    private let pending = Atomic<Int>(0)
    private let wake = NSCondition()
    private let busy = NSLock()
    // Written by the caller before `generation` is released, read by workers after acquiring it.
    private var job: ((Int, Int) -> Void)?
    private var taskCount = 0
    /// Workers (beyond the caller) that take part in the current job.
    private var participants = 0

    init(workers: Int) {
        workerCount = workers
        for index in 0..<workers {
            let thread = Thread { [unowned self] in self.work(slot: index + 1) }
            thread.name = "vigil-worker-\(index)"
            thread.start()
        }
    }

    /// Runs `body(task, slot)` for every task in `0..<tasks` on the caller and at most `threads - 1`
    /// workers; returns when all are done. `slot` (0 for the caller, below `threads`) names the thread
    /// running the task, so that tasks can use per-thread workspaces.
    func run(_ tasks: Int, threads: Int, _ body: (_ task: Int, _ slot: Int) -> Void) {
        guard workerCount > 0, threads > 1, tasks > 1, busy.try() else {
            for task in 0..<tasks { body(task, 0) }
            return
        }
        defer { busy.unlock() }
        // `job` holds the caller's closure only until every worker has left it (checked by
        // withoutActuallyEscaping on return).
        withoutActuallyEscaping(body) { body in
            job = body
            taskCount = tasks
            participants = min(workerCount, threads - 1, tasks - 1)
            nextTask.store(0, ordering: .relaxed)
            pending.store(workerCount, ordering: .relaxed)
            wake.lock()
            generation.add(1, ordering: .releasing)
            wake.broadcast()
            wake.unlock()
            claimTasks(body, count: tasks, slot: 0)
            while pending.load(ordering: .acquiring) > 0 {}
            job = nil
        }
    }

    private func claimTasks(_ body: (Int, Int) -> Void, count: Int, slot: Int) {
        while true {
            let task = nextTask.add(1, ordering: .relaxed).oldValue
            if task >= count { return }
            body(task, slot)
        }
    }

    /// Takes tasks of the current job. A separate call, so that the worker's reference to the job is
    /// released before it reports itself done.
    @inline(never)
    private func participate(slot: Int) {
        guard slot <= participants, let job else { return }
        claimTasks(job, count: taskCount, slot: slot)
    }

    private func work(slot: Int) {
        var seen = 0
        while true {
            var spins = 0
            while generation.load(ordering: .acquiring) == seen && spins < Self.spinLimit { spins += 1 }
            if generation.load(ordering: .acquiring) == seen {
                wake.lock()
                while generation.load(ordering: .acquiring) == seen { wake.wait() }
                wake.unlock()
            }
            seen = generation.load(ordering: .acquiring)
            participate(slot: slot)
            pending.subtract(1, ordering: .releasing)
        }
    }
}
