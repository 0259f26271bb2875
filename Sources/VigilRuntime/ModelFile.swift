import Foundation
import VigilIR
import VigilKeras
import VigilONNX

/// Reads model files into the graph IR: ONNX (`.onnx`, with external data next to it) and Keras
/// (`.h5`, `.keras`, or a weights-only `.weights.h5` with its config JSON).
///
/// ```swift
/// let model = try ModelFile.load(URL(fileURLWithPath: "model.h5"))
/// ```
public enum ModelFile {
    /// The formats Vigil reads.
    public enum Format: String, Sendable, CaseIterable {
        case onnx
        case keras
    }

    /// The format of a file, by its name: Keras for `.h5`, `.hdf5` and `.keras` (or when a Keras
    /// config is given), ONNX otherwise.
    public static func format(of url: URL, kerasConfig: URL? = nil) -> Format {
        KerasImporter.isKerasFile(url.path) || kerasConfig != nil ? .keras : .onnx
    }

    /// Reads a model.
    ///
    /// - Parameters:
    ///   - url: an ONNX or Keras file.
    ///   - kerasConfig: the model config JSON of a weights-only Keras file (it overrides a config
    ///     stored in the file).
    /// - Throws: ``VigilError`` naming the file (and the Keras layer) with kind
    ///   ``VigilError/Kind/unreadableFile``, ``VigilError/Kind/invalidModel`` or ``VigilError/Kind/unsupported``.
    public static func load(_ url: URL, kerasConfig: URL? = nil) throws(VigilError) -> Model {
        switch format(of: url, kerasConfig: kerasConfig) {
        case .keras:
            do { return try KerasImporter.importModel(at: url.path, config: kerasConfig?.path) } catch { throw VigilError(error) }
        case .onnx:
            do { return try ONNXReader.readModel(at: url.path) } catch { throw VigilError(error) }
        }
    }
}
