import Foundation

/// Errors from any library as one line in plain words, and the checks that give input files their
/// plain messages before a library sees them.
enum ErrorText {
    /// One line for `error`: Foundation and POSIX errors in words (naming `path` when given), any
    /// other error's description with line breaks folded.
    static func plain(_ error: any Error, path: String? = nil) -> String {
        let text: String
        if let failure = error as? CommandFailure {
            text = failure.description
        } else if let described = foundationText(error, path: path) {
            text = path.map { "\($0): \(described)" } ?? described
        } else {
            text = String(describing: error)
        }
        return oneLine(text)
    }

    /// Line breaks and runs of spaces become single spaces.
    static func oneLine(_ text: String) -> String {
        text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            .joined(separator: " ")
    }

    /// Plain words for `NSError`s of the Cocoa and POSIX domains (what `Data(contentsOf:)`,
    /// `FileManager` and friends throw), or `nil` for other errors.
    static func foundationText(_ error: any Error, path: String?) -> String? {
        let ns = error as NSError
        if ns.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(ns.code))).lowercased() }
        guard ns.domain == NSCocoaErrorDomain else { return nil }
        if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(underlying.code))).lowercased()
        }
        if let path, let problem = fileProblem(path) { return problem }
        switch ns.code {
        case NSFileNoSuchFileError, NSFileReadNoSuchFileError: return "no such file"
        case NSFileReadNoPermissionError, NSFileWriteNoPermissionError: return "permission denied"
        case NSFileReadTooLargeError: return "the file is too large to read"
        case NSFileReadCorruptFileError: return "the file is damaged"
        case NSFileWriteOutOfSpaceError: return "no space left on the device"
        case NSFileWriteVolumeReadOnlyError: return "the volume is read-only"
        case NSFileReadUnknownError: return "cannot be read"
        case NSFileWriteUnknownError: return "cannot be written"
        default: return "file error \(ns.code)"
        }
    }

    /// Why `path` cannot be read as a file, or `nil` when it is a readable regular file.
    static func fileProblem(_ path: String) -> String? {
        var status = stat()
        guard stat(path, &status) == 0 else {
            return errno == ENOENT ? "no such file" : String(cString: strerror(errno)).lowercased()
        }
        switch status.st_mode & S_IFMT {
        case S_IFREG: break
        case S_IFDIR: return "is a folder, not a file"
        default: return "is not a regular file (a device, socket or pipe)"
        }
        guard access(path, R_OK) == 0 else { return "permission denied" }
        return nil
    }

    /// Fails with one line unless `path` is a readable regular file.
    static func requireReadableFile(_ path: String) throws {
        if path.isEmpty { throw CommandFailure("an empty file name was given") }
        if let problem = fileProblem(path) { throw CommandFailure("\(path): \(problem)") }
    }
}
