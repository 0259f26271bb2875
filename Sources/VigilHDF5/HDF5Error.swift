/// An HDF5 failure, with the file and the object inside it where it happened.
public struct HDF5Error: Error, Equatable, CustomStringConvertible {
    /// What went wrong.
    public enum Kind: Equatable, Sendable {
        /// The file does not exist or cannot be read.
        case cannotOpen
        /// The file is not in HDF5 format (no HDF5 signature).
        case notHDF5
        /// The object (group, dataset or attribute) does not exist.
        case missing
        /// The object exists but is of another kind (a dataset where a group was expected, …).
        case wrongKind
        /// The object's data type cannot be converted to what the caller asked for.
        case unsupportedType
        /// The HDF5 library reported an error (a truncated or corrupt file, an I/O error, …).
        case library
        /// The handle was already closed.
        case closed
        /// The file uses something Vigil does not follow in files it did not write: external
        /// storage, external or soft links, virtual datasets, an object linked from two places.
        case refused
        /// The file exceeds a resource limit (declared data size, number of objects, depth, …).
        case limit
        /// The isolated reader process crashed, ran out of memory or time (libhdf5 failed on the file).
        case readerFailed
    }

    public var kind: Kind
    /// The file's path.
    public var file: String
    /// The object's path inside the file (`/model_weights/dense`, or `/model_weights/dense@weight_names`
    /// for an attribute).
    public var object: String
    /// A description, including HDF5's own error messages when it gave any.
    public var message: String

    public init(_ kind: Kind, file: String, object: String, message: String) {
        self.kind = kind
        self.file = file
        self.object = object
        self.message = message
    }

    /// `file: object: message`, without the object for the file itself (`/`).
    public var description: String { object == "/" ? "\(file): \(message)" : "\(file): \(object): \(message)" }
}
