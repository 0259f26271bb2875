import CHDF5

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A recursive mutex (VigilHDF5 does not use Foundation, so that the reader process stays small).
final class RecursiveLock: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>

    init() {
        mutex = .allocate(capacity: 1)
        var attributes = pthread_mutexattr_t()
        pthread_mutexattr_init(&attributes)
        pthread_mutexattr_settype(&attributes, Int32(PTHREAD_MUTEX_RECURSIVE))
        pthread_mutex_init(mutex, &attributes)
        pthread_mutexattr_destroy(&attributes)
    }

    func lock() { pthread_mutex_lock(mutex) }
    func unlock() { pthread_mutex_unlock(mutex) }
}

/// Serializes every call into the HDF5 library (the serial build is not thread-safe) and silences
/// its own error printing once.
enum HDF5Library {
    static let lock: RecursiveLock = {
        let lock = RecursiveLock()
        lock.lock()
        _ = H5open()
        vigil_h5e_silence()
        lock.unlock()
        return lock
    }()

    static func locked<R, E: Error>(_ body: () throws(E) -> R) throws(E) -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    /// The messages on HDF5's error stack (outermost first), clearing it.
    static func takeMessages() -> String {
        var buffer = [CChar](repeating: 0, count: 2048)
        let count = buffer.withUnsafeMutableBufferPointer { vigil_h5e_take_messages($0.baseAddress, $0.count) }
        guard count > 0 else { return "" }
        return String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// An HDF5 identifier owned by Swift: closed exactly once, by ``close()`` or at `deinit`.
final class Handle {
    private(set) var id: hid_t
    private let closer: (hid_t) -> herr_t

    init(_ id: hid_t, closer: @escaping (hid_t) -> herr_t) {
        self.id = id
        self.closer = closer
    }

    var isOpen: Bool { id >= 0 }

    func close() {
        guard id >= 0 else { return }
        HDF5Library.locked { _ = closer(id) }
        id = -1
    }

    deinit { close() }
}

/// A NUL-terminated C buffer as a String (UTF-8, invalid bytes repaired).
func decodeCString(_ buffer: [CChar]) -> String {
    let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
    return String(decoding: bytes, as: UTF8.self)
}
