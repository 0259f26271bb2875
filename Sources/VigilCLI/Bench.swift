import ArgumentParser
import Foundation
import VigilBLAS
import VigilExecutor
import VigilIR

extension Vigil {
    /// `vigil bench`: latency, throughput and peak memory of the executor on a model.
    struct Bench: ParsableCommand, ExampleProviding {
        static let configuration = CommandConfiguration(
            abstract: "Time the executor on a model with random inputs: median and min latency, throughput, peak RSS.",
            discussion: """
                With --profile, every timed run is followed by a profiled run (each op timed). The time per op \
                is the mean over the half of the profiled runs nearest the median latency, plus a 'between ops' \
                row for the rest of those runs, so the rows add up to their mean wall time; the profiler's \
                overhead (median profiled run against the median timed run) is reported. Each row also gives the \
                CPU time of the process during it (summed over threads) and, for Conv, Gemm and MatMul, GFLOP/s \
                per CPU second against this core's FMA peak (measured at start): with one thread, how close each \
                layer gets to the physical limit, whatever else the machine runs.
                """)

        static let examples = [
            Example(what: "Median latency at batch 1 on every core", command: "vigil bench model.onnx"),
            Example(what: "Batch 64 on two threads, as JSON", command: "vigil bench model.onnx --batch 64 --threads 2 --json"),
            Example(what: "Where the time goes, per op type and per node", command: "vigil bench model.onnx --profile --profile-nodes"),
        ]

        @OptionGroup var modelOptions: ModelOptions

        var model: String { modelOptions.model }

        @Option(help: "Batch size bound to the inputs' symbolic dims.")
        var batch: Int = 1

        @Option(help: "Timed runs after warm-up.")
        var runs: Int = 20

        @Option(help: "Warm-up runs.")
        var warmup: Int = 3

        @OptionGroup var inputs: InputOptions

        @Flag(help: "Also report time per op type.")
        var profile = false

        @Flag(help: "Like --profile, per node (name and output shape) instead of per op type.")
        var profileNodes = false

        @OptionGroup var execution: ExecutionOptions

        @OptionGroup var output: OutputOptions

        func validate() throws {
            guard batch >= 1, runs >= 1, warmup >= 0 else { throw ValidationError("--batch and --runs must be at least 1, --warmup 0 or more") }
        }

        func run() throws {
            let loaded = try modelOptions.load()
            var feeds = try inputs.feeds(for: loaded.model)
            let limit = execution.sessionOptions.memoryLimit
            for info in loaded.model.graph.runtimeInputs where feeds[info.name] == nil {
                feeds[info.name] = try Self.randomInput(info, batch: batch, file: model, memoryLimit: limit)
            }
            let session = try execution.session(for: loaded.model, file: model)
            let profiling = profile || profileNodes
            var times: [Double] = [], cpuTimes: [Double] = []
            var profiled: [ProfiledRun] = []
            let progress = Progress("timing \(model) at batch \(batch)", total: warmup + runs * (profiling ? 2 : 1), unit: "runs")
            do {
                for _ in 0..<warmup {
                    _ = try session.run(feeds)
                    progress.advance()
                }
                for _ in 0..<runs {
                    let start = DispatchTime.now().uptimeNanoseconds, cpuStart = Self.processCPUSeconds()
                    _ = try session.run(feeds)
                    times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
                    cpuTimes.append((Self.processCPUSeconds() - cpuStart) * 1000)
                    progress.advance()
                    // A profiled run after each timed run, so that both see the same machine state.
                    guard profiling else { continue }
                    let result = try session.runProfiled(feeds, byNode: profileNodes)
                    profiled.append(ProfiledRun(wallMs: result.seconds * 1000, steps: result.profile))
                    progress.advance()
                }
            } catch {
                progress.finish()
                throw CommandFailure("\(model): \(error)")
            }
            progress.finish()
            let median = Self.median(times)
            let threads = session.options.threads
            let throughput = Double(batch) / (median / 1000)
            let rss = Self.peakResidentBytes()
            let chunk = try? session.batchChunk(for: feeds) ?? nil
            let summary = profiling ? ProfileSummary(profiled, latency: median) : nil
            if output.json {
                var object: [String: Any] = [
                    "model": model, "batch": batch, "threads": threads, "runs": runs, "median_ms": median, "min_ms": times.min()!,
                    "cpu_median_ms": Self.median(cpuTimes),
                    "throughput_per_s": throughput, "peak_rss_bytes": rss, "openblas_core": BLAS.coreName,
                    "batch_chunk": chunk ?? batch,
                ]
                if let summary {
                    object["profile"] = summary.ops.map { op -> [String: Any] in
                        var row: [String: Any] = [profileNodes ? "node" : "op_type": op.key, "nodes_per_run": op.nodes, "ms_per_run": op.ms,
                                                  "cpu_ms_per_run": op.cpuMs]
                        if let rate = op.gflops { row["gflop_per_cpu_s"] = rate }
                        return row
                    }
                    object["fma_peak_gflop_per_s"] = KernelFeatures.fmaPeakGFLOPs
                    object["profile_between_ops_ms"] = summary.betweenMs
                    object["profile_total_ms"] = summary.totalMs
                    object["profile_runs_used"] = summary.used
                    object["profiled_median_ms"] = summary.medianWallMs
                    object["profiler_overhead_ms"] = summary.medianWallMs - median
                }
                try output.printJSON(object)
                return
            }
            let chunks = chunk.map { ", in chunks of \($0) sample\($0 == 1 ? "" : "s")" } ?? ""
            print("\(model): batch \(batch)\(chunks), \(threads) thread\(threads == 1 ? "" : "s"), \(runs) runs after \(warmup) warm-up, OpenBLAS kernel \(BLAS.coreName)")
            print(String(format: "  median %.3f ms  min %.3f ms  throughput %.1f/s  peak RSS %@  CPU time per run (all threads) %.3f ms",
                         median, times.min()!, throughput, byteString(rss), Self.median(cpuTimes)))
            if let summary { print(summary.text(byNode: profileNodes, latency: median).joined(separator: "\n")) }
        }

        static func median(_ values: [Double]) -> Double {
            let sorted = values.sorted()
            return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
        }

        /// Seeded standard-normal floats (or zeros for integer inputs), symbolic dims bound to the batch size.
        /// Random values for an input the user did not give; the input must fit in `memoryLimit` bytes.
        static func randomInput(_ info: ValueInfo, batch: Int, file: String, memoryLimit: Int) throws -> Tensor {
            guard case .tensor(let dtype?, let shape?)? = info.type else {
                throw CommandFailure("\(file): input '\(info.name)' has no declared tensor type; pass it with --input")
            }
            var sizes: [Int] = []
            for dim in shape.dims {
                switch dim {
                case .fixed(let size): sizes.append(size)
                case .symbolic: sizes.append(batch)
                case .unknown: throw CommandFailure("\(file): input '\(info.name)' has an unknown dim; pass it with --input")
                }
            }
            var count = 1
            for size in sizes {
                let (product, overflow) = count.multipliedReportingOverflow(by: size)
                guard !overflow, product <= memoryLimit / 8 else {
                    throw CommandFailure("\(file): input '\(info.name)' of shape \(sizes) does not fit in the memory limit of \(MemoryLimit.describe(memoryLimit)); pass a smaller one with --input or raise --max-memory")
                }
                count = product
            }
            switch dtype {
            case .float32:
                var generator = SystemRandomNumberGenerator()
                let values = (0..<count).map { _ in Float.random(in: -1...1, using: &generator) }
                return try Tensor(float32: values, shape: sizes)
            case .int64:
                return try Tensor(int64: [Int64](repeating: 0, count: count), shape: sizes)
            default:
                throw CommandFailure("\(file): input '\(info.name)' is \(dtype); pass it with --input")
            }
        }

        /// User and system CPU time of the process so far (all threads), in seconds: with one thread, the
        /// time the run computed, whatever else the machine was running.
        static func processCPUSeconds() -> Double {
            var usage = rusage()
            getrusage(RUSAGE_SELF.rawValue, &usage)
            return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
        }

        static func peakResidentBytes() -> Int {
            var usage = rusage()
            getrusage(RUSAGE_SELF.rawValue, &usage)
            return Int(usage.ru_maxrss) * 1024
        }
    }
}

/// One profiled run: its wall time and the time of each op type (or node).
struct ProfiledRun {
    var wallMs: Double
    var steps: [InferenceSession.OpProfile]
}

/// Per-op times of the half of the profiled runs nearest the median latency, which add up (with the
/// time between ops) to those runs' mean wall time.
struct ProfileSummary {
    struct Op {
        var key: String
        var nodes: Int
        var ms: Double
        /// CPU time of the process during the op, per run.
        var cpuMs: Double
        /// Floating-point operations per run.
        var flops: Double

        /// GFLOP per CPU second, for ops that count their operations.
        var gflops: Double? { flops > 0 && cpuMs > 0 ? flops / (cpuMs * 1e6) : nil }
    }

    /// Slowest first.
    var ops: [Op]
    /// Time of those runs outside any op: binding inputs, views, copying outputs, the profiler's clock reads.
    var betweenMs: Double
    /// Sum of `ops` and `betweenMs`: the mean wall time of the runs used.
    var totalMs: Double
    /// How many profiled runs were used.
    var used: Int
    var medianWallMs: Double

    /// Uses the half of `runs` whose wall time is nearest `latency` (the median of the timed runs), so
    /// that the rows describe runs of typical length even on a busy machine.
    init(_ runs: [ProfiledRun], latency: Double) {
        let nearest = Array(runs.sorted { abs($0.wallMs - latency) < abs($1.wallMs - latency) }.prefix((runs.count + 1) / 2))
        var totals: [String: (count: Int, seconds: Double, cpu: Double, flops: Double)] = [:]
        var between = 0.0, wall = 0.0
        for run in nearest {
            for step in run.steps {
                totals[step.opType, default: (0, 0, 0, 0)].count += step.count
                totals[step.opType, default: (0, 0, 0, 0)].seconds += step.seconds
                totals[step.opType, default: (0, 0, 0, 0)].cpu += step.cpuSeconds
                totals[step.opType, default: (0, 0, 0, 0)].flops += step.flops
            }
            wall += run.wallMs
            between += run.wallMs - run.steps.reduce(0) { $0 + $1.seconds * 1000 }
        }
        let n = Double(nearest.count)
        ops = totals.map {
            Op(key: $0.key, nodes: $0.value.count / nearest.count, ms: $0.value.seconds * 1000 / n, cpuMs: $0.value.cpu * 1000 / n,
               flops: $0.value.flops / n)
        }
            .sorted { ($0.ms, $1.key) > ($1.ms, $0.key) }
        betweenMs = between / n
        totalMs = wall / n
        used = nearest.count
        medianWallMs = Vigil.Bench.median(runs.map(\.wallMs))
    }

    func text(byNode: Bool, latency: Double) -> [String] {
        let width = byNode ? 40 : 22
        let peak = KernelFeatures.fmaPeakGFLOPs
        var lines = ["  time per \(byNode ? "node" : "op type"): mean of the \(used) profiled runs nearest the median latency; "
                     + String(format: "GFLOP per CPU second against this core's measured FMA peak, %.1f GFLOP/s", peak)]
        for op in ops {
            var line = String(format: "  %@ %8.3f ms/run  %5.1f%%  cpu %8.3f ms", op.key.padding(width), op.ms, op.ms / totalMs * 100, op.cpuMs)
            if let rate = op.gflops { line += String(format: "  %6.1f GFLOP/s %3.0f%% of peak", rate, peak > 0 ? rate / peak * 100 : 0) }
            lines.append(line + "  (\(op.nodes) nodes)")
        }
        lines.append(String(format: "  %@ %8.3f ms/run  %5.1f%%", "(between ops)".padding(width), betweenMs, betweenMs / totalMs * 100))
        let overhead = medianWallMs - latency
        lines.append(String(format: "  total %.3f ms/run; profiled runs' median %.3f ms, %+.3f ms (%+.1f%%) against the median latency",
                            totalMs, medianWallMs, overhead, overhead / latency * 100))
        return lines
    }
}
