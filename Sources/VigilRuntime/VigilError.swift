import VigilExecutor
import VigilIR
import VigilKeras
import VigilONNX
import VigilOps
import VigilOptimizer

/// An error from loading, optimizing or running a network: what went wrong, where (the file, the
/// node, the Keras layer, the input) and why.
///
/// Its ``description`` is one line that names the file and the cause, e.g.
/// `model.onnx: node 'conv1' (Conv): …` or `model.h5: layer 'dense' (Dense): …`.
public struct VigilError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kind of failure.
    public enum Kind: Sendable, Equatable {
        /// A file could not be opened or read.
        case unreadableFile
        /// The model file is malformed or describes an invalid model.
        case invalidModel
        /// The model uses an op, a Keras layer or a feature Vigil does not support.
        case unsupported
        /// An input is missing, unknown, or has the wrong element type or shape.
        case invalidInput
        /// Tensor data does not fit its shape, or a tensor has another element type than asked for.
        case invalidTensor
        /// An optimizer pass failed.
        case optimization
        /// A node failed while the network was planned or run.
        case execution
        /// Running the network would need more memory than ``Network/Options/memoryLimit`` allows.
        case memoryLimit
    }

    /// The kind of failure.
    public var kind: Kind
    /// The model file (or other file) concerned, when there is one.
    public var file: String?
    /// The node concerned, as `'name' (OpType)` (or the op type of an unnamed node).
    public var node: String?
    /// The op type of ``node``.
    public var opType: String?
    /// The Keras layer concerned (`outer/inner` for nested models), with its class in ``opType``.
    public var layer: String?
    /// The graph input concerned.
    public var input: String?
    /// The cause, without the file name.
    public var cause: String

    /// Creates an error.
    public init(
        _ kind: Kind, file: String? = nil, node: String? = nil, opType: String? = nil, layer: String? = nil,
        input: String? = nil, cause: String
    ) {
        self.kind = kind
        self.file = file
        self.node = node
        self.opType = opType
        self.layer = layer
        self.input = input
        self.cause = cause
    }

    /// `file: cause`, or the cause alone when no file is concerned.
    public var description: String { file.map { "\($0): \(cause)" } ?? cause }
}

extension VigilError {
    /// An ONNX reader error, which always names its file.
    init(_ error: ONNXError) {
        let kind: Kind = switch error {
        case .unreadable, .writeFailed: .unreadableFile
        case .malformed, .invalid, .externalData: .invalidModel
        case .unsupported: .unsupported
        }
        self.init(kind, file: error.file, cause: error.reason)
    }

    /// A Keras import error, which names its file and, when one is concerned, the layer.
    init(_ error: KerasImportError) {
        let kind: Kind = switch error.kind {
        case .cannotRead: .unreadableFile
        case .unsupportedLayer, .customLayer, .unsupportedOption: .unsupported
        default: .invalidModel
        }
        var cause = error.message
        if let layer = error.layer { cause = "layer '\(layer)'" + (error.className.map { " (\($0))" } ?? "") + ": " + cause }
        self.init(kind, file: error.file, opType: error.className, layer: error.layer, cause: cause)
    }

    /// An executor error about the model in `file`.
    init(_ error: ExecutorError, file: String?) {
        switch error {
        case .unsupportedOps(let ops):
            self.init(.unsupported, file: file, node: ops.first?.nodes.first, opType: ops.first?.opType, cause: error.description)
        case .missingInput(let name), .unknownInput(let name, _), .inputTypeMismatch(let name, _, _),
            .inputShapeMismatch(let name, _, _, _):
            self.init(.invalidInput, file: file, input: name, cause: error.description)
        case .node(let op):
            self.init(op.kind == .unsupported ? .unsupported : .execution, file: file, node: op.node, opType: op.opType, cause: error.description)
        case .unresolvedShape(let node, _, _):
            self.init(.execution, file: file, node: node, cause: error.description)
        case .invalidGraph:
            self.init(.invalidModel, file: file, cause: error.description)
        case .memoryLimit(let node, _, _):
            self.init(.memoryLimit, file: file, node: node, cause: error.description)
        }
    }

    /// Any error raised while optimizing the model in `file`.
    init(optimizing error: any Error, file: String?) {
        switch error {
        case let error as VigilError: self = error
        case let error as ExecutorError: self.init(error, file: file)
        case let error as OpError:
            self.init(.optimization, file: file, node: error.node, opType: error.opType, cause: error.description)
        case let error as OptimizerError: self.init(.optimization, file: file, cause: error.description)
        default: self.init(.optimization, file: file, cause: "optimizing failed: \(error)")
        }
    }
}
