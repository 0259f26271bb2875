import COnnxProto
import CProtobufC
import VigilIR
import VigilFiles

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes IR models as standard ONNX (`ModelProto`), optionally moving large tensors into an
/// external data file. Files are written through `OutputFile`: under temporary names, renamed
/// into place only when complete, and never over a symlink, a non-regular file or an input.
public enum ONNXWriter {
    /// How to write a model.
    public struct Options: Sendable {
        /// Initializers of at least this many bytes go to the external data file; `nil` keeps all inline.
        public var externalDataThreshold: Int?
        /// The external data file's name, relative to the model's folder; defaults to `<model file name>.data`.
        public var externalDataLocation: String?

        public init(externalDataThreshold: Int? = nil, externalDataLocation: String? = nil) {
            self.externalDataThreshold = externalDataThreshold
            self.externalDataLocation = externalDataLocation
        }
    }

    /// What a write produced.
    public struct Report: Sendable, Equatable {
        /// Bytes in the model file.
        public var modelBytes: Int
        /// The external data file's location and size, when one was written.
        public var externalDataLocation: String?
        public var externalDataBytes: Int
        /// Tensors moved to the external data file.
        public var externalTensorCount: Int
    }

    /// Protobuf messages cannot exceed 2 GiB.
    public static let protobufLimit = Int(Int32.max)

    /// Writes `model` to `path` (and its external data file beside it).
    ///
    /// - Parameters:
    ///   - model: the model to write.
    ///   - path: the `.onnx` file (its external data file, if any, goes beside it).
    ///   - options: the external data threshold.
    ///   - inputs: files the caller read (the model it came from, its external data files, …);
    ///     neither output may be one of them. Both destinations are checked before anything is
    ///     written.
    @discardableResult
    public static func write(
        _ model: Model, to path: String, options: Options = Options(), protecting inputs: InputFiles = InputFiles()
    ) throws(ONNXError) -> Report {
        let directory = ONNXReader.directory(of: path)
        let fileName = path.split(separator: "/").last.map(String.init) ?? path
        var external: ExternalDataWriter?
        var destinations = [path]
        var location: String?
        if options.externalDataThreshold != nil {
            let name = options.externalDataLocation ?? fileName + ".data"
            guard !name.contains("/"), name != fileName, !name.isEmpty, name != "..", name != "." else {
                throw .writeFailed(file: path, reason: "external data location '\(name)' must be a plain file name other than the model's")
            }
            location = name
            destinations.append(directory + "/" + name)
        }
        try ONNXError.writing { () throws(OutputError) in try OutputFile.checkDestinations(destinations, protecting: inputs) }
        if let threshold = options.externalDataThreshold, let location {
            external = try ExternalDataWriter(threshold: max(threshold, 0), location: location, directory: directory, protecting: inputs)
        }
        let encoder = ProtoEncoder(external: external)
        let proto = try encoder.model(model)
        let size = withUnsafePointer(to: &proto.pointee.base) { protobuf_c_message_get_packed_size($0) }
        guard size <= protobufLimit else {
            throw .writeFailed(file: path, reason: "the model would be \(size) bytes, over protobuf's 2 GiB limit; use an external data threshold")
        }
        let file = try ONNXError.writing { () throws(OutputError) in try OutputFile(path, protecting: inputs) }
        var written: UInt64 = 0
        let status = withUnsafePointer(to: &proto.pointee.base) { vigil_wire_pack_to_fd($0, file.fileDescriptor, &written) }
        guard status == 0 else {
            throw .writeFailed(file: path, reason: "write failed: \(String(cString: strerror(status)))")
        }
        guard Int(written) == size else {
            throw .writeFailed(file: path, reason: "wrote \(written) of \(size) bytes")
        }
        var report = Report(modelBytes: size, externalDataLocation: nil, externalDataBytes: 0, externalTensorCount: 0)
        if let external, external.tensorCount > 0 {
            try ONNXError.writing { () throws(OutputError) in try external.file.commit() }
            report.externalDataLocation = external.location
            report.externalDataBytes = external.size
            report.externalTensorCount = external.tensorCount
        }
        try ONNXError.writing { () throws(OutputError) in try file.commit() }
        return report
    }
}
