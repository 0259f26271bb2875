import Foundation
import VigilFiles

/// A generated package could not be written. Its description is one line naming the path.
public struct CodegenError: Error, Equatable, CustomStringConvertible {
    public var path: String
    public var reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { "\(path): \(reason)" }
}

/// Writes a generated package folder whole or not at all.
///
/// Everything is written into a new hidden folder beside the destination, which then takes the
/// destination's place, so a failure leaves nothing behind and never a half-written package. An
/// existing folder that is not empty is replaced only with `force`, and never when it holds a
/// protected path (the model being wrapped, the Vigil checkout). All file writing of `vigil swift`
/// goes through ``write(to:force:protecting:populate:)``, so that it can move to a shared writer.
public enum PackageOutput {
    /// Checks that `path` may receive the package before anything is computed or written.
    ///
    /// - Throws: ``CodegenError`` when the path is a symbolic link, a file or a device, when its
    ///   parent folder is missing, when it is a folder that is not empty and `force` is false, or
    ///   when it contains one of `protected`.
    public static func checkDestination(_ path: String, force: Bool, protecting protected: [String] = []) throws(CodegenError) {
        let url = URL(fileURLWithPath: path).standardizedFileURL
        let manager = FileManager.default
        var status = stat()
        if lstat(url.path, &status) != 0 {
            var isDirectory: ObjCBool = false
            let parent = url.deletingLastPathComponent().path
            guard manager.fileExists(atPath: parent, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw CodegenError(path: path, reason: "the parent folder \(parent) does not exist")
            }
            return
        }
        switch status.st_mode & S_IFMT {
        case S_IFLNK: throw CodegenError(path: path, reason: "is a symbolic link; give a folder path")
        case S_IFDIR: break
        default: throw CodegenError(path: path, reason: "exists and is not a folder")
        }
        let entries = (try? manager.contentsOfDirectory(atPath: url.path)) ?? []
        guard !entries.isEmpty else { return }
        guard force else { throw CodegenError(path: path, reason: "exists and is not empty; use --force to replace it") }
        func withSlash(_ path: String) -> String { path.hasSuffix("/") ? path : path + "/" }
        let folder = withSlash(url.resolvingSymlinksInPath().path)
        for item in protected {
            let resolved = URL(fileURLWithPath: item).standardizedFileURL.resolvingSymlinksInPath().path
            if withSlash(resolved).hasPrefix(folder) {
                throw CodegenError(path: path, reason: "contains \(item); --force would delete it, so choose another folder")
            }
        }
    }

    /// Writes the package: checks the destination, lets `populate` fill a fresh folder beside it
    /// (a `StagingFolder` of VigilFiles, removed if `populate` fails or a signal ends the process), then
    /// puts that folder in the destination's place (replacing an existing one).
    public static func write(
        to path: String, force: Bool, protecting protected: [String] = [], populate: (URL) throws -> Void
    ) throws(CodegenError) {
        try checkDestination(path, force: force, protecting: protected)
        let destination = URL(fileURLWithPath: path).standardizedFileURL
        let staging: StagingFolder
        do { staging = try StagingFolder(beside: destination.path) } catch { throw CodegenError(path: path, reason: error.reason) }
        let aside = destination.deletingLastPathComponent()
            .appendingPathComponent(".\(destination.lastPathComponent).vigil-old-\(UUID().uuidString.prefix(8))")
        let manager = FileManager.default
        do {
            try populate(URL(fileURLWithPath: staging.path, isDirectory: true))
        } catch {
            staging.remove()
            throw error as? CodegenError ?? CodegenError(path: path, reason: "cannot write: \(error.localizedDescription)")
        }
        let existed = manager.fileExists(atPath: destination.path)
        if existed && rename(destination.path, aside.path) != 0 {
            staging.remove()
            throw CodegenError(path: path, reason: "cannot replace: \(String(cString: strerror(errno)))")
        }
        guard rename(staging.path, destination.path) == 0 else {
            let reason = String(cString: strerror(errno))
            if existed { _ = rename(aside.path, destination.path) }
            staging.remove()
            throw CodegenError(path: path, reason: "cannot write: \(reason)")
        }
        staging.release()
        if existed { try? manager.removeItem(at: aside) }
    }

    /// Writes text files (paths relative to `folder`), creating their folders.
    public static func writeFiles(_ files: [(path: String, contents: String)], into folder: URL) throws {
        for (path, contents) in files {
            let url = folder.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(contents.utf8).write(to: url)
        }
    }

    /// Copies a file to `path` relative to `folder`, creating its folders.
    public static func copyFile(_ source: URL, to path: String, into folder: URL) throws {
        let url = folder.appendingPathComponent(path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: source, to: url)
    }
}
