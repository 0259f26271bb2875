extension Tensor {
    /// The elements of a packed sub-byte integer tensor (int4, uint4, int2, uint2: low bits first, as
    /// ONNX stores them), as `Int`; `nil` for other types.
    public var packedIntegers: [Int]? {
        guard [.int4, .uint4, .int2, .uint2].contains(dtype), let buffer, let bits = dtype.bitWidth else { return nil }
        let signed = dtype == .int4 || dtype == .int2
        let perByte = 8 / bits, mask = (1 << bits) - 1
        return (0..<elementCount).map { i in
            let raw = Int(buffer.bytes[i / perByte] >> UInt8((i % perByte) * bits)) & mask
            return signed && raw >= 1 << (bits - 1) ? raw - (1 << bits) : raw
        }
    }
}
