#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file written under a temporary name in the destination's folder and renamed into place by
/// ``commit()``. If it is never committed, the temporary file is removed, so a failed write leaves
/// nothing half-written at the destination.
final class AtomicFile {
    let destination: String
    let temporaryPath: String
    private(set) var fd: Int32
    private var committed = false

    init(destination: String) throws(ONNXError) {
        self.destination = destination
        let directory = ONNXReader.directory(of: destination)
        let base = destination.split(separator: "/").last.map(String.init) ?? destination
        var template = Array("\(directory)/.\(base).tmp-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else {
            throw .writeFailed(file: destination, reason: "cannot create a temporary file in '\(directory)': \(errnoMessage())")
        }
        self.fd = fd
        self.temporaryPath = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        _ = fchmod(fd, 0o644)
    }

    /// Writes all bytes or throws.
    func write(_ bytes: UnsafeRawBufferPointer) throws(ONNXError) {
        var offset = 0
        while offset < bytes.count {
            let n = systemWrite(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                throw .writeFailed(file: destination, reason: "write failed: \(errnoMessage())")
            }
            offset += n
        }
    }

    /// Flushes, closes and renames the file into place.
    func commit() throws(ONNXError) {
        guard fsync(fd) == 0 else { throw .writeFailed(file: destination, reason: "fsync failed: \(errnoMessage())") }
        close(fd)
        fd = -1
        guard rename(temporaryPath, destination) == 0 else {
            throw .writeFailed(file: destination, reason: "cannot move the finished file into place: \(errnoMessage())")
        }
        committed = true
    }

    deinit {
        if fd >= 0 { close(fd) }
        if !committed { unlink(temporaryPath) }
    }
}

/// Collects tensor bytes into one external data file, each tensor at a 64-byte aligned offset.
final class ExternalDataWriter {
    let threshold: Int
    /// The location written into the model, relative to the model's folder.
    let location: String
    let file: AtomicFile
    private(set) var size = 0
    private(set) var tensorCount = 0

    init(threshold: Int, location: String, directory: String) throws(ONNXError) {
        self.threshold = threshold
        self.location = location
        self.file = try AtomicFile(destination: directory + "/" + location)
    }

    /// Appends bytes and returns their offset.
    func append(_ bytes: UnsafeRawBufferPointer) throws(ONNXError) -> Int {
        let padding = (64 - size % 64) % 64
        if padding > 0 {
            let zeros = UnsafeMutableRawBufferPointer.allocate(byteCount: padding, alignment: 1)
            defer { zeros.deallocate() }
            zeros.initializeMemory(as: UInt8.self, repeating: 0)
            try file.write(UnsafeRawBufferPointer(zeros))
            size += padding
        }
        let offset = size
        try file.write(bytes)
        size += bytes.count
        tensorCount += 1
        return offset
    }
}

#if canImport(Glibc)
private let systemWrite = Glibc.write
#elseif canImport(Darwin)
private let systemWrite = Darwin.write
#endif
