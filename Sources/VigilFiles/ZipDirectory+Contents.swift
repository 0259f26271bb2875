import CZlib
import Foundation

extension ZipDirectory {
    /// A member's bytes: located through its local header, inflated if deflated, with the size and
    /// CRC-32 the central directory declares.
    func contents(of entry: ZipEntry) throws(ZipFormatError) -> Data {
        let header = try offset(entry.localHeader)
        guard try u32(header) == 0x0403_4b50 else { throw ZipFormatError("its local header is missing") }
        let start = header + 30 + Int(try u16(header + 26)) + Int(try u16(header + 28))
        guard start <= bytes.count, entry.compressedSize <= UInt64(bytes.count - start) else {
            throw ZipFormatError("its data runs past the end of the archive")
        }
        let source = UnsafeRawBufferPointer(rebasing: bytes[start..<(start + Int(entry.compressedSize))])
        let size = Int(entry.size)
        var data: Data
        switch entry.method {
        case 0:
            guard entry.compressedSize == entry.size else {
                throw ZipFormatError("a stored member of \(entry.compressedSize) bytes declares \(entry.size)")
            }
            data = Data(source)
        case 8:
            data = try inflate(source, size: size)
        default:
            throw ZipFormatError("compression method \(entry.method) is not supported (stored or deflate)")
        }
        let crc = data.withUnsafeBytes { raw in
            UInt32(truncatingIfNeeded: crc32(0, raw.baseAddress?.assumingMemoryBound(to: Bytef.self), uInt(raw.count)))
        }
        guard crc == entry.crc else {
            throw ZipFormatError("CRC-32 mismatch (stored 0x\(String(entry.crc, radix: 16)), computed 0x\(String(crc, radix: 16))): the member is corrupt")
        }
        return data
    }

    /// Raw deflate of exactly `size` bytes: more output, or a stream that ends early, is an error.
    private func inflate(_ source: UnsafeRawBufferPointer, size: Int) throws(ZipFormatError) -> Data {
        var output = Data(count: size + 1)  // one spare byte shows a member larger than declared
        var stream = z_stream()
        guard vigil_inflate_init_raw(&stream) == Z_OK else { throw ZipFormatError("cannot start inflating") }
        defer { inflateEnd(&stream) }
        let status: Int32 = output.withUnsafeMutableBytes { target in
            // zlib counts in 32 bits: feed the input and take the output in pieces of at most 1 GiB.
            let chunk = 1 << 30
            var read = 0, written = 0, status = Z_OK
            while status == Z_OK {
                if stream.avail_in == 0, read < source.count {
                    let n = min(chunk, source.count - read)
                    stream.next_in = UnsafeMutablePointer(mutating: (source.baseAddress! + read).assumingMemoryBound(to: Bytef.self))
                    stream.avail_in = uInt(n)
                    read += n
                }
                if stream.avail_out == 0 {
                    guard written < target.count else { return Z_BUF_ERROR }
                    let n = min(chunk, target.count - written)
                    stream.next_out = (target.baseAddress! + written).assumingMemoryBound(to: Bytef.self)
                    stream.avail_out = uInt(n)
                    written += n
                }
                status = CZlib.inflate(&stream, Z_NO_FLUSH)
            }
            return status
        }
        let produced = Int(stream.total_out)
        guard produced <= size else { throw ZipFormatError("holds more bytes than its declared \(size)") }
        guard status == Z_STREAM_END else {
            throw ZipFormatError(status == Z_BUF_ERROR ? "its deflate stream is truncated" : "its deflate stream is corrupt (zlib \(status))")
        }
        guard produced == size else { throw ZipFormatError("holds \(produced) bytes, not its declared \(size)") }
        output.removeLast()
        return output
    }
}
