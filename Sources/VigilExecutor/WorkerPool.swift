import Foundation
import VigilBLAS
import Synchronization

/// Worker threads for one session's parallel loops.
///
/// Each ``InferenceSession`` with more than one thread owns a pool of `threads − 1` workers (the
/// caller is the last thread), so several sessions in one process each get their threads and the
/// operating system shares the cores among them; the pool's threads end with the session.
///
/// A loop publishes its tasks by bumping a generation counter; workers spin briefly on it before
/// sleeping, so that the back-to-back loops of one inference start without a thread wake-up each, and
/// an idle process does not spin. Every thread, the caller included, claims tasks one at a time from
/// counters (its own share of the tasks first, then the others'), so a task runs exactly once whatever
/// the number of workers, and a thread slowed down (by another process on its core) simply takes fewer
/// tasks. The caller waits only for tasks that are running, never for a worker to wake up: a worker
/// that arrives after the last task was claimed leaves without touching the loop.
///
/// OpenBLAS has one process-wide thread count, which each session's `run` sets to its own thread
/// count; BLAS calls are never made inside these loops, so the two kinds of threads do not
/// oversubscribe the cores within one session.
final class WorkerPool: Sendable {
    /// How long a worker spins (atomic loads) waiting for the next loop before it sleeps: longer than
    /// the single-threaded ops between two loops of one inference take (DenseNet-121 at batch 1 ran 4%
    /// faster on two threads than with a spin of some tens of microseconds, which let workers fall
    /// asleep and be woken late), short enough that an idle session soon stops using the CPU.
    private static let spinNanoseconds: UInt64 = 200_000

    let workerCount: Int
    private let generation = Atomic<Int>(0)
    /// Per thread, the tasks of its share claimed so far (see `claim`).
    private let cursors: [Cursor]
    private let completed = Atomic<Int>(0)
    /// Workers between entering and leaving the current loop.
    private let active = Atomic<Int>(0)
    /// Set when the loop's last task has finished; workers arriving later leave at once.
    private let closed = Atomic<Bool>(true)
    private let stopping = Atomic<Bool>(false)
    private let wake = NSCondition()
    /// One caller at a time (a session serializes its runs; this guards misuse).
    private let caller = Mutex<Void>(())
    private let job = JobSlot()

    /// Starts `workers` threads.
    init(workers: Int) {
        workerCount = max(0, workers)
        cursors = (0...workerCount).map { _ in Cursor() }
        for index in 0..<workerCount {
            let thread = Thread { [self] in work(slot: index + 1) }
            thread.name = "vigil-worker-\(index)"
            thread.start()
        }
    }

    /// Ends the worker threads (they finish their current task first). The pool runs loops inline
    /// afterwards.
    func stop() {
        stopping.store(true, ordering: .sequentiallyConsistent)
        wake.lock()
        generation.add(1, ordering: .sequentiallyConsistent)
        wake.broadcast()
        wake.unlock()
    }

    /// Runs `body(task, slot)` for every task in `0..<tasks`; returns when all are done. `slot`
    /// (0 for the caller, 1… for the workers) names the thread running the task, so that tasks can
    /// use per-thread workspaces.
    func run(_ tasks: Int, _ body: (_ task: Int, _ slot: Int) -> Void) {
        guard workerCount > 0, tasks > 1, !stopping.load(ordering: .relaxed) else {
            for task in 0..<tasks { body(task, 0) }
            return
        }
        caller.withLock { _ in
            withoutActuallyEscaping(body) { body in
                job.body = body
                job.count = tasks
                for cursor in cursors { cursor.claimed.store(0, ordering: .sequentiallyConsistent) }
                completed.store(0, ordering: .sequentiallyConsistent)
                closed.store(false, ordering: .sequentiallyConsistent)
                wake.lock()
                generation.add(1, ordering: .sequentiallyConsistent)
                wake.broadcast()
                wake.unlock()
                var done = claim(body, count: tasks, slot: 0)
                if done < tasks { done = completed.add(done, ordering: .acquiringAndReleasing).newValue }
                // Only tasks already running remain; then no worker may enter the loop any more.
                while done < tasks { done = completed.load(ordering: .acquiring) }
                closed.store(true, ordering: .sequentiallyConsistent)
                while active.load(ordering: .sequentiallyConsistent) > 0 {}
                job.body = nil
            }
        }
    }

    /// Claims and runs tasks until none is left; returns how many it ran. The tasks are cut into one
    /// contiguous share per thread, each with its own counter: a thread runs its own share first, then
    /// helps with the others' (a thread late or slowed down leaves its share to the rest). So a layer
    /// split the same way as the one before it gives each thread the part of the data it wrote and still
    /// has in its cache, whichever thread arrives first.
    private func claim(_ body: (Int, Int) -> Void, count: Int, slot: Int) -> Int {
        var ran = 0
        let shares = cursors.count
        for offset in 0..<shares {
            let share = (slot + offset) % shares
            let first = count * share / shares, end = count * (share + 1) / shares
            while true {
                let task = first + cursors[share].claimed.add(1, ordering: .relaxed).oldValue
                if task >= end { break }
                body(task, slot)
                ran += 1
            }
        }
        return ran
    }

    /// Enters the current loop unless it is closed; a separate call, so that the worker's reference
    /// to the loop's body is gone before it leaves.
    @inline(never)
    private func participate(slot: Int) {
        active.add(1, ordering: .sequentiallyConsistent)
        if !closed.load(ordering: .sequentiallyConsistent), let body = job.body {
            let ran = claim(body, count: job.count, slot: slot)
            if ran > 0 { completed.add(ran, ordering: .releasing) }
        }
        active.subtract(1, ordering: .sequentiallyConsistent)
    }

    private func work(slot: Int) {
        // Workers only run kernels: subnormal floats are flushed to zero on them, as on the caller while a plan runs.
        _ = KernelFeatures.flushSubnormals()
        var seen = 0
        while true {
            // The clock read every 256 loads, each after a spin-wait hint.
            var spins = 0
            let start = DispatchTime.now().uptimeNanoseconds
            while generation.load(ordering: .acquiring) == seen {
                KernelFeatures.spinPause()
                spins &+= 1
                if spins & 255 == 0 && DispatchTime.now().uptimeNanoseconds &- start > Self.spinNanoseconds { break }
            }
            if generation.load(ordering: .acquiring) == seen {
                wake.lock()
                while generation.load(ordering: .acquiring) == seen { wake.wait() }
                wake.unlock()
            }
            seen = generation.load(ordering: .acquiring)
            if stopping.load(ordering: .sequentiallyConsistent) { return }
            participate(slot: slot)
        }
    }
}

/// One thread's share of a loop's tasks: how many of them were claimed, alone on its cache line (the
/// threads update their own counters without contending for one).
private final class Cursor: Sendable {
    let claimed = Atomic<Int>(0)
    private let padding: (Int, Int, Int, Int, Int, Int, Int, Int) = (0, 0, 0, 0, 0, 0, 0, 0)
}

/// The body and task count of the loop a pool is running.
///
/// `@unchecked Sendable` because its fields are shared by a protocol the compiler cannot see: the
/// caller writes them before opening the loop (`closed = false`, sequentially consistent), workers
/// read them only after seeing the loop open while counted in `active`, and the caller clears them
/// only after closing the loop and seeing `active` at zero.
private final class JobSlot: @unchecked Sendable {
    var body: ((Int, Int) -> Void)?
    var count = 0
}
