import CZlib
import Foundation

/// Writes an uncompressed (stored) zip archive member by member into an ``OutputFile``, with
/// zip64 records for members or offsets past 4 GiB. This is the layout `numpy.savez` writes.
public final class ZipOutput {
    private let file: OutputFile
    private var offset: UInt64 = 0
    private var central: [UInt8] = []
    private var count = 0

    /// Starts an archive at `destination` (checked as ``OutputFile`` checks it).
    public init(_ destination: String, protecting inputs: InputFiles = InputFiles()) throws(OutputError) {
        file = try OutputFile(destination, protecting: inputs)
    }

    /// Appends a member.
    public func add(_ name: String, _ data: Data) throws(OutputError) {
        let crc = data.withUnsafeBytes { raw in
            UInt32(truncatingIfNeeded: crc32(0, raw.baseAddress?.assumingMemoryBound(to: Bytef.self), uInt(raw.count)))
        }
        let size = UInt64(data.count)
        let nameBytes = Array(name.utf8)
        let zip64 = size >= 0xFFFF_FFFF || offset >= 0xFFFF_FFFF
        var local: [UInt8] = []
        local.le32(0x0403_4b50)
        local.le16(zip64 ? 45 : 20)
        local.le16(0x0800)  // names are UTF-8
        local.le16(0)  // stored
        local.le16(0); local.le16(0x21)  // 1980-01-01 00:00
        local.le32(crc)
        local.le32(zip64 ? 0xFFFF_FFFF : UInt32(size)); local.le32(zip64 ? 0xFFFF_FFFF : UInt32(size))
        local.le16(UInt16(nameBytes.count)); local.le16(zip64 ? 20 : 0)
        local += nameBytes
        if zip64 {
            local.le16(1); local.le16(16); local.le64(size); local.le64(size)
        }
        try file.write(local)
        try file.write(data)
        appendCentralRecord(nameBytes, crc: crc, size: size, zip64: zip64)
        offset += UInt64(local.count) + size
        count += 1
    }

    private func appendCentralRecord(_ name: [UInt8], crc: UInt32, size: UInt64, zip64: Bool) {
        central.le32(0x0201_4b50)
        central.le16(0x0300 | (zip64 ? 45 : 20))  // made by Unix
        central.le16(zip64 ? 45 : 20)
        central.le16(0x0800); central.le16(0)
        central.le16(0); central.le16(0x21)
        central.le32(crc)
        central.le32(zip64 ? 0xFFFF_FFFF : UInt32(size)); central.le32(zip64 ? 0xFFFF_FFFF : UInt32(size))
        central.le16(UInt16(name.count)); central.le16(zip64 ? 28 : 0); central.le16(0)
        central.le16(0); central.le16(0)
        central.le32(0o100644 << 16)  // a regular file, rw-r--r--
        central.le32(zip64 ? 0xFFFF_FFFF : UInt32(offset))
        central += name
        if zip64 {
            central.le16(1); central.le16(24); central.le64(size); central.le64(size); central.le64(offset)
        }
    }

    /// Writes the central directory and moves the archive into place.
    public func commit() throws(OutputError) {
        let directoryOffset = offset
        var tail = central
        let directorySize = UInt64(central.count)
        if directoryOffset + directorySize >= 0xFFFF_FFFF || count >= 0xFFFF {
            let record = directoryOffset + directorySize
            tail.le32(0x0606_4b50); tail.le64(44); tail.le16(0x032D); tail.le16(45)
            tail.le32(0); tail.le32(0); tail.le64(UInt64(count)); tail.le64(UInt64(count))
            tail.le64(directorySize); tail.le64(directoryOffset)
            tail.le32(0x0706_4b50); tail.le32(0); tail.le64(record); tail.le32(1)
        }
        tail.le32(0x0605_4b50); tail.le16(0); tail.le16(0)
        tail.le16(UInt16(min(count, 0xFFFF))); tail.le16(UInt16(min(count, 0xFFFF)))
        tail.le32(UInt32(min(directorySize, 0xFFFF_FFFF))); tail.le32(UInt32(min(directoryOffset, 0xFFFF_FFFF)))
        tail.le16(0)
        try file.write(tail)
        try file.commit()
    }
}

extension [UInt8] {
    fileprivate mutating func le16(_ value: UInt16) { append(UInt8(value & 0xff)); append(UInt8(value >> 8)) }
    fileprivate mutating func le32(_ value: UInt32) { for shift in stride(from: 0, to: 32, by: 8) { append(UInt8((value >> UInt32(shift)) & 0xff)) } }
    fileprivate mutating func le64(_ value: UInt64) { for shift in stride(from: 0, to: 64, by: 8) { append(UInt8((value >> UInt64(shift)) & 0xff)) } }
}
