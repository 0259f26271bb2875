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
        let url = URL(fileURLWithPath: destination).standardizedFileURL
        let parent = url.deletingLastPathComponent().path, name = String(url.lastPathComponent.prefix(160))
        var template = Array("\(parent)/.\(name).vigil-new-XXXXXX".utf8CString)
        (path, slot) = try OutputFile.creatingRegistered { () throws(OutputError) in
            guard template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) != nil else {
                throw OutputError(.ioFailure, path: destination, reason: "cannot create a folder in '\(parent)': \(errnoText())")
            }
            let path = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            return (path, vigil_cleanup_register_tree(path))
        }
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
