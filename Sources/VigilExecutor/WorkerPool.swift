import Foundation
import Synchronization

/// Persistent worker threads for the executor's parallel loops.
///
/// A parallel loop hands its tasks to the workers by bumping a generation counter; workers spin
/// briefly on it before sleeping, so the back-to-back loops of one inference start without a thread
/// wake-up each (what `DispatchQueue.concurrentPerform` costs), and an idle process does not spin.
/// The caller takes tasks too. Tasks are claimed from a shared counter, so a task index runs exactly
/// once whatever the number of workers. When another session is using the pool, the loop runs inline.
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
    private var job: ((Int) -> Void)?
    private var taskCount = 0

    init(workers: Int) {
        workerCount = workers
        for index in 0..<workers {
            let thread = Thread { [unowned self] in self.work() }
            thread.name = "vigil-worker-\(index)"
            thread.start()
        }
    }

    /// Runs `body(task)` for every task in `0..<tasks` on the caller and the workers; returns when all are done.
    func run(_ tasks: Int, _ body: (Int) -> Void) {
        guard workerCount > 0, tasks > 1, busy.try() else {
            for task in 0..<tasks { body(task) }
            return
        }
        defer { busy.unlock() }
        // `job` holds the caller's closure only until every worker has left it (checked by
        // withoutActuallyEscaping on return).
        withoutActuallyEscaping(body) { body in
            job = body
            taskCount = tasks
            nextTask.store(0, ordering: .relaxed)
            pending.store(workerCount, ordering: .relaxed)
            wake.lock()
            generation.add(1, ordering: .releasing)
            wake.broadcast()
            wake.unlock()
            claimTasks(body, count: tasks)
            while pending.load(ordering: .acquiring) > 0 {}
            job = nil
        }
    }

    private func claimTasks(_ body: (Int) -> Void, count: Int) {
        while true {
            let task = nextTask.add(1, ordering: .relaxed).oldValue
            if task >= count { return }
            body(task)
        }
    }

    /// Takes tasks of the current job. A separate call, so that the worker's reference to the job is
    /// released before it reports itself done.
    @inline(never)
    private func participate() {
        guard let job else { return }
        claimTasks(job, count: taskCount)
    }

    private func work() {
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
            participate()
            pending.subtract(1, ordering: .releasing)
        }
    }
}
