import ArgumentParser
import Foundation
import VigilDetector
import VigilIR
import VigilNumpy

extension Vigil {
    /// `vigil detect`: the metric-learning novelty and anomaly detector (Masana et al. 2018).
    struct Detect: ParsableCommand, ExampleProviding {
        static let configuration = CommandConfiguration(
            abstract: "Fit, score and evaluate a novelty/anomaly detector on a network's embeddings.",
            discussion: """
                Images are .npy arrays [N, …] of uint8 or float32. float32 values go to the network unchanged; \
                uint8 pixels are multiplied by 1/255 unless `detect fit` is given --scale (and --mean/--std); \
                the rule is recorded in the detector file and used by score, evaluate and export.
                """,
            subcommands: [Fit.self, Score.self, Evaluate.self, Metrics.self, Export.self])

        static let examples = [
            Example(what: "Fit on labelled training images", command:
                        "vigil detect fit embedding.onnx --data train.npy --labels train_labels.npy -o detector.h5"),
            Example(what: "Score new images (higher = more out-of-distribution)", command:
                        "vigil detect score detector.h5 embedding.onnx --data new.npy -o scores.npy"),
            Example(what: "Evaluate against a novelty set and an anomaly set, with an HTML report", command:
                        "vigil detect evaluate detector.h5 embedding.onnx --data test.npy --novelty unseen.npy --anomaly noise=noise.npy --html report.html"),
        ]
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
        try ErrorText.requireReadableFile(file)
        do { return try DetectorFile.read(at: file, recordingInputsIn: CommandFiles.inputs) } catch { throw CommandFailure(error.description) }
    }

    static func sha256(_ file: String) throws -> String {
        try ErrorText.requireReadableFile(file)
        CommandFiles.record(file)
        do { return try SHA256.hex(fileAt: file) } catch { throw CommandFailure(error.description) }
    }

    /// An embedder for a model file (optimized in memory unless `--no-optimize`, after exposing the
    /// embedding output so that fusion keeps it); `file` names the model in failures.
    static func embedder(_ file: String, output: String?, preprocessing: Preprocessing, execution: ExecutionOptions) throws -> Embedder {
        var model = Embedder.exposing(output, in: try ModelLoading.load(file).model)
        if !execution.noOptimize { try OptimizationOptions.optimizeForExecution(&model, file: file) }
        do {
            return try Embedder(model: model, output: output, preprocessing: preprocessing, threads: execution.threads,
                                winograd: !execution.noWinograd)
        } catch {
            throw CommandFailure("\(file): \(error)")
        }
    }

    /// Runs `body`, prefixing a detector error with the file it concerns.
    static func naming<T>(_ file: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as DetectorError {
            // A file error names its own file.
            if case .invalidFile = error { throw CommandFailure(error.description) }
            throw CommandFailure("\(file): \(error)")
        }
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

    /// The preprocessing rule as JSON (`Formats/json.md`).
    static func preprocessingJSON(_ p: Preprocessing) -> [String: Any] {
        [
            "rule": p.description, "uint8_scale": Double(p.uint8Scale), "float32_scale": Double(p.float32Scale),
            "mean": p.mean.map(Double.init), "std": p.std.map(Double.init), "channel_axis": p.channelAxis.map { $0 as Any } ?? NSNull(),
            "image_dtype": p.imageType.map { $0.rawValue as Any } ?? NSNull(), "image_shape": p.imageShape.map { $0 as Any } ?? NSNull(),
        ]
    }

    /// A set given as `[NAME=]FILE`: the name before the first `=` (when it holds no `/`), else `defaultName`.
    static func namedSet(_ argument: String, defaultName: String) -> (name: String, file: String) {
        let (name, file) = InputOptions.split(argument)
        return (name ?? defaultName, file)
    }

    /// A file's name without folder and extension (`data/noise.npy` → `noise`).
    static func stem(_ file: String) -> String { URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent }

    /// `--novelty` and `--anomaly` sets, named (`novelty` and the file's stem by default), with
    /// duplicate names as usage errors.
    static func oodSets(novelty: [String], anomaly: [String]) throws -> [(name: String, file: String)] {
        let sets = novelty.map { namedSet($0, defaultName: novelty.count == 1 ? "novelty" : stem($0)) }
            + anomaly.map { namedSet($0, defaultName: stem($0)) }
        for set in sets where set.file.isEmpty { throw ValidationError("the set '\(set.name)' has no file") }
        let names = sets.map(\.name)
        if let duplicate = names.first(where: { name in names.filter { $0 == name }.count > 1 }) {
            throw ValidationError("the set name '\(duplicate)' is used twice; name sets as NAME=FILE")
        }
        return sets
    }
}
