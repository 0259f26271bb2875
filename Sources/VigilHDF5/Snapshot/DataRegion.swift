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

    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    deinit {
        if let mapping { munmap(mapping.address, mapping.length) }
    }
}
