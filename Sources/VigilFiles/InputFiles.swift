#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// The identity of a file on disk: device and inode, so every hard link to it compares equal.
public struct FileIdentity: Hashable, Sendable {
    public var device: UInt64
    public var inode: UInt64

    /// The identity of what `path` names, following symbolic links; `nil` when it cannot be examined.
    public init?(path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        self.init(info)
    }

    init(_ info: stat) {
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
    }
}

/// The files a command (or a library call) reads, which its outputs must never replace.
///
/// Each file is identified when it is added, by device and inode, so an output path that is the
/// same file under another name (a hard link, a symlinked folder, `./x` for `x`) is caught too.
/// Thread-safe; a reference type so that readers and writers can share one set.
public final class InputFiles: @unchecked Sendable {
    private let lock = NSLock()
    private var byIdentity: [FileIdentity: String] = [:]

    /// An empty set, or one holding `paths` (paths that do not exist are skipped).
    public init(_ paths: [String] = []) {
        for path in paths { add(path) }
    }

    /// Adds a file read as input; a path that does not exist (yet) is ignored.
    public func add(_ path: String) {
        guard let identity = FileIdentity(path: path) else { return }
        lock.lock()
        defer { lock.unlock() }
        if byIdentity[identity] == nil { byIdentity[identity] = path }
    }

    /// Adds several files.
    public func add(contentsOf paths: some Sequence<String>) {
        for path in paths { add(path) }
    }

    /// The input path recorded for a file identity, if that file is an input.
    public func input(matching identity: FileIdentity) -> String? {
        lock.lock()
        defer { lock.unlock() }
        return byIdentity[identity]
    }

    /// The recorded input paths.
    public var paths: [String] {
        lock.lock()
        defer { lock.unlock() }
        return byIdentity.values.sorted()
    }

    /// A set holding the inputs of both.
    public func union(_ other: InputFiles) -> InputFiles {
        let result = InputFiles()
        for source in [self, other] {
            source.lock.lock()
            result.byIdentity.merge(source.byIdentity) { first, _ in first }
            source.lock.unlock()
        }
        return result
    }
}
