import Foundation
import VigilIR
import VigilONNX

/// Loads a model file by its format, turning any reader error into a one-line ``CommandFailure``.
enum ModelLoading {
    /// A loaded model and how long reading it took.
    struct Loaded {
        var model: Model
        var format: String
        var seconds: Double
    }

    static func load(_ path: String) throws -> Loaded {
        let lower = path.lowercased()
        if lower.hasSuffix(".h5") || lower.hasSuffix(".hdf5") || lower.hasSuffix(".keras") {
            throw CommandFailure("\(path): Keras models are not supported yet (only ONNX)")
        }
        let start = DispatchTime.now().uptimeNanoseconds
        do {
            let model = try ONNXReader.readModel(at: path)
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            return Loaded(model: model, format: "onnx", seconds: seconds)
        } catch {
            throw CommandFailure(error)
        }
    }
}
