import Foundation
import XCTest

@testable import VigilExecutor

/// The executor's own parallelism: every task runs exactly once, on a thread slot below the thread
/// count, and the packed convolution's task grid covers every (pixel, weight panel) pair once.
final class ParallelTests: XCTestCase {
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
            for tasks in [0, 1, 2, 7, 64] {
                let runs = Hits(tasks)
                Parallel(threads: threads).forEachTask(tasks) { task, slot in runs.hit(task, slotValid: (0..<threads).contains(slot)) }
                XCTAssertEqual(runs.counts, Array(repeating: 1, count: tasks), "threads \(threads) tasks \(tasks)")
                XCTAssertEqual(runs.badSlots, 0, "threads \(threads) tasks \(tasks)")
            }
        }
    }

    func testForEachCoversTheRangeOnce() {
        for threads in [1, 2, 5] {
            for (count, grain) in [(1, 1), (10, 1), (1000, 64), (7, 100)] {
                let hits = Hits(count)
                Parallel(threads: threads).forEach(count, grain: grain) { range in
                    for i in range { hits.hit(i) }
                }
                XCTAssertEqual(hits.counts, Array(repeating: 1, count: count), "threads \(threads) count \(count)")
            }
        }
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
}
