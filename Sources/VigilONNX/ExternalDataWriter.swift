import VigilFiles

/// Collects tensor bytes into one external data file, each tensor at a 64-byte aligned offset.
final class ExternalDataWriter {
    let threshold: Int
    /// The location written into the model, relative to the model's folder.
    let location: String
    let file: OutputFile
    private(set) var size = 0
    private(set) var tensorCount = 0

    init(threshold: Int, location: String, directory: String, protecting inputs: InputFiles) throws(ONNXError) {
        self.threshold = threshold
        self.location = location
        self.file = try ONNXError.writing { () throws(OutputError) in try OutputFile(directory + "/" + location, protecting: inputs) }
    }

    /// Appends bytes and returns their offset.
    func append(_ bytes: UnsafeRawBufferPointer) throws(ONNXError) -> Int {
        let padding = (64 - size % 64) % 64
        if padding > 0 {
            try ONNXError.writing { () throws(OutputError) in try file.write([UInt8](repeating: 0, count: padding)) }
            size += padding
        }
        let offset = size
        try ONNXError.writing { () throws(OutputError) in try file.write(bytes) }
        size += bytes.count
        tensorCount += 1
        return offset
    }
}

extension ONNXError {
    /// Runs a file operation, turning an ``OutputError`` into ``writeFailed(file:reason:)``.
    static func writing<T>(_ body: () throws(OutputError) -> T) throws(ONNXError) -> T {
        do { return try body() } catch { throw .writeFailed(file: error.path, reason: error.reason) }
    }
}
