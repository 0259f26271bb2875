#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The memory a snapshot's elements live in: a mapping released when the last dataset, buffer or
/// tensor using it is gone.
final class DataRegion: @unchecked Sendable {
    let base: UnsafeMutableRawPointer?
    let count: Int
    /// Offset of the data inside the mapping (the mapping may start with a header).
    private let mapping: (address: UnsafeMutableRawPointer, length: Int)?

    /// An empty region.
    init() {
        base = nil
        count = 0
        mapping = nil
    }

    /// Wraps `length` mapped bytes at `address`, of which `count` from `offset` are the data.
    init(mapping address: UnsafeMutableRawPointer, length: Int, offset: Int, count: Int) {
        mapping = (address, length)
        base = address + offset
        self.count = count
    }

    /// Anonymous memory for `count` bytes (zeroed), or `nil` when it cannot be mapped.
    static func anonymous(count: Int) -> DataRegion? {
        guard count > 0 else { return DataRegion() }
        guard let address = mmap(nil, count, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), address != MAP_FAILED else { return nil }
        return DataRegion(mapping: address, length: count, offset: 0, count: count)
    }

    /// A whole file mapped copy-on-write (writes through a borrowed pointer stay private), or an
    /// empty region for an empty file; `nil` when it cannot be opened or mapped.
    static func mapFile(_ path: String) -> DataRegion? {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { return nil }
        let size = Int(info.st_size)
        guard size > 0 else { return DataRegion() }
        guard let address = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0), address != MAP_FAILED else { return nil }
        return DataRegion(mapping: address, length: size, offset: 0, count: size)
    }

    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    deinit {
        if let mapping { munmap(mapping.address, mapping.length) }
    }
}
