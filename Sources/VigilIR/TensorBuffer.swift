/// Immutable bytes that back a tensor: owned heap memory, or memory someone else owns
/// (an mmapped external-data file, a buffer taken over from a decoder) released through a closure.
///
/// The IR never copies these bytes implicitly; passes that change data make new buffers.
public final class TensorBuffer: @unchecked Sendable {
    /// Start of the bytes. Valid while this buffer lives.
    public let baseAddress: UnsafeRawPointer
    /// Number of bytes.
    public let count: Int
    private let release: (@Sendable (UnsafeRawPointer) -> Void)?

    /// Wraps memory owned elsewhere; `release` runs once when the buffer is freed.
    public init(unsafeBytes baseAddress: UnsafeRawPointer, count: Int, release: (@Sendable (UnsafeRawPointer) -> Void)?) {
        self.baseAddress = baseAddress
        self.count = count
        self.release = release
    }

    /// Allocates `count` bytes and lets `initialize` fill them.
    public init(count: Int, initialize: (UnsafeMutableRawBufferPointer) throws -> Void) rethrows {
        let memory = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1), alignment: 64)
        do {
            try initialize(UnsafeMutableRawBufferPointer(start: memory, count: count))
        } catch {
            memory.deallocate()
            throw error
        }
        self.baseAddress = UnsafeRawPointer(memory)
        self.count = count
        self.release = { $0.deallocate() }
    }

    /// Copies the given bytes.
    public convenience init(copying bytes: UnsafeRawBufferPointer) {
        self.init(count: bytes.count) { target in
            if let source = bytes.baseAddress, bytes.count > 0 {
                target.baseAddress!.copyMemory(from: source, byteCount: bytes.count)
            }
        }
    }

    deinit { release?(baseAddress) }

    /// The bytes, for reading.
    public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: baseAddress, count: count) }
}
