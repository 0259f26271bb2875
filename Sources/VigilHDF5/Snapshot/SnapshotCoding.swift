/// The snapshot's structure as bytes, for the trip from the reader process: little-endian
/// integers, length-prefixed UTF-8 strings, nodes depth first.
enum SnapshotCoding {
    static let magic: [UInt8] = Array("VIGILH5S".utf8)
    /// Bytes before the data region: magic, then data offset, data size, structure offset and
    /// structure size (UInt64 each), padded to 64.
    static let headerSize = 64

    static func encode(_ node: RawNode) -> [UInt8] {
        var out: [UInt8] = []
        encode(node, into: &out)
        return out
    }

    private static func encode(_ node: RawNode, into out: inout [UInt8]) {
        switch node.kind {
        case .group(let children):
            out.append(1)
            put(node.path, &out)
            putAttributes(node.attributes, &out)
            put(UInt64(children.count), &out)
            for (name, child) in children {
                put(name, &out)
                encode(child, into: &out)
            }
        case .dataset(let shape, let storage, let range, let inFile):
            out.append(2)
            put(node.path, &out)
            putAttributes(node.attributes, &out)
            put(UInt64(shape.count), &out)
            for size in shape { put(UInt64(size), &out) }
            out.append(storage.rawValue)
            out.append(range == nil ? 0 : inFile ? 2 : 1)
            put(UInt64(range?.lowerBound ?? 0), &out)
            put(UInt64(range?.upperBound ?? 0), &out)
        }
    }

    private static func putAttributes(_ attributes: [(name: String, value: HDF5Snapshot.Attribute)], _ out: inout [UInt8]) {
        put(UInt64(attributes.count), &out)
        for (name, value) in attributes {
            put(name, &out)
            switch value {
            case .strings(let strings):
                out.append(1)
                put(UInt64(strings.count), &out)
                for string in strings { put(string, &out) }
            case .other(let count):
                out.append(2)
                put(UInt64(count), &out)
            }
        }
    }

    static func put(_ value: UInt64, _ out: inout [UInt8]) {
        for shift in stride(from: 0, to: 64, by: 8) { out.append(UInt8((value >> UInt64(shift)) & 0xff)) }
    }

    private static func put(_ string: String, _ out: inout [UInt8]) {
        let bytes = Array(string.utf8)
        put(UInt64(bytes.count), &out)
        out += bytes
    }

    /// The header for a region of `dataSize` bytes followed by `structureSize` bytes of structure.
    static func header(dataSize: Int, structureSize: Int) -> [UInt8] {
        var out = magic
        put(UInt64(headerSize), &out)
        put(UInt64(dataSize), &out)
        put(UInt64(headerSize + dataSize), &out)
        put(UInt64(structureSize), &out)
        out += [UInt8](repeating: 0, count: headerSize - out.count)
        return out
    }
}

/// Reads the structure back, checking every length and range against the bytes and the region.
struct SnapshotDecoder {
    let bytes: UnsafeRawBufferPointer
    let dataSize: Int
    /// Size of the HDF5 file, which in-file ranges must lie within.
    let fileSize: Int
    var offset = 0
    var nodes = 0

    enum Failure: Error { case malformed(String) }

    mutating func node(depth: Int = 0) throws(Failure) -> RawNode {
        guard depth <= 200 else { throw .malformed("nested too deeply") }
        nodes += 1
        guard nodes <= 10_000_000 else { throw .malformed("too many nodes") }
        let kind = try byte()
        let path = try string()
        let attributes = try attributeList()
        switch kind {
        case 1:
            let count = try length()
            var children: [(name: String, node: RawNode)] = []
            for _ in 0..<count { children.append((try string(), try node(depth: depth + 1))) }
            return RawNode(path: path, attributes: attributes, kind: .group(children: children))
        case 2:
            let rank = try length()
            guard rank <= 64 else { throw .malformed("rank \(rank)") }
            var shape: [Int] = []
            for _ in 0..<rank { shape.append(try length()) }
            guard let storage = HDF5Snapshot.Storage(rawValue: try byte()) else { throw .malformed("storage kind") }
            let where_ = try byte()
            guard where_ <= 2 else { throw .malformed("range kind \(where_)") }
            let hasRange = where_ != 0, inFile = where_ == 2
            let lower = try length(), upper = try length()
            let limit = inFile ? fileSize : dataSize
            guard lower <= upper, upper <= limit else { throw .malformed("data range \(lower)..<\(upper) outside \(limit) bytes") }
            var count = 1
            for size in shape {
                let (product, overflow) = count.multipliedReportingOverflow(by: size)
                guard !overflow else { throw .malformed("shape \(shape)") }
                count = product
            }
            let width = storage == .float32 ? 4 : 8
            if hasRange {
                guard storage != .none, count.multipliedReportingOverflow(by: width) == (upper - lower, false), lower % (inFile ? width : 64) == 0 else {
                    throw .malformed("data range of \(upper - lower) bytes for shape \(shape)")
                }
            }
            return RawNode(path: path, attributes: attributes, kind: .dataset(shape: shape, storage: storage, range: hasRange ? lower..<upper : nil, inFile: inFile))
        default:
            throw .malformed("node kind \(kind)")
        }
    }

    private mutating func attributeList() throws(Failure) -> [(name: String, value: HDF5Snapshot.Attribute)] {
        let count = try length()
        var result: [(name: String, value: HDF5Snapshot.Attribute)] = []
        for _ in 0..<count {
            let name = try string()
            switch try byte() {
            case 1:
                let n = try length()
                var strings: [String] = []
                for _ in 0..<n { strings.append(try string()) }
                result.append((name, .strings(strings)))
            case 2: result.append((name, .other(count: try length())))
            default: throw .malformed("attribute kind")
            }
        }
        return result
    }

    private mutating func byte() throws(Failure) -> UInt8 {
        guard offset < bytes.count else { throw .malformed("truncated") }
        defer { offset += 1 }
        return bytes[offset]
    }

    /// A UInt64 that must fit the remaining bytes when used as a count of items of at least one byte.
    private mutating func length() throws(Failure) -> Int {
        guard bytes.count - offset >= 8 else { throw .malformed("truncated") }
        var value: UInt64 = 0
        for i in 0..<8 { value |= UInt64(bytes[offset + i]) << UInt64(8 * i) }
        offset += 8
        guard value <= UInt64(Int.max) else { throw .malformed("value \(value)") }
        return Int(value)
    }

    private mutating func string() throws(Failure) -> String {
        let count = try length()
        guard count <= bytes.count - offset else { throw .malformed("truncated string") }
        defer { offset += count }
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + count]), as: UTF8.self)
    }
}
