import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Opening input files without blocking on FIFOs and without reading devices.
public enum RegularFile {
    /// Checks that `path` names a regular file (following symlinks), opening it without blocking
    /// (a FIFO opened for reading would otherwise wait for a writer forever). Returns an open
    /// descriptor and the file's size; the caller closes the descriptor.
    public static func open(_ path: String) throws(InputError) -> (fd: Int32, size: Int) {
        let fd = systemOpen(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { throw InputError(file: path, reason: "cannot read: \(errnoText())") }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let cause = errnoText()
            close(fd)
            throw InputError(file: path, reason: "cannot read: \(cause)")
        }
        guard info.st_mode & S_IFMT == S_IFREG else {
            close(fd)
            throw InputError(file: path, reason: "is \(OutputFile.kindName(info.st_mode)), not a regular file")
        }
        return (fd, Int(info.st_size))
    }

    /// The size of the regular file at `path` (refusing anything else, without blocking).
    public static func size(of path: String) throws(InputError) -> Int {
        let (fd, size) = try open(path)
        close(fd)
        return size
    }

    /// The file's bytes, memory-mapped (read-only, private).
    public static func map(_ path: String) throws(InputError) -> Data {
        let (fd, size) = try open(path)
        defer { close(fd) }
        guard size > 0 else { return Data() }
        guard let address = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), address != MAP_FAILED else {
            throw InputError(file: path, reason: "cannot map \(size) bytes: \(errnoText())")
        }
        return Data(bytesNoCopy: address, count: size, deallocator: .custom { pointer, count in munmap(pointer, count) })
    }
}

#if canImport(Glibc)
private func systemOpen(_ path: String, _ flags: Int32) -> Int32 { Glibc.open(path, flags) }
#elseif canImport(Darwin)
private func systemOpen(_ path: String, _ flags: Int32) -> Int32 { Darwin.open(path, flags) }
#endif
