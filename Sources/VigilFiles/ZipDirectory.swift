import CZlib
import Foundation

/// Why a zip archive or member is malformed.
struct ZipFormatError: Error {
    var reason: String
    init(_ reason: String) { self.reason = reason }
}

/// One central-directory entry.
struct ZipEntry {
    var name: String
    var isFile: Bool
    var method: UInt16
    var crc: UInt32
    var compressedSize: UInt64
    var size: UInt64
    var localHeader: UInt64
}

/// Parses a zip archive in memory; every offset and length is checked against the bytes.
struct ZipDirectory {
    let bytes: UnsafeRawBufferPointer

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    func u16(_ at: Int) throws(ZipFormatError) -> UInt16 {
        guard at >= 0, at <= bytes.count - 2 else { throw ZipFormatError("a record runs past the end of the file") }
        return UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8
    }

    func u32(_ at: Int) throws(ZipFormatError) -> UInt32 {
        UInt32(try u16(at)) | UInt32(try u16(at + 2)) << 16
    }

    func u64(_ at: Int) throws(ZipFormatError) -> UInt64 {
        UInt64(try u32(at)) | UInt64(try u32(at + 4)) << 32
    }

    /// A position inside the file, from a 64-bit field.
    func offset(_ value: UInt64) throws(ZipFormatError) -> Int {
        guard value <= UInt64(bytes.count) else { throw ZipFormatError("an offset points past the end of the file") }
        return Int(value)
    }

    /// The end-of-central-directory record: where the directory is and how many entries it holds.
    func directory() throws(ZipFormatError) -> (start: Int, end: Int, count: UInt64) {
        guard bytes.count >= 22 else { throw ZipFormatError("too short for a zip archive") }
        var eocd = -1
        var position = bytes.count - 22
        let lowest = max(0, bytes.count - 22 - 65_535)
        while position >= lowest {
            if try u32(position) == 0x0605_4b50, position + 22 + Int(try u16(position + 20)) == bytes.count {
                eocd = position
                break
            }
            position -= 1
        }
        guard eocd >= 0 else { throw ZipFormatError("it is not a zip archive, or it is truncated (no end of central directory record)") }
        var count = UInt64(try u16(eocd + 10)), size = UInt64(try u32(eocd + 12)), start = UInt64(try u32(eocd + 16))
        var end = eocd
        if count == 0xFFFF || size == 0xFFFF_FFFF || start == 0xFFFF_FFFF {
            guard eocd >= 20, try u32(eocd - 20) == 0x0706_4b50 else { throw ZipFormatError("zip64 markers without a zip64 locator") }
            let record = try offset(try u64(eocd - 12))
            guard record <= eocd - 20 - 56, try u32(record) == 0x0606_4b50 else { throw ZipFormatError("no zip64 end of central directory record") }
            count = try u64(record + 32)
            size = try u64(record + 40)
            start = try u64(record + 48)
            end = record
        }
        let first = try offset(start)
        guard first <= end, size <= UInt64(end - first) else { throw ZipFormatError("the central directory does not fit before its end record") }
        guard count <= size / 46 + 1 else { throw ZipFormatError("the central directory claims \(count) entries in \(size) bytes") }
        return (first, first + Int(size), count)
    }

    func entries() throws(ZipFormatError) -> [ZipEntry] {
        let (start, end, count) = try directory()
        var entries: [ZipEntry] = []
        var at = start
        for _ in 0..<count {
            guard at + 46 <= end, try u32(at) == 0x0201_4b50 else { throw ZipFormatError("a central directory entry is malformed") }
            let flags = try u16(at + 8), method = try u16(at + 10)
            let nameLength = Int(try u16(at + 28)), extraLength = Int(try u16(at + 30)), commentLength = Int(try u16(at + 32))
            let next = at + 46 + nameLength + extraLength + commentLength
            guard next <= end else { throw ZipFormatError("a central directory entry runs past the directory") }
            let name = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[(at + 46)..<(at + 46 + nameLength)]), as: UTF8.self)
            guard flags & 1 == 0 else { throw ZipFormatError("member '\(name)' is encrypted") }
            var entry = ZipEntry(
                name: name, isFile: true, method: method, crc: try u32(at + 16), compressedSize: UInt64(try u32(at + 20)),
                size: UInt64(try u32(at + 24)), localHeader: UInt64(try u32(at + 42)))
            try applyZip64(&entry, extra: (at + 46 + nameLength)..<(at + 46 + nameLength + extraLength))
            let madeByUnix = try u16(at + 4) >> 8 == 3
            let mode = (try u32(at + 38) >> 16) & 0o170000
            entry.isFile = !name.hasSuffix("/") && (!madeByUnix || mode == 0 || mode == 0o100000)
            entries.append(entry)
            at = next
        }
        return entries
    }

    /// Replaces 0xFFFFFFFF sizes and offset by the zip64 extra field's values (in that order).
    private func applyZip64(_ entry: inout ZipEntry, extra: Range<Int>) throws(ZipFormatError) {
        var at = extra.lowerBound
        while at + 4 <= extra.upperBound {
            let id = try u16(at), length = Int(try u16(at + 2))
            guard at + 4 + length <= extra.upperBound else { throw ZipFormatError("an extra field runs past its entry") }
            if id == 1 {
                var field = at + 4
                func take() throws(ZipFormatError) -> UInt64 {
                    guard field + 8 <= at + 4 + length else { throw ZipFormatError("a zip64 extra field is too short") }
                    defer { field += 8 }
                    return try u64(field)
                }
                if entry.size == 0xFFFF_FFFF { entry.size = try take() }
                if entry.compressedSize == 0xFFFF_FFFF { entry.compressedSize = try take() }
                if entry.localHeader == 0xFFFF_FFFF { entry.localHeader = try take() }
            }
            at += 4 + length
        }
    }
}
