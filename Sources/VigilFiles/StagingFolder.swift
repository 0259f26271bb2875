import CVigilCleanup
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A fresh folder beside a destination folder, filled and then renamed into the destination's place
/// (as `vigil swift` writes a package). Until ``release()``, it is removed with everything in it on
/// SIGINT, SIGTERM, SIGHUP or SIGQUIT (as an ``OutputFile``'s temporary file is), and by ``remove()``.
public final class StagingFolder {
    /// Its path: `.NAME.vigil-new-XXXXXX` in the destination's parent folder.
    public let path: String
    private var slot: Int32

    /// Creates the folder beside `destination` (a path whose parent folder exists).
    public init(beside destination: String) throws(OutputError) {
        vigil_cleanup_install()
        let url = URL(fileURLWithPath: destination).standardizedFileURL
        let parent = url.deletingLastPathComponent().path, name = String(url.lastPathComponent.prefix(160))
        var template = Array("\(parent)/.\(name).vigil-new-XXXXXX".utf8CString)
        var blocked = sigset_t(), previous = sigset_t()
        sigemptyset(&blocked)
        for signal in [SIGINT, SIGTERM, SIGHUP, SIGQUIT] { sigaddset(&blocked, signal) }
        pthread_sigmask(SIG_BLOCK, &blocked, &previous)
        defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
        // As for temporary files: a signal another thread takes before the registration is deferred
        // until the folder is registered.
        vigil_cleanup_begin_create()
        defer { vigil_cleanup_end_create() }
        let created = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) } != nil
        guard created else {
            throw OutputError(.ioFailure, path: destination, reason: "cannot create a folder in '\(parent)': \(errnoText())")
        }
        path = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        slot = vigil_cleanup_register_tree(path)
        chmod(path, OutputFile.newFolderMode)  // mkdtemp's 0700 -> what a new folder gets
    }

    deinit { remove() }

    /// Stops watching the folder (once it has been renamed into place): it is no longer removed.
    public func release() {
        guard slot != -2 else { return }
        vigil_cleanup_unregister(slot)
        slot = -2
    }

    /// Removes the folder with everything in it now.
    public func remove() {
        guard slot != -2 else { return }
        try? FileManager.default.removeItem(atPath: path)
        vigil_cleanup_unregister(slot)
        slot = -2
    }
}
