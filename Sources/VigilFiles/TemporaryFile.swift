import CVigilCleanup
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A scratch file (for example an archive member a library can only open by path), removed when
/// released and, like an ``OutputFile``'s temporary file, on SIGINT, SIGTERM, SIGHUP or SIGQUIT.
public final class TemporaryFile {
    /// Its path.
    public let path: String
    private var slot: Int32

    /// Creates an empty file `vigil-PREFIX-XXXXXX` in `directory` (default: `$TMPDIR` or `/tmp`)
    /// and writes `bytes` to it.
    public convenience init(prefix: String, contents data: Data, in directory: String? = nil) throws(OutputError) {
        try self.init(prefix: prefix, contents: data.withUnsafeBytes { [UInt8]($0) }, in: directory)
    }

    /// Creates the file and writes `bytes` to it.
    public init(prefix: String, contents bytes: [UInt8], in directory: String? = nil) throws(OutputError) {
        let folder = directory ?? Self.defaultDirectory
        let created = try OutputFile.createTemporary(in: folder, for: "\(folder)/vigil-\(prefix)")
        path = created.path
        slot = created.slot
        defer { close(created.fd) }
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { systemWrite(created.fd, $0.baseAddress! + offset, bytes.count - offset) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                let cause = errnoText()
                remove()
                throw OutputError(.ioFailure, path: path, reason: "cannot write a temporary file: \(cause)")
            }
            offset += n
        }
    }

    deinit { remove() }

    /// Removes the file now.
    public func remove() {
        guard slot != -2 else { return }
        unlink(path)
        vigil_cleanup_unregister(slot)
        slot = -2
    }

    static var defaultDirectory: String {
        if let value = getenv("TMPDIR"), value.pointee != 0 { return String(cString: value) }
        return "/tmp"
    }
}
