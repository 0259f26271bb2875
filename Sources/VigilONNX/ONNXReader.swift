import COnnxProto
import CProtobufC
import VigilIR
import VigilFiles

/// Reads ONNX models (`ModelProto`) and tensors (`TensorProto`, as in ONNX test-data folders) into the IR.
///
/// The file is memory-mapped, its wire format is checked without allocating (so truncated,
/// mistyped or absurdly nested input fails with a clear message before protobuf-c sees it),
/// then unpacked by protobuf-c and converted at once. Tensor bytes from `raw_data` are taken over
/// from the unpacked message rather than copied, and external data is mapped, not read.
public enum ONNXReader {
    /// IR versions this reader accepts: up to 14, what onnx 1.23 writes. The multi-device
    /// configuration of IR 11+ is not represented in the IR and is dropped; the float6 element types
    /// of IR 14 are read and stored packed (6 bits per element), as onnx stores them.
    public static let supportedIRVersions: ClosedRange<Int64> = 3...14
    /// Maximum nesting of protobuf messages (each subgraph level nests about three).
    public static let maximumMessageDepth: UInt32 = 100

    /// Reads a model file. External data is resolved against the file's folder.
    ///
    /// - Parameters:
    ///   - path: the `.onnx` file; external data is resolved beside it.
    ///   - inputs: when given, the model file and every external data file it uses are added to it,
    ///     so that writers can refuse to overwrite them.
    public static func readModel(at path: String, recordingInputsIn inputs: InputFiles? = nil) throws(ONNXError) -> Model {
        let file = try MappedFile(path: path, reportAs: path)
        file.adviseSequential()
        inputs?.add(path)
        return try decodeModel(file.bytes, reportAs: path, baseDirectory: directory(of: path), inputs: inputs, releasingSourcePages: true)
    }

    /// Reads a model from memory; `baseDirectory` is where external data lives (`nil`: none allowed).
    /// External data files used are added to `inputs` when given.
    public static func readModel(
        bytes: UnsafeRawBufferPointer, reportAs file: String, baseDirectory: String?, recordingInputsIn inputs: InputFiles? = nil
    ) throws(ONNXError) -> Model {
        try decodeModel(bytes, reportAs: file, baseDirectory: baseDirectory, inputs: inputs, releasingSourcePages: false)
    }

    /// `releasingSourcePages`: drop the pages of large `raw_data` fields from `bytes` once copied;
    /// only for Vigil's own private read-only file mappings, never for a caller's memory.
    private static func decodeModel(
        _ bytes: UnsafeRawBufferPointer, reportAs file: String, baseDirectory: String?, inputs: InputFiles?, releasingSourcePages: Bool
    ) throws(ONNXError) -> Model {
        let proto = try unpack(bytes, file: file, releasing: releasingSourcePages, descriptor: vigil_onnx__model_proto__descriptor_pointer()) {
            vigil_onnx__model_proto__unpack($0, $2, $1)
        }
        defer { vigil_onnx__model_proto__free_unpacked(proto, nil) }
        guard proto.pointee.has_ir_version != 0 else {
            throw .invalid(file: file, reason: "no ir_version: this is not an ONNX model")
        }
        guard supportedIRVersions.contains(proto.pointee.ir_version) else {
            throw .unsupported(file: file, reason: "IR version \(proto.pointee.ir_version) is not supported (supported: \(supportedIRVersions.lowerBound)–\(supportedIRVersions.upperBound))")
        }
        let decoder = ProtoDecoder(file: file, baseDirectory: baseDirectory)
        defer { inputs?.add(contentsOf: decoder.externalFiles.resolvedPaths) }
        return try decoder.model(proto)
    }

    /// Reads one serialized `TensorProto` (e.g. `input_0.pb`), returning its name and value.
    public static func readTensor(at path: String, recordingInputsIn inputs: InputFiles? = nil) throws(ONNXError) -> (name: String, tensor: Tensor) {
        let file = try MappedFile(path: path, reportAs: path)
        inputs?.add(path)
        let proto = try unpack(file.bytes, file: path, releasing: true, descriptor: vigil_onnx__tensor_proto__descriptor_pointer()) {
            vigil_onnx__tensor_proto__unpack($0, $2, $1)
        }
        defer { vigil_onnx__tensor_proto__free_unpacked(proto, nil) }
        let decoder = ProtoDecoder(file: path, baseDirectory: directory(of: path))
        defer { inputs?.add(contentsOf: decoder.externalFiles.resolvedPaths) }
        let name = cString(proto.pointee.name)
        return (name, try decoder.tensor(proto, what: name.isEmpty ? "tensor" : "tensor '\(name)'"))
    }

    /// Bytes fields at least this long have their mapped source pages dropped once copied.
    static let releaseThreshold = 1 << 16

    /// Checks the wire format, then unpacks with protobuf-c. Buffers of the result are malloc'd.
    /// With `releasing`, source pages of large bytes fields are dropped as they are copied.
    private static func unpack<T>(
        _ bytes: UnsafeRawBufferPointer, file: String, releasing: Bool, descriptor: UnsafePointer<ProtobufCMessageDescriptor>,
        _ unpack: (UnsafeMutablePointer<ProtobufCAllocator>, UnsafePointer<UInt8>?, Int) -> UnsafeMutablePointer<T>?
    ) throws(ONNXError) -> UnsafeMutablePointer<T> {
        guard bytes.count > 0 else { throw .malformed(file: file, reason: "the file is empty") }
        let base = bytes.baseAddress!.assumingMemoryBound(to: UInt8.self)
        let ranges = UnsafeMutablePointer<VigilWireRanges>.allocate(capacity: 1)
        ranges.initialize(to: VigilWireRanges(min_length: releasing ? releaseThreshold : Int.max, items: nil, count: 0, capacity: 0))
        let allocator = UnsafeMutablePointer<VigilReleasingAllocator>.allocate(capacity: 1)
        defer {
            vigil_wire_ranges_free(ranges)
            ranges.deallocate()
            allocator.deallocate()
        }
        var offset = 0
        let status = vigil_wire_guard_scan(descriptor, base, bytes.count, maximumMessageDepth, &offset, ranges)
        switch status {
        case VIGIL_WIRE_OK: break
        case VIGIL_WIRE_TRUNCATED:
            throw .malformed(file: file, reason: "truncated or corrupt protobuf: a field at byte \(offset) runs past its end")
        case VIGIL_WIRE_BAD_WIRE_TYPE:
            throw .malformed(file: file, reason: "not a valid ONNX protobuf: wrong wire type at byte \(offset)")
        case VIGIL_WIRE_TOO_DEEP:
            throw .malformed(file: file, reason: "messages nested deeper than \(maximumMessageDepth) levels at byte \(offset)")
        default:
            throw .malformed(file: file, reason: "not a valid ONNX protobuf: invalid field tag at byte \(offset)")
        }
        vigil_releasing_allocator_init(allocator, base, ranges)
        let message = unpack(&allocator.pointee.allocator, base, bytes.count)
        vigil_releasing_allocator_finish(allocator)
        guard let message else {
            throw .malformed(file: file, reason: "protobuf-c could not decode the message")
        }
        return message
    }

    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let directory = String(path[..<slash])
        return directory.isEmpty ? "/" : directory
    }
}
