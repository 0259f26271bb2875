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

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

extension NumpyError {
    /// Why a file could not be read, in plain words (Foundation's own text is a domain and a number).
    static func readFailure(_ path: String, _ error: any Error) -> String {
        var status = stat()
        if stat(path, &status) != 0 { return errno == ENOENT ? "no such file" : "cannot read: \(String(cString: strerror(errno)).lowercased())" }
        if status.st_mode & S_IFMT == S_IFDIR { return "is a folder, not a file" }
        if status.st_mode & S_IFMT != S_IFREG { return "is not a regular file (a device, socket or pipe)" }
        if access(path, R_OK) != 0 { return "permission denied" }
        if let underlying = (error as NSError).userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return "cannot read: \(String(cString: strerror(Int32(underlying.code))).lowercased())"
        }
        return "cannot read the file"
    }
}
