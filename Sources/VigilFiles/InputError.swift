/// Why an input file (or a member of an archive) was refused. Its description is one line.
public struct InputError: Error, Equatable, CustomStringConvertible, Sendable {
    /// The file, or `archive:member` for a member of an archive.
    public var file: String
    /// The cause, without the file.
    public var reason: String

    public init(file: String, reason: String) {
        self.file = file
        self.reason = reason
    }

    public var description: String { "\(file): \(reason)" }
}
