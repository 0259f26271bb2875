import CVigilCleanup
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The one way Vigil writes a file: whole or not at all, and never over something it must not replace.
///
/// The bytes go to a temporary file in the destination's folder (`.NAME.tmp-XXXXXX`), which
/// ``commit()`` flushes (`fsync`), renames over the destination and makes durable (`fsync` of the
/// folder). A file that is never committed is removed when the object is released, and on
/// SIGINT, SIGTERM, SIGHUP or SIGQUIT by a signal handler, so an interrupted or failed write leaves
/// nothing behind.
///
/// Before anything is created, and again just before the rename, the destination is checked: it
/// must not exist, or be a regular file that is not one of the `inputs` (compared by device and
/// inode, so hard links count). A symbolic link, directory, device, FIFO or socket at the
/// destination is refused, with no override.
///
/// ```swift
/// let inputs = InputFiles(["model.onnx"])
/// try OutputFile.write(bytes, to: "out.onnx", protecting: inputs)
/// ```
public final class OutputFile {
    /// Where the file ends up.
    public let destination: String
    /// Where it is written until ``commit()``; writers that need a path (HDF5) write here.
    public let temporaryPath: String
    /// The temporary file's descriptor, open for writing until ``commit()`` or ``discard()``.
    public private(set) var fileDescriptor: Int32
    private let inputs: InputFiles
    private var cleanupSlot: Int32
    private var finished = false

    /// Checks the destination and creates the temporary file.
    public init(_ destination: String, protecting inputs: InputFiles = InputFiles()) throws(OutputError) {
        let existing = try Self.check(destination, protecting: inputs)
        self.destination = destination
        self.inputs = inputs
        let directory = Self.directory(of: destination)
        let created = try Self.createTemporary(in: directory, for: destination)
        temporaryPath = created.path
        fileDescriptor = created.fd
        cleanupSlot = created.slot
        let mode = existing.map { $0.st_mode & 0o777 } ?? Self.newFileMode
        _ = fchmod(fileDescriptor, mode)
    }

    deinit { discard() }

    /// Writes all of `bytes`, retrying short writes.
    public func write(_ bytes: UnsafeRawBufferPointer) throws(OutputError) {
        guard !finished, fileDescriptor >= 0 else { throw OutputError(.ioFailure, path: destination, reason: "the file was already closed") }
        guard var base = bytes.baseAddress else { return }
        var remaining = bytes.count
        while remaining > 0 {
            let n = systemWrite(fileDescriptor, base, remaining)
            if n < 0 {
                if errno == EINTR { continue }
                throw failure("cannot write: \(errnoText())")
            }
            base += n
            remaining -= n
        }
    }

    /// Writes all of `bytes`.
    public func write(_ bytes: [UInt8]) throws(OutputError) {
        try bytes.withUnsafeBytes { buffer in Result { () throws(OutputError) in try write(buffer) } }.get()
    }

    /// Writes all of `data`.
    public func write(_ data: Data) throws(OutputError) {
        try data.withUnsafeBytes { buffer in Result { () throws(OutputError) in try write(buffer) } }.get()
    }

    /// Flushes the file to disk, checks the destination again and renames the file into place.
    public func commit() throws(OutputError) {
        guard !finished else { throw OutputError(.ioFailure, path: destination, reason: "the file was already finished") }
        if fileDescriptor >= 0 {
            guard fsync(fileDescriptor) == 0 else { throw failure("cannot flush to disk: \(errnoText())") }
            guard close(fileDescriptor) == 0 else {
                fileDescriptor = -1
                throw failure("cannot close: \(errnoText())")
            }
            fileDescriptor = -1
        }
        // Something may have appeared at the destination while this file was being written.
        do { _ = try Self.check(destination, protecting: inputs) } catch {
            discard()
            throw error
        }
        guard rename(temporaryPath, destination) == 0 else {
            let cause = errnoText()
            discard()
            throw OutputError(.ioFailure, path: destination, reason: "cannot move the finished file into place: \(cause)")
        }
        finished = true
        vigil_cleanup_unregister(cleanupSlot)
        cleanupSlot = -1
        Self.syncDirectory(Self.directory(of: destination))
    }

    /// Removes the temporary file; the destination is untouched. Safe to call more than once.
    public func discard() {
        if fileDescriptor >= 0 {
            close(fileDescriptor)
            fileDescriptor = -1
        }
        guard !finished else { return }
        finished = true
        unlink(temporaryPath)
        vigil_cleanup_unregister(cleanupSlot)
        cleanupSlot = -1
    }

    private func failure(_ reason: String) -> OutputError {
        OutputError(.ioFailure, path: destination, reason: reason)
    }
}

extension OutputFile {
    /// Writes `bytes` to `destination`, whole or not at all.
    public static func write(_ bytes: UnsafeRawBufferPointer, to destination: String, protecting inputs: InputFiles = InputFiles()) throws(OutputError) {
        let file = try OutputFile(destination, protecting: inputs)
        try file.write(bytes)
        try file.commit()
    }

    /// Writes `bytes` to `destination`, whole or not at all.
    public static func write(_ bytes: [UInt8], to destination: String, protecting inputs: InputFiles = InputFiles()) throws(OutputError) {
        let file = try OutputFile(destination, protecting: inputs)
        try file.write(bytes)
        try file.commit()
    }

    /// Writes `data` to `destination`, whole or not at all.
    public static func write(_ data: Data, to destination: String, protecting inputs: InputFiles = InputFiles()) throws(OutputError) {
        let file = try OutputFile(destination, protecting: inputs)
        try file.write(data)
        try file.commit()
    }

    /// Checks every destination without writing anything (so that a command can refuse a bad
    /// output path before doing its work). Throws the first refusal.
    public static func checkDestinations(_ destinations: [String], protecting inputs: InputFiles = InputFiles()) throws(OutputError) {
        for destination in destinations { _ = try check(destination, protecting: inputs) }
    }

    /// The folder a path is in (`.` for a bare name).
    public static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let directory = String(path[..<slash])
        return directory.isEmpty ? "/" : directory
    }
}

#if canImport(Glibc)
let systemWrite = Glibc.write
#elseif canImport(Darwin)
let systemWrite = Darwin.write
#endif

func errnoText() -> String { String(cString: strerror(errno)) }
