/// Why an output file was not written. Its description is one line: the path, then the cause.
public struct OutputError: Error, Equatable, CustomStringConvertible, Sendable {
    /// What kind of refusal or failure it was.
    public enum Kind: Equatable, Sendable {
        /// The destination is a symbolic link (never followed or replaced, even with `--force`).
        case symbolicLink
        /// The destination exists and is not a regular file (directory, device, FIFO, socket).
        case notRegularFile
        /// The destination is the same file (device and inode) as an input.
        case sameAsInput
        /// The destination's folder is missing or not writable, or a write, flush or rename failed.
        case ioFailure
    }

    public var kind: Kind
    /// The destination path.
    public var path: String
    /// The cause, without the path.
    public var reason: String

    public init(_ kind: Kind, path: String, reason: String) {
        self.kind = kind
        self.path = path
        self.reason = reason
    }

    public var description: String { "\(path): \(reason)" }
}
