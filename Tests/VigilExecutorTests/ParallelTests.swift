import Foundation
import XCTest

@testable import VigilExecutor

/// The executor's own parallelism: every task runs exactly once, on a thread slot below the thread
/// count, and the packed convolution's task grid covers every (pixel, weight panel) pair once.
final class ParallelTests: XCTestCase {
    /// The Winograd kernel runs in these tests on AVX-512 machines on every shape it takes (by default only
    /// on the shapes where its AVX-512 form is faster).
    override func setUp() { ConvolutionKernels.winogradAVX512AnyShape = true }
    override func tearDown() { ConvolutionKernels.winogradAVX512AnyShape = false }

    /// Counts hits per index from several threads.
    final class Hits: @unchecked Sendable {
        private let lock = NSLock()
        private(set) var counts: [Int]
        private(set) var badSlots = 0
        init(_ count: Int) { counts = Array(repeating: 0, count: count) }
        func hit(_ i: Int, slotValid: Bool = true) {
            lock.lock()
            counts[i] += 1
            if !slotValid { badSlots += 1 }
            lock.unlock()
        }
    }

    func testForEachTaskRunsEachTaskOnceOnValidSlots() {
        for threads in [1, 2, 3, 8] {
            let pool = WorkerPool(workers: threads - 1)
            defer { pool.stop() }
            for tasks in [0, 1, 2, 7, 64] {
                let runs = Hits(tasks)
                Parallel(threads: threads, pool: pool).forEachTask(tasks) { task, slot in runs.hit(task, slotValid: (0..<threads).contains(slot)) }
                XCTAssertEqual(runs.counts, Array(repeating: 1, count: tasks), "threads \(threads) tasks \(tasks)")
                XCTAssertEqual(runs.badSlots, 0, "threads \(threads) tasks \(tasks)")
            }
        }
    }

    func testForEachCoversTheRangeOnce() {
        for threads in [1, 2, 5] {
            let pool = WorkerPool(workers: threads - 1)
            defer { pool.stop() }
            for (count, grain) in [(1, 1), (10, 1), (1000, 64), (7, 100)] {
                let hits = Hits(count)
                Parallel(threads: threads, pool: pool).forEach(count, grain: grain) { range in
                    for i in range { hits.hit(i) }
                }
                XCTAssertEqual(hits.counts, Array(repeating: 1, count: count), "threads \(threads) count \(count)")
            }
        }
    }

    /// A session whose loop is stuck (a task waits) does not hold up another session: each has its
    /// own threads.
    func testAStuckSessionDoesNotBlockAnother() {
        let pool = WorkerPool(workers: 1)
        defer { pool.stop() }
        let gate = NSLock()
        gate.lock()
        let first = Hits(2)
        let started = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            // Occupies the pool's worker with a loop whose task waits for the gate.
            Parallel(threads: 2, pool: pool).forEachTask(2) { task, _ in
                first.hit(task)
                if task == 0 { started.signal(); gate.lock(); gate.unlock() }
            }
        }
        started.wait()
        // A second pool (a second session) runs at once, on its own thread.
        let other = WorkerPool(workers: 1)
        defer { other.stop() }
        let runs = Hits(100)
        Parallel(threads: 2, pool: other).forEachTask(100) { task, _ in runs.hit(task) }
        XCTAssertEqual(runs.counts, Array(repeating: 1, count: 100))
        gate.unlock()
    }

    /// Several sessions' pools run loops concurrently, each task exactly once.
    func testPoolsRunConcurrently() {
        let pools = (0..<3).map { _ in WorkerPool(workers: 2) }
        defer { pools.forEach { $0.stop() } }
        let hits = (0..<3).map { _ in Hits(500) }
        DispatchQueue.concurrentPerform(iterations: 3) { i in
            for round in 0..<20 { Parallel(threads: 3, pool: pools[i]).forEachTask(25) { task, _ in hits[i].hit(round * 25 + task) } }
        }
        for h in hits { XCTAssertEqual(h.counts, Array(repeating: 1, count: 500)) }
    }

    /// Output pixel counts and panel counts of the VGG-like net at batch 1 and 64, and odd sizes, with
    /// both split preferences (direct kernel, Winograd tiles).
    func testConvolutionTaskGridCoversEveryPixelAndPanelOnce() {
        let pixelCounts = [1, 4, 5, 16, 64, 95, 96, 97, 256, 1024, 1030, 16384, 65536]
        for threads in [1, 2, 3, 4, 16] {
            for (pixels, panels) in pixelCounts.flatMap({ p in [1, 2, 3, 4, 8, 32].map { (p, $0) } }) {
                for preferPixels in [false, true] {
                    let grid = ConvolutionKernels.TaskGrid(pixels: pixels, panels: panels, threads: threads, preferPixels: preferPixels)
                    var covered = [Int](repeating: 0, count: pixels * panels)
                    for t in 0..<grid.count {
                        let (pixelRange, panelRange) = grid[t]
                        for p in pixelRange { for q in panelRange { covered[p * panels + q] += 1 } }
                    }
                    let label = "threads \(threads) pixels \(pixels) panels \(panels) preferPixels \(preferPixels)"
                    XCTAssertEqual(covered.min(), 1, label)
                    XCTAssertEqual(covered.max(), 1, label)
                    if threads == 1 { XCTAssertEqual(grid.count, 1, label) }
                }
            }
        }
    }

    /// GEMM grids cover every row and column panel pair once, give every thread a task when there are
    /// panels enough, and repeat little of the packing: the weights that each task packs itself are
    /// packed once (ViT's MLP, a few hundred rows against 768 × 3,072 weights), and the rows, which each
    /// column chunk packs again, are packed at most twice when they are the larger operand (ConvNeXt's
    /// 196 × 1,536 rows against prepacked 1,536 × 384 weights).
    func testGEMMGridCoversEveryPanelOnceAndRepeatsLittlePacking() {
        for threads in [1, 2, 3, 8] {
            for (m, n, k) in [(1, 1000, 512), (197, 3072, 768), (197, 768, 3072), (3072, 197, 64), (7, 5, 3), (64, 64, 64),
                              (600, 20, 9), (13, 1, 100), (196, 384, 1536), (49, 3072, 768)] {
                for packsRight in [false, true] {
                    let grid = LinearAlgebraKernels.GEMMGrid(m: m, n: n, k: k, threads: threads, packsRight: packsRight)
                    var covered = [Int](repeating: 0, count: m * n)
                    for t in 0..<grid.count {
                        let (rows, columns) = grid[t]
                        for r in rows { for c in columns { covered[r * n + c] += 1 } }
                    }
                    let label = "threads \(threads) m \(m) n \(n) k \(k) packsRight \(packsRight)"
                    XCTAssertEqual(covered.min(), 1, label)
                    XCTAssertEqual(covered.max(), 1, label)
                    if threads == 1 { XCTAssertEqual(grid.count, 1, label) }
                    let panels = ((m + 5) / 6) * ((n + 15) / 16)
                    if threads > 1 { XCTAssertGreaterThanOrEqual(grid.count, min(threads, panels), label) }
                }
            }
        }
        let vitMLP = LinearAlgebraKernels.GEMMGrid(m: 197, n: 3072, k: 768, threads: 2, packsRight: true)
        XCTAssertEqual(vitMLP.rowChunks, 1, "ViT's weights packed once per run")
        let convNeXt = LinearAlgebraKernels.GEMMGrid(m: 196, n: 384, k: 1536, threads: 2, packsRight: false)
        XCTAssertLessThanOrEqual(convNeXt.columnChunks, 2, "ConvNeXt's rows packed at most twice")
    }
}
