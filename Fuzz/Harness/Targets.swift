import Foundation
import VigilDetector
import VigilFiles
import VigilHDF5
import VigilIR
import VigilKeras
import VigilNumpy
import VigilONNX
import VigilVerifier

/// One function per reader. Each writes the input where the reader expects a file (a scratch folder
/// per process, reused) and reads it; errors are the expected outcome and ignored.
enum Targets {
    static let folder: String = {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-fuzz-\(getpid())").path
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }()

    /// Writes `data` to `name` in the scratch folder and returns the path (plain writes: Foundation's
    /// atomic writes sync to disk and made file-based harnesses crawl).
    static func file(_ name: String, _ data: Data) -> String {
        let path = folder + "/" + name
        let parent = (path as NSString).deletingLastPathComponent
        if !FileManager.default.fileExists(atPath: parent) {
            try? FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        }
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return path }
        data.withUnsafeBytes { raw in
            var done = 0
            while done < raw.count {
                let n = write(fd, raw.baseAddress! + done, raw.count - done)
                guard n > 0 else { break }
                done += n
            }
        }
        close(fd)
        return path
    }

    /// Splits an input into parts at the separator `\n--VIGIL--\n` (so that mutations of each part stay local).
    static func parts(_ data: Data, _ count: Int) -> [Data] {
        let separator = Data("\n--VIGIL--\n".utf8)
        var result: [Data] = []
        var rest = data[...]
        while result.count < count - 1, let range = rest.range(of: separator) {
            result.append(Data(rest[..<range.lowerBound]))
            rest = rest[range.upperBound...]
        }
        result.append(Data(rest))
        while result.count < count { result.append(Data()) }
        return result
    }

    static func onnx(_ data: Data) {
        data.withUnsafeBytes { bytes in
            _ = try? ONNXReader.readModel(bytes: bytes, reportAs: "fuzz.onnx", baseDirectory: nil)
        }
    }

    /// A model and two external data files: `weights.bin` (as in the fixtures) and `model.onnx.data` (as `vigil convert` writes).
    static func onnxExternal(_ data: Data) {
        let pieces = parts(data, 3)
        _ = file("ext/weights.bin", pieces[1])
        _ = file("ext/model.onnx.data", pieces[2])
        let model = file("ext/model.onnx", pieces[0])
        _ = try? ONNXReader.readModel(at: model)
    }

    static func kerasH5(_ data: Data) { _ = try? KerasImporter.importModel(at: file("model.h5", data)) }

    static func kerasZip(_ data: Data) { _ = try? KerasImporter.importModel(at: file("model.keras", data)) }

    /// A config JSON and a `.weights.h5`.
    static func kerasWeights(_ data: Data) {
        let pieces = parts(data, 2)
        let config = file("config.json", pieces[0])
        _ = try? KerasImporter.importModel(at: file("model.weights.h5", pieces[1]), config: config)
    }

    static func npy(_ data: Data) { _ = try? NPY.decode(data, file: "fuzz.npy") }

    static func npz(_ data: Data) { _ = try? NPZ.read(at: file("arrays.npz", data)) }

    static func detector(_ data: Data) { _ = try? DetectorFile.read(at: file("detector.h5", data)) }

    /// Any model the reader accepts, through every check of the verifier.
    static func verifier(_ data: Data) {
        data.withUnsafeBytes { bytes in
            guard let model = try? ONNXReader.readModel(bytes: bytes, reportAs: "fuzz.onnx", baseDirectory: nil) else { return }
            _ = Verifier().verify(model)
        }
    }
}
