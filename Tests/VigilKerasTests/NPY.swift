import Foundation
import VigilIR

/// Reads `.npy` files as written by the fixture generator: version 1.0–3.0, little-endian float32
/// (`<f4`), C order.
enum NPY {
    struct FormatError: Error, CustomStringConvertible {
        var description: String
    }

    static func read(_ url: URL) throws -> Tensor {
        let data = try Data(contentsOf: url)
        let bytes = [UInt8](data)
        guard bytes.count >= 10, bytes[0] == 0x93, Array(bytes[1...5]) == Array("NUMPY".utf8) else {
            throw FormatError(description: "\(url.path): not an .npy file")
        }
        let major = bytes[6]
        let headerLength: Int, headerStart: Int
        if major == 1 {
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            headerStart = 10
        } else {
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
            headerStart = 12
        }
        let header = String(decoding: bytes[headerStart..<(headerStart + headerLength)], as: UTF8.self)
        guard header.contains("'descr': '<f4'") else { throw FormatError(description: "\(url.path): not little-endian float32: \(header)") }
        guard header.contains("'fortran_order': False") else { throw FormatError(description: "\(url.path): not C order") }
        guard let open = header.range(of: "'shape': ("), let close = header[open.upperBound...].firstIndex(of: ")") else {
            throw FormatError(description: "\(url.path): no shape in \(header)")
        }
        let shape = header[open.upperBound..<close].split(separator: ",").compactMap {
            Int($0.trimmingCharacters(in: .whitespaces))
        }
        let payload = Array(bytes[(headerStart + headerLength)...])
        let count = shape.reduce(1, *)
        guard payload.count == count * 4 else { throw FormatError(description: "\(url.path): \(payload.count) bytes for shape \(shape)") }
        let values: [Float] = (0..<count).map { i in
            let bits = UInt32(payload[4 * i]) | UInt32(payload[4 * i + 1]) << 8 | UInt32(payload[4 * i + 2]) << 16 | UInt32(payload[4 * i + 3]) << 24
            return Float(bitPattern: bits)
        }
        return try Tensor(float32: values, shape: shape)
    }
}
