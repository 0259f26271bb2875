import ArgumentParser
import Foundation
import VigilBLAS
import VigilExecutor
import VigilIR

extension Vigil {
    /// `vigil bench`: latency, throughput and peak memory of the executor on a model.
    struct Bench: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Time the executor on a model with random inputs: median and min latency, throughput, peak RSS.")

        @OptionGroup var modelOptions: ModelOptions

        var model: String { modelOptions.model }

        @Option(help: "Batch size bound to the inputs' symbolic dims.")
        var batch: Int = 1

        @Option(help: "Timed runs after warm-up.")
        var runs: Int = 20

        @Option(help: "Warm-up runs.")
        var warmup: Int = 3

        @OptionGroup var inputs: InputOptions

        @Flag(help: "Print a JSON object (batch, threads, median_ms, min_ms, throughput_per_s, peak_rss_bytes).")
        var json = false

        @Flag(help: "Also report time per op type, summed over the timed runs.")
        var profile = false

        @Flag(help: "Like --profile, per node (name and output shape) instead of per op type.")
        var profileNodes = false

        @OptionGroup var execution: ExecutionOptions

        func validate() throws {
            guard batch >= 1, runs >= 1, warmup >= 0 else { throw ValidationError("--batch and --runs must be at least 1, --warmup 0 or more") }
        }

        func run() throws {
            let loaded = try modelOptions.load()
            var feeds = try inputs.feeds(for: loaded.model)
            for info in loaded.model.graph.runtimeInputs where feeds[info.name] == nil {
                feeds[info.name] = try Self.randomInput(info, batch: batch, file: model)
            }
            let session = try execution.session(for: loaded.model, file: model)
            var times: [Double] = []
            var perOp: [String: (count: Int, seconds: Double)] = [:]
            do {
                for _ in 0..<warmup { _ = try session.run(feeds) }
                for _ in 0..<runs {
                    let start = DispatchTime.now().uptimeNanoseconds
                    _ = try session.run(feeds)
                    times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
                }
                // Profiled runs are separate, so that timing each step does not skew the latency.
                if profile || profileNodes {
                    for _ in 0..<runs {
                        for op in try session.runProfiled(feeds, byNode: profileNodes).profile {
                            perOp[op.opType, default: (0, 0)].count += op.count
                            perOp[op.opType, default: (0, 0)].seconds += op.seconds
                        }
                    }
                }
            } catch {
                throw CommandFailure("\(model): \(error)")
            }
            times.sort()
            let median = times.count % 2 == 1 ? times[times.count / 2] : (times[times.count / 2 - 1] + times[times.count / 2]) / 2
            let threads = session.options.threads
            let throughput = Double(batch) / (median / 1000)
            let rss = Self.peakResidentBytes()
            let ops = perOp.sorted { $0.value.seconds > $1.value.seconds }
            let total = max(ops.reduce(0) { $0 + $1.value.seconds }, 1e-12)
            if json {
                var object: [String: Any] = [
                    "model": model, "batch": batch, "threads": threads, "runs": runs, "median_ms": median, "min_ms": times[0],
                    "throughput_per_s": throughput, "peak_rss_bytes": rss, "openblas_core": BLAS.coreName,
                ]
                if profile || profileNodes {
                    object["profile"] = ops.map { [profileNodes ? "node" : "op_type": $0.key, "nodes_per_run": $0.value.count / runs,
                                                   "ms_per_run": $0.value.seconds * 1000 / Double(runs)] as [String: Any] }
                }
                try JSONOutput.print(object)
            } else {
                print("\(model): batch \(batch), \(threads) thread\(threads == 1 ? "" : "s"), \(runs) runs after \(warmup) warm-up, OpenBLAS kernel \(BLAS.coreName)")
                print(String(format: "  median %.3f ms  min %.3f ms  throughput %.1f/s  peak RSS %@", median, times[0], throughput, byteString(rss)))
                for (op, entry) in ops {
                    print(String(format: "  %@ %8.3f ms/run  %5.1f%%  (%d nodes)", op.padding(profileNodes ? 40 : 22), entry.seconds * 1000 / Double(runs),
                                 entry.seconds / total * 100, entry.count / runs))
                }
            }
        }

        /// Seeded standard-normal floats (or zeros for integer inputs), symbolic dims bound to the batch size.
        static func randomInput(_ info: ValueInfo, batch: Int, file: String) throws -> Tensor {
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
            let count = sizes.reduce(1, *)
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

        static func peakResidentBytes() -> Int {
            var usage = rusage()
            getrusage(RUSAGE_SELF.rawValue, &usage)
            return Int(usage.ru_maxrss) * 1024
        }
    }
}
