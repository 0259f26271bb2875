#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A read-only, private memory mapping of a whole regular file, unmapped when released.
final class MappedFile: @unchecked Sendable {
    let path: String
    let baseAddress: UnsafeRawPointer?
    let size: Int
    /// Hard-link count of the file when it was opened.
    let linkCount: Int

    /// Maps `path`; `what` names the file's role in error messages.
    init(path: String, reportAs file: String) throws(ONNXError) {
        self.path = path
        // O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused below like any
        // other file that is not regular.
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { throw .unreadable(file: file, reason: "cannot open: \(errnoMessage())") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .unreadable(file: file, reason: "cannot stat: \(errnoMessage())") }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw .unreadable(file: file, reason: "not a regular file") }
        size = Int(info.st_size)
        linkCount = Int(info.st_nlink)
        if size == 0 {
            baseAddress = nil
            return
        }
        guard let address = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), address != MAP_FAILED else {
            throw .unreadable(file: file, reason: "cannot map \(size) bytes: \(errnoMessage())")
        }
        baseAddress = UnsafeRawPointer(address)
    }

    /// Asks the kernel to read ahead sequentially.
    func adviseSequential() {
        if let baseAddress { _ = madvise(UnsafeMutableRawPointer(mutating: baseAddress), size, MADV_SEQUENTIAL) }
    }

    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: baseAddress, count: size) }

    deinit {
        if let baseAddress { munmap(UnsafeMutableRawPointer(mutating: baseAddress), size) }
    }
}

func errnoMessage() -> String { String(cString: strerror(errno)) }
