import VigilHDF5

/// A Keras import failure. Its description always names the file and, when one is involved, the layer.
public struct KerasImportError: Error, Equatable, CustomStringConvertible {
    /// What went wrong.
    public enum Kind: Equatable, Sendable {
        /// The file cannot be read.
        case cannotRead
        /// The file is neither HDF5 nor a `.keras` zip archive.
        case notKerasFile
        /// The file has no `model_config` and no config file was given.
        case noModelConfig
        /// The model config is not valid JSON or lacks something the importer needs.
        case invalidConfig
        /// A layer class the importer does not know.
        case unsupportedLayer(className: String)
        /// A `Lambda` or custom (user-registered) layer: its code is not in the file.
        case customLayer(className: String)
        /// A layer option the importer does not support (e.g. `rms_scaling`).
        case unsupportedOption
        /// A weight's shape disagrees with the layer's config.
        case weightShapeMismatch
        /// A layer that needs weights has none, or fewer than it needs, in the file.
        case missingWeights
        /// The HDF5 library failed (a truncated or corrupt file, an I/O error).
        case hdf5
        /// The `.keras` archive is damaged or lacks a member.
        case archive
    }

    public var kind: Kind
    /// The file being imported.
    public var file: String
    /// The layer being imported, when the error concerns one (nested layers as `outer/inner`).
    public var layer: String?
    /// The layer's class, when known.
    public var className: String?
    public var message: String

    public init(_ kind: Kind, file: String, layer: String? = nil, className: String? = nil, message: String) {
        self.kind = kind
        self.file = file
        self.layer = layer
        self.className = className
        self.message = message
    }

    public var description: String {
        var text = file
        if let layer { text += ": layer '\(layer)'" + (className.map { " (\($0))" } ?? "") }
        return text + ": " + message
    }
}

extension KerasImportError {
    /// An HDF5 failure while importing `path`, naming the object inside the file when there is one.
    init(hdf5 error: HDF5Error, importing path: String) {
        let kind: Kind = error.kind == .notHDF5 ? .notKerasFile : .hdf5
        self.init(kind, file: path, message: error.object == "/" || error.object.isEmpty ? error.message : "\(error.object): \(error.message)")
    }
}
