/// An error reading or writing an ONNX file. Its description is one line that names the file and the cause.
public enum ONNXError: Error, Equatable, CustomStringConvertible {
    /// The file could not be opened, mapped or read.
    case unreadable(file: String, reason: String)
    /// The bytes are not a well-formed protobuf message of the expected type.
    case malformed(file: String, reason: String)
    /// The message is well-formed but describes an invalid model (a tensor whose data disagrees
    /// with its shape, an unknown data type, a value produced twice, …).
    case invalid(file: String, reason: String)
    /// An external data reference is unsafe or does not fit the file it points at.
    case externalData(file: String, reason: String)
    /// The model uses something this reader does not support.
    case unsupported(file: String, reason: String)
    /// An output file could not be written; nothing was left at the destination.
    case writeFailed(file: String, reason: String)

    /// The file the error is about.
    public var file: String {
        switch self {
        case .unreadable(let file, _), .malformed(let file, _), .invalid(let file, _),
            .externalData(let file, _), .unsupported(let file, _), .writeFailed(let file, _):
            file
        }
    }

    /// The cause, without the file name.
    public var reason: String {
        switch self {
        case .unreadable(_, let reason), .malformed(_, let reason), .invalid(_, let reason),
            .externalData(_, let reason), .unsupported(_, let reason), .writeFailed(_, let reason):
            reason
        }
    }

    public var description: String { "\(file): \(reason)" }
}
