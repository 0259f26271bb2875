import ArgumentParser
import Foundation
import VigilIR
import VigilKeras
import VigilONNX

/// The model file every command takes, with the Keras config for weights-only files.
struct ModelOptions: ParsableArguments {
    @Argument(help: "The model: ONNX (.onnx) or Keras (.h5, .keras, .weights.h5 with --config).")
    var model: String

    @Option(help: "Keras config JSON for a weights-only file (.weights.h5 or a legacy weights file).")
    var config: String?

    func validate() throws {
        if config != nil, model.lowercased().hasSuffix(".onnx") {
            throw ValidationError("--config is for Keras weights files (.weights.h5 or legacy .h5), not for an ONNX model")
        }
    }

    /// Loads the model.
    func load() throws -> ModelLoading.Loaded { try ModelLoading.load(model, kerasConfig: config) }
}

/// Loads a model file by its format, turning any reader error into a one-line ``CommandFailure``.
enum ModelLoading {
    /// A loaded model and how long reading it took.
    struct Loaded {
        var model: Model
        var format: String
        var seconds: Double
    }

    static func load(_ path: String, kerasConfig: String? = nil) throws -> Loaded {
        try ErrorText.requireReadableFile(path)
        if let kerasConfig { try ErrorText.requireReadableFile(kerasConfig) }
        return try Progress.activity("reading \(path) (\(byteString(fileSize(path))))") {
            try read(path, kerasConfig: kerasConfig)
        }
    }

    static func fileSize(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0
    }

    private static func read(_ path: String, kerasConfig: String?) throws -> Loaded {
        let start = DispatchTime.now().uptimeNanoseconds
        func elapsed() -> Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
        if KerasImporter.isKerasFile(path) || kerasConfig != nil {
            do {
                let model = try KerasImporter.importModel(at: path, config: kerasConfig)
                CommandFiles.record(path)
                if let kerasConfig { CommandFiles.record(kerasConfig) }
                return Loaded(model: model, format: "keras", seconds: elapsed())
            } catch {
                throw CommandFailure(error)
            }
        }
        do {
            let model = try ONNXReader.readModel(at: path, recordingInputsIn: CommandFiles.inputs)
            return Loaded(model: model, format: "onnx", seconds: elapsed())
        } catch {
            throw CommandFailure(error)
        }
    }
}
