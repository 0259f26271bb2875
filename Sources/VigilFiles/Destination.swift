import CVigilCleanup

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The checks on a destination and the creation of temporary files.
extension OutputFile {
    /// Checks that `destination` may be written: it does not exist (and its folder does), or it is
    /// a regular file that is none of the `inputs`. Returns what is there now (`nil`: nothing).
    static func check(_ destination: String, protecting inputs: InputFiles) throws(OutputError) -> stat? {
        func refuse(_ kind: OutputError.Kind, _ reason: String) -> OutputError { OutputError(kind, path: destination, reason: reason) }
        guard !destination.isEmpty else { throw refuse(.ioFailure, "an empty output path") }
        var info = stat()
        guard lstat(destination, &info) == 0 else {
            let code = errno
            guard code == ENOENT else {
                throw refuse(.ioFailure, code == ENOTDIR ? "cannot write: a component of the path is not a folder" : "cannot examine the output path: \(String(cString: strerror(code)))")
            }
            try checkFolder(of: destination)
            return nil
        }
        switch info.st_mode & S_IFMT {
        case S_IFREG:
            if let input = inputs.input(matching: FileIdentity(info)) {
                let same = input == destination ? "is also an input of this command" : "is the same file as the input '\(input)' (same device and inode)"
                throw refuse(.sameAsInput, "\(same); refusing to overwrite an input")
            }
            return info
        case S_IFLNK:
            throw refuse(.symbolicLink, "is a symbolic link; refusing to write through or replace it (name the real file, or remove the link)")
        default:
            throw refuse(.notRegularFile, "is \(kindName(info.st_mode)), not a regular file; refusing to replace it")
        }
    }

    private static func checkFolder(of destination: String) throws(OutputError) {
        let folder = directory(of: destination)
        var info = stat()
        guard stat(folder, &info) == 0 else {
            let cause = errno == ENOENT ? "the folder '\(folder)' does not exist" : "cannot examine the folder '\(folder)': \(errnoText())"
            throw OutputError(.ioFailure, path: destination, reason: "cannot write: \(cause)")
        }
        guard info.st_mode & S_IFMT == S_IFDIR else {
            throw OutputError(.ioFailure, path: destination, reason: "cannot write: '\(folder)' is not a folder")
        }
    }

    static func kindName(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFDIR: "a directory"
        case S_IFCHR: "a character device"
        case S_IFBLK: "a block device"
        case S_IFIFO: "a FIFO (named pipe)"
        case S_IFSOCK: "a socket"
        default: "a special file"
        }
    }

    /// The process's umask, read once (reading it means setting it).
    static let creationMask: mode_t = {
        let mask = umask(0o022)
        umask(mask)
        return mask
    }()
    /// Permissions of a new file: rw for everyone the umask allows.
    static let newFileMode: mode_t = 0o666 & ~creationMask
    /// Permissions of a new folder: rwx for everyone the umask allows.
    static let newFolderMode: mode_t = 0o777 & ~creationMask

    /// Creates `.NAME.tmp-XXXXXX` in `directory` and registers it for removal on a signal. Signals
    /// are blocked in between so that an interrupt cannot leave an unregistered file behind.
    static func createTemporary(in directory: String, for destination: String) throws(OutputError) -> (path: String, fd: Int32, slot: Int32) {
        let name = String(destination.split(separator: "/").last ?? "output").prefix(160)
        var template = Array("\(directory)/.\(name).tmp-XXXXXX".utf8CString)
        return try creatingRegistered { () throws(OutputError) in
            let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
            guard fd >= 0 else {
                throw OutputError(.ioFailure, path: destination, reason: "cannot create a file in the folder '\(directory)': \(errnoText())")
            }
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            let path = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            return (path, fd, vigil_cleanup_register(path))
        }
    }

    /// Runs `create`, which creates a temporary file or folder and registers it with the signal
    /// cleanup, so that an interrupt cannot leave it unregistered: this thread blocks the signals
    /// meanwhile, and a signal another thread takes in between is deferred by the handler until the
    /// registration (raised again at the end, delivered when the mask is restored).
    static func creatingRegistered<T>(_ create: () throws(OutputError) -> T) throws(OutputError) -> T {
        vigil_cleanup_install()
        var blocked = sigset_t(), previous = sigset_t()
        sigemptyset(&blocked)
        for signal in [SIGINT, SIGTERM, SIGHUP, SIGQUIT] { sigaddset(&blocked, signal) }
        pthread_sigmask(SIG_BLOCK, &blocked, &previous)
        defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
        vigil_cleanup_begin_create()
        defer { vigil_cleanup_end_create() }
        return try create()
    }

    /// Makes a rename durable. Some file systems cannot sync a folder; that is not an error.
    static func syncDirectory(_ directory: String) {
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        close(fd)
    }
}
