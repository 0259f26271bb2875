import ArgumentParser
import Foundation
import VigilDetector
import VigilIR
import VigilNumpy

extension Vigil {
    /// `vigil detect`: the metric-learning novelty and anomaly detector (Masana et al. 2018).
    struct Detect: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Fit, score and evaluate a novelty/anomaly detector on a network's embeddings.",
            subcommands: [Fit.self, Score.self, Evaluate.self, Metrics.self, Export.self])
    }
}

/// Helpers shared by the `vigil detect` subcommands: one-line failures naming the file.
enum DetectSupport {
    /// Reads a `.npy` of images (`[N, …]`, uint8 or float32).
    static func images(_ file: String) throws -> Tensor {
        guard let (_, tensor) = try TensorFiles.read(file).first else { throw CommandFailure("\(file): holds no array") }
        guard tensor.dtype == .uint8 || tensor.dtype == .float32 else {
            throw CommandFailure("\(file): images must be uint8 or float32, not \(tensor.dtype)")
        }
        guard tensor.shape.count >= 2 else { throw CommandFailure("\(file): images must be [N, …], got \(tensor.shape)") }
        return tensor
    }

    /// Reads a `.npy` of integer labels (`[N]`).
    static func labels(_ file: String) throws -> [Int] {
        guard let (_, tensor) = try TensorFiles.read(file).first else { throw CommandFailure("\(file): holds no array") }
        guard tensor.shape.count == 1 else { throw CommandFailure("\(file): labels must be 1-D, got \(tensor.shape)") }
        switch tensor.dtype {
        case .int64: return tensor.scalars(as: Int64.self).map(Int.init)
        case .int32: return tensor.scalars(as: Int32.self).map(Int.init)
        case .uint8: return tensor.scalars(as: UInt8.self).map(Int.init)
        default: throw CommandFailure("\(file): labels must be integers, not \(tensor.dtype)")
        }
    }

    /// Reads a `.npy` of scores (`[N]`, float32 or float64) as Double.
    static func scores(_ file: String) throws -> [Double] {
        guard let (_, tensor) = try TensorFiles.read(file).first else { throw CommandFailure("\(file): holds no array") }
        guard tensor.shape.count == 1 else { throw CommandFailure("\(file): scores must be 1-D, got \(tensor.shape)") }
        switch tensor.dtype {
        case .float64: return tensor.scalars(as: Double.self)
        case .float32: return tensor.scalars(as: Float.self).map(Double.init)
        default: throw CommandFailure("\(file): scores must be float32 or float64, not \(tensor.dtype)")
        }
    }

    static func detector(_ file: String) throws -> Detector {
        do { return try DetectorFile.read(at: file, recordingInputsIn: CommandFiles.inputs) } catch { throw CommandFailure(error.description) }
    }

    static func sha256(_ file: String) throws -> String {
        CommandFiles.record(file)
        do { return try SHA256.hex(fileAt: file) } catch { throw CommandFailure(error.description) }
    }

    /// An embedder for a model file (optimized in memory unless `--no-optimize`, after exposing the
    /// embedding output so that fusion keeps it); `file` names the model in failures.
    static func embedder(_ file: String, output: String?, scale: Float, execution: ExecutionOptions) throws -> Embedder {
        var model = Embedder.exposing(output, in: try ModelLoading.load(file).model)
        if !execution.noOptimize { try OptimizationOptions.optimizeForExecution(&model, file: file) }
        do {
            return try Embedder(model: model, output: output, preprocessing: .init(scale: scale), threads: execution.threads,
                                winograd: !execution.noWinograd)
        } catch {
            throw CommandFailure("\(file): \(error)")
        }
    }

    /// Runs `body`, prefixing a detector error with the file it concerns.
    static func naming<T>(_ file: String, _ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as DetectorError { throw CommandFailure("\(file): \(error)") }
    }

    /// A scorer by name, as a usage error listing the names when unknown.
    static func scorer(_ name: String) throws -> Scorer {
        guard let scorer = Scorer(rawValue: name) else {
            throw ValidationError("unknown scorer '\(name)' (one of: \(Scorer.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        return scorer
    }

    /// Writes Double values as a float64 `.npy`.
    static func writeScores(_ values: [Double], to file: String) throws {
        do {
            try NPY.write(Tensor(.float64, shape: [values.count], scalars: values), to: file, protecting: CommandFiles.inputs)
        } catch let error as CommandFailure {
            throw error
        } catch {
            throw CommandFailure("\(file): \(error)")
        }
    }

    /// Prints a warning line on stderr.
    static func warn(_ message: String) {
        FileHandle.standardError.write(Data("vigil: warning: \(message)\n".utf8))
    }

    /// A progress bar on stderr, drawn only when stderr is a terminal.
    static func progressBar(label: String) -> ((Int, Int) -> Void)? {
        guard isatty(STDERR_FILENO) != 0 else { return nil }
        return { done, total in
            let width = 30
            let filled = total == 0 ? width : width * done / total
            let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
            var line = "\r\(label) [\(bar)] \(done)/\(total)"
            if done == total { line += "\n" }
            FileHandle.standardError.write(Data(line.utf8))
        }
    }
}
