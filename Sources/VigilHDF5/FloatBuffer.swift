/// Float elements in memory owned by this object (64-byte aligned), freed when it is released.
public final class FloatBuffer: @unchecked Sendable {
    public let pointer: UnsafeMutablePointer<Float>
    public let count: Int
    /// What owns the memory when this buffer does not (a snapshot's data region).
    private let owner: AnyObject?

    /// Uninitialized memory for `count` floats.
    init(count: Int) {
        self.count = count
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * MemoryLayout<Float>.stride, alignment: 64)
        pointer = raw.bindMemory(to: Float.self, capacity: max(count, 1))
        owner = nil
    }

    /// Elements in memory that `owner` keeps alive (not copied, not freed by this buffer).
    init(borrowing pointer: UnsafeMutablePointer<Float>, count: Int, owner: AnyObject) {
        self.pointer = pointer
        self.count = count
        self.owner = owner
    }

    /// Copies an array.
    public convenience init(_ values: [Float]) {
        self.init(count: values.count)
        values.withUnsafeBufferPointer { source in
            if let base = source.baseAddress { pointer.update(from: base, count: values.count) }
        }
    }

    deinit { if owner == nil { UnsafeMutableRawPointer(pointer).deallocate() } }

    /// The elements, read-only.
    public var elements: UnsafeBufferPointer<Float> { UnsafeBufferPointer(start: pointer, count: count) }

    /// A copy of the elements.
    public var array: [Float] { Array(elements) }
}
