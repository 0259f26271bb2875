import Foundation
import VigilIR
import VigilFiles

/// The NumPy `.npy` format (versions 1.0, 2.0 and 3.0): a magic string, a header that is a Python
/// dict literal (`descr`, `fortran_order`, `shape`), then the raw elements.
///
/// Reading accepts little- and big-endian data and Fortran order (both converted to the IR's
/// little-endian C order). Writing produces version 1.0 with the header padded to 64 bytes.
public enum NPY {
    static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]  // \x93NUMPY

    /// NumPy type strings (without the byte-order character) for each supported dtype.
    static let typeCodes: [(code: String, dtype: DType)] = [
        ("f4", .float32), ("f8", .float64), ("f2", .float16), ("i1", .int8), ("i2", .int16), ("i4", .int32),
        ("i8", .int64), ("u1", .uint8), ("u2", .uint16), ("u4", .uint32), ("u8", .uint64), ("b1", .bool),
    ]

    /// Reads a `.npy` file (a regular file; a FIFO or device is refused without blocking).
    public static func read(at path: String, recordingInputsIn inputs: InputFiles? = nil) throws(NumpyError) -> Tensor {
        let data: Data
        do { data = try RegularFile.map(path) } catch { throw NumpyError(file: error.file, reason: error.reason) }
        inputs?.add(path)
        return try decode(data, file: path)
    }

    /// Decodes `.npy` bytes; `file` names them in errors.
    public static func decode(_ data: Data, file: String) throws(NumpyError) -> Tensor {
        func fail(_ reason: String) -> NumpyError { NumpyError(file: file, reason: reason) }
        let bytes = [UInt8](data.prefix(12))
        guard bytes.count >= 10, Array(bytes[0..<6]) == magic else { throw fail("not a .npy file (no \\x93NUMPY magic)") }
        let major = bytes[6]
        let headerLength: Int
        let headerStart: Int
        switch major {
        case 1:
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            headerStart = 10
        case 2, 3:
            guard bytes.count >= 12 else { throw fail("truncated .npy header") }
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
            headerStart = 12
        default:
            throw fail("unsupported .npy version \(major).\(bytes[7])")
        }
        guard headerLength <= 1 << 20, data.count >= headerStart + headerLength else { throw fail("truncated .npy header") }
        guard let header = String(data: data.subdata(in: headerStart..<headerStart + headerLength), encoding: major == 3 ? .utf8 : .isoLatin1) else {
            throw fail("unreadable .npy header")
        }
        let fields = try parseHeader(header, fail)
        let littleEndian: Bool
        var code = Substring(fields.descr)
        switch code.first {
        case "<": littleEndian = true; code = code.dropFirst()
        case ">": littleEndian = false; code = code.dropFirst()
        case "|", "=": littleEndian = true; code = code.dropFirst()
        default: littleEndian = true
        }
        if let kind = code.first, kind == "S" || kind == "U", let width = Int(code.dropFirst()), width >= 1 {
            return try decodeStrings(data, start: headerStart + headerLength, header: fields, unicode: kind == "U", width: width, fail)
        }
        guard let dtype = typeCodes.first(where: { $0.code == code })?.dtype else {
            throw fail("unsupported dtype '\(fields.descr)' (supported: \(typeCodes.map(\.code).joined(separator: ", ")), S<n>, U<n>)")
        }
        guard let count = checkedElementCount(fields.shape), let byteCount = dtype.storageBytes(count: count) else {
            throw fail("invalid shape \(fields.shape)")
        }
        let start = headerStart + headerLength
        guard data.count - start == byteCount else {
            throw fail("holds \(data.count - start) data bytes but \(fields.descr) \(fields.shape) needs \(byteCount)")
        }
        let width = dtype.bitWidth! / 8
        let buffer = TensorBuffer(count: byteCount) { target in
            data.withUnsafeBytes { source in
                target.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[start..<start + byteCount]))
            }
            if !littleEndian && width > 1 {
                for element in 0..<count {
                    let base = element * width
                    for i in 0..<width / 2 { target.swapAt(base + i, base + width - 1 - i) }
                }
            }
        }
        var tensor = try! Tensor(dtype: dtype, shape: fields.shape, contents: .bytes(buffer))
        if fields.fortranOrder && fields.shape.count > 1 { tensor = fortranToC(tensor, width: width) }
        return tensor
    }

    /// Encodes a tensor as `.npy` version 1.0 bytes. String tensors become NumPy byte strings
    /// (`|S<n>`, NUL-padded to the longest element; NumPy drops trailing NULs when reading them).
    public static func encode(_ tensor: Tensor) throws(NumpyError) -> Data {
        if let strings = tensor.strings {
            let width = max(1, strings.map(\.count).max() ?? 0)
            var body = Data(capacity: width * strings.count)
            for string in strings { body.append(contentsOf: string + [UInt8](repeating: 0, count: width - string.count)) }
            return file(descr: "|S\(width)", shape: tensor.shape, body: body)
        }
        guard let code = typeCodes.first(where: { $0.dtype == tensor.dtype })?.code, let buffer = tensor.buffer else {
            throw NumpyError(file: "", reason: "dtype \(tensor.dtype) cannot be written to .npy")
        }
        let order = code == "u1" || code == "i1" || code == "b1" ? "|" : "<"
        return file(descr: order + code, shape: tensor.shape, body: Data(buffer.bytes))
    }

    /// A version 1.0 file: magic, header padded to 64 bytes, then the elements.
    static func file(descr: String, shape: [Int], body: Data) -> Data {
        let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shapeText), }"
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var data = Data(magic + [1, 0])
        let length = header.utf8.count
        data.append(contentsOf: [UInt8(length & 0xff), UInt8(length >> 8)])
        data.append(contentsOf: Array(header.utf8))
        data.append(body)
        return data
    }

    /// Decodes NumPy byte strings (`S<n>`, trailing NULs dropped) or Unicode strings (`U<n>`,
    /// UTF-32, re-encoded as UTF-8) into a `string` tensor.
    static func decodeStrings(
        _ data: Data, start: Int, header: Header, unicode: Bool, width: Int, _ fail: (String) -> NumpyError
    ) throws(NumpyError) -> Tensor {
        let unit = unicode ? 4 : 1
        guard let count = checkedElementCount(header.shape), case let (bytes, overflow) = count.multipliedReportingOverflow(by: width * unit),
              !overflow, data.count - start == bytes
        else { throw fail("holds \(data.count - start) data bytes, which does not fit \(header.descr) \(header.shape)") }
        let bigEndian = header.descr.hasPrefix(">")
        var strings: [[UInt8]] = []
        strings.reserveCapacity(count)
        for element in 0..<count {
            let base = start + element * width * unit
            if !unicode {
                var string = [UInt8](data[base..<base + width])
                while string.last == 0 { string.removeLast() }
                strings.append(string)
                continue
            }
            var text = String.UnicodeScalarView()
            for i in 0..<width {
                let b = [UInt8](data[(base + 4 * i)..<(base + 4 * i + 4)])
                let value = bigEndian ? b.reduce(0) { $0 << 8 | UInt32($1) } : b.reversed().reduce(0) { $0 << 8 | UInt32($1) }
                guard value != 0 else { break }
                guard let scalar = Unicode.Scalar(value) else { throw fail("element \(element) holds an invalid code point \(value)") }
                text.append(scalar)
            }
            strings.append(Array(String(text).utf8))
        }
        if header.fortranOrder && header.shape.count > 1 {
            strings = fortranIndices(header.shape).map { strings[$0] }
        }
        return try! Tensor(dtype: .string, shape: header.shape, contents: .strings(strings))
    }

    /// For each element in C order, its index in Fortran (column-major) order.
    static func fortranIndices(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        for axis in 1..<shape.count { strides[axis] = strides[axis - 1] * shape[axis - 1] }
        var result: [Int] = []
        var index = [Int](repeating: 0, count: shape.count)
        for _ in 0..<shape.reduce(1, *) {
            result.append(zip(index, strides).reduce(0) { $0 + $1.0 * $1.1 })
            var axis = shape.count - 1
            while axis >= 0 {
                index[axis] += 1
                if index[axis] < shape[axis] { break }
                index[axis] = 0
                axis -= 1
            }
        }
        return result
    }

    /// Writes a tensor to a `.npy` file through `OutputFile` (whole or not at all, never over a
    /// symlink, a non-regular file or one of `inputs`).
    public static func write(_ tensor: Tensor, to path: String, protecting inputs: InputFiles = InputFiles()) throws(NumpyError) {
        let data: Data
        do {
            data = try encode(tensor)
        } catch {
            throw NumpyError(file: path, reason: error.reason)
        }
        do {
            try OutputFile.write(data, to: path, protecting: inputs)
        } catch {
            throw NumpyError(file: error.path, reason: error.reason)
        }
    }

    struct Header {
        var descr: String
        var fortranOrder: Bool
        var shape: [Int]
    }

    /// Parses `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }` as numpy does: a dict
    /// literal with exactly these three keys, each once, followed only by spaces and a newline.
    static func parseHeader(_ text: String, _ fail: (String) -> NumpyError) throws(NumpyError) -> Header {
        var parser = HeaderParser(text: Array(text.unicodeScalars))
        guard let entries = parser.dictionary() else { throw fail("the .npy header is not a Python dict literal") }
        var seen = Set<String>()
        for (key, _) in entries where !seen.insert(key).inserted { throw fail("the .npy header lists '\(key)' twice") }
        let expected: Set = ["descr", "fortran_order", "shape"]
        if let extra = entries.map(\.key).first(where: { !expected.contains($0) }) {
            throw fail("the .npy header has an unexpected key '\(extra)' (numpy writes only descr, fortran_order and shape)")
        }
        let values = Dictionary(entries, uniquingKeysWith: { first, _ in first })
        guard case .string(let descr)? = values["descr"] else {
            throw fail(values["descr"] == nil ? "the .npy header has no descr" : "unsupported dtype: descr is not a simple type string")
        }
        guard case .bool(let fortran)? = values["fortran_order"] else {
            throw fail(values["fortran_order"] == nil ? "the .npy header has no fortran_order" : "bad fortran_order in the .npy header")
        }
        guard case .tuple(let shape)? = values["shape"] else {
            throw fail(values["shape"] == nil ? "the .npy header has no shape" : "bad shape in the .npy header (not a tuple of sizes)")
        }
        guard shape.count <= 64 else { throw fail("the .npy shape has \(shape.count) dimensions (at most 64)") }
        return Header(descr: descr, fortranOrder: fortran, shape: shape)
    }

    /// Reorders a tensor stored in Fortran (column-major) order into C order.
    static func fortranToC(_ tensor: Tensor, width: Int) -> Tensor {
        let shape = tensor.shape
        let count = tensor.elementCount
        var fortranStrides = [Int](repeating: 1, count: shape.count)
        for axis in 1..<shape.count { fortranStrides[axis] = fortranStrides[axis - 1] * shape[axis - 1] }
        let source = tensor.buffer!.bytes
        let buffer = TensorBuffer(count: source.count) { target in
            var index = [Int](repeating: 0, count: shape.count)
            for element in 0..<count {
                var offset = 0
                for axis in 0..<shape.count { offset += index[axis] * fortranStrides[axis] }
                target.baseAddress!.advanced(by: element * width).copyMemory(from: source.baseAddress! + offset * width, byteCount: width)
                var axis = shape.count - 1
                while axis >= 0 {
                    index[axis] += 1
                    if index[axis] < shape[axis] { break }
                    index[axis] = 0
                    axis -= 1
                }
            }
        }
        return try! Tensor(dtype: tensor.dtype, shape: shape, contents: .bytes(buffer))
    }
}

extension NumpyError {
    init(file: String, _ error: NumpyError) { self.init(file: file, reason: error.reason) }
}
