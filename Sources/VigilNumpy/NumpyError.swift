/// An error reading or writing `.npy` / `.npz` files; its description is one line naming the file.
public struct NumpyError: Error, Equatable, CustomStringConvertible {
    /// The file (for `.npz` members: `archive.npz:member`).
    public let file: String
    /// The cause.
    public let reason: String

    public init(file: String, reason: String) {
        self.file = file
        self.reason = reason
    }

    public var description: String { "\(file): \(reason)" }
}
