import VigilIR

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Resolves ONNX external data references safely and maps each referenced file once.
///
/// A location must be relative, must not contain `..`, must resolve (after symlinks) inside the
/// model's folder, must name a regular file with a single hard link, and offset/length must lie
/// inside that file and match the tensor's size. Tensors point straight into the mapping, so the
/// weights are never copied and only touched pages count toward resident memory.
final class ExternalDataFiles: @unchecked Sendable {
    private var mapped: [String: MappedFile] = [:]
    private var realBase: String?

    /// The distinct locations used so far, in first-use order.
    private(set) var locations: [String] = []
    /// The files they resolved to (symlinks followed), in the same order.
    private(set) var resolvedPaths: [String] = []

    func tensor(
        entries: [MetadataEntry], dtype: DType, shape: [Int], expectedBytes: Int, what: String,
        modelFile: String, baseDirectory: String?
    ) throws(ONNXError) -> Tensor {
        func fail(_ reason: String) -> ONNXError { .externalData(file: modelFile, reason: "\(what): \(reason)") }
        var location: String?
        var offsetText: String?
        var lengthText: String?
        for entry in entries {
            switch entry.key {
            case "location": location = entry.value
            case "offset": offsetText = entry.value
            case "length": lengthText = entry.value
            default: continue  // "checksum" and future keys are informational
            }
        }
        guard let location, !location.isEmpty else { throw fail("external data without a location") }
        guard let baseDirectory else { throw fail("external data '\(location)' needs the model's folder, but the model was read from memory") }
        guard !location.hasPrefix("/"), !location.hasPrefix("\\"), !hasDrivePrefix(location) else {
            throw fail("external data location '\(location)' is an absolute path")
        }
        let components = location.split(whereSeparator: { $0 == "/" || $0 == "\\" })
        guard !components.contains("..") else { throw fail("external data location '\(location)' contains '..'") }

        let base: String
        if let realBase {
            base = realBase
        } else {
            base = try resolve(baseDirectory, fail)
            realBase = base
        }
        let target = try resolve(base + "/" + location, fail)
        guard target.hasPrefix(base.hasSuffix("/") ? base : base + "/") else {
            throw fail("external data location '\(location)' resolves to '\(target)', outside the model's folder")
        }
        let file: MappedFile
        if let existing = mapped[target] {
            file = existing
        } else {
            do {
                file = try MappedFile(path: target, reportAs: location)
            } catch {
                throw fail("external data file '\(location)': \(error.reason)")
            }
            guard file.linkCount == 1 else {
                throw fail("external data file '\(location)' has \(file.linkCount) hard links; refusing a file linked from elsewhere")
            }
            mapped[target] = file
            locations.append(location)
            resolvedPaths.append(target)
        }
        let offset = try parse(offsetText, name: "offset", default: 0, fail)
        guard offset <= file.size else {
            throw fail("offset \(offset) is past the end of '\(location)' (\(file.size) bytes)")
        }
        let length = try parse(lengthText, name: "length", default: file.size - offset, fail)
        guard length <= file.size - offset else {
            throw fail("offset \(offset) + length \(length) is past the end of '\(location)' (\(file.size) bytes)")
        }
        guard length == expectedBytes else {
            throw fail("'\(location)' holds \(length) bytes for it but \(dtype)\(shape) needs \(expectedBytes)")
        }
        let buffer: TensorBuffer
        if length == 0 {
            buffer = TensorBuffer(count: 0) { _ in }
        } else {
            buffer = TensorBuffer(unsafeBytes: file.baseAddress! + offset, count: length) { _ in withExtendedLifetime(file) {} }
        }
        do {
            return try Tensor(
                dtype: dtype, shape: shape, contents: .bytes(buffer),
                externalSource: ExternalDataSource(location: location, offset: offset, length: length))
        } catch {
            throw fail("\(error)")
        }
    }

    private func hasDrivePrefix(_ location: String) -> Bool {
        let scalars = Array(location.unicodeScalars.prefix(2))
        return scalars.count == 2 && scalars[1] == ":" && scalars[0].properties.isAlphabetic
    }

    private func resolve(_ path: String, _ fail: (String) -> ONNXError) throws(ONNXError) -> String {
        guard let resolved = realpath(path, nil) else {
            throw fail("cannot resolve '\(path)': \(errnoMessage())")
        }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    private func parse(_ text: String?, name: String, default value: Int, _ fail: (String) -> ONNXError) throws(ONNXError) -> Int {
        guard let text else { return value }
        if text.hasPrefix("-") { throw fail("negative \(name) \(text)") }
        guard let number = Int(text), number >= 0 else { throw fail("\(name) '\(text)' is not a byte count") }
        return number
    }
}
