import Foundation
import VigilHDF5

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The detector file: HDF5, readable with h5py (layout in `Formats/detector.md`).
///
/// Statistics are float64 datasets (training embeddings float32); every scalar — thresholds,
/// settings, the model hash and names — is a string attribute holding the exact Double as Swift
/// prints it (shortest round-trip form, like Python's `repr`).
public enum DetectorFile {
    public static let formatName = "vigil-detector"
    public static let formatVersion = "2"

    /// Writes `detector` to `path` through a temporary file renamed into place, so a failure leaves
    /// no partial file at `path`.
    public static func write(_ detector: Detector, to path: String) throws(DetectorError) {
        let url = URL(fileURLWithPath: path)
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).tmp-\(UUID().uuidString)").path
        do {
            let file = try HDF5File.create(path: temporary)
            defer { file.close() }
            let root = try file.root()
            defer { root.close() }
            try writeContents(detector, root)
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw .invalidFile(path: path, reason: "cannot write: \(error)")
        }
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(atPath: temporary)
            throw .invalidFile(path: path, reason: "cannot move the file into place: \(reason)")
        }
    }

    private static func writeContents(_ d: Detector, _ root: HDF5Group) throws(HDF5Error) {
        try root.setStringAttribute("format", formatName)
        try root.setStringAttribute("format_version", formatVersion)
        try root.setStringAttribute("scorer", Scorer.meanDistance.rawValue)
        try root.setStringAttribute("class_count", String(d.classCount))
        try root.setStringAttribute("dimension", String(d.dimension))
        try root.setStringAttribute("counts", d.counts.map(String.init).joined(separator: ","))
        try root.setStringAttribute("ridge", "\(d.ridge)")
        try root.setStringAttribute("knn_k", String(d.settings.knnK))
        try root.setStringAttribute("mahalanobis_ridge", "\(d.settings.mahalanobisRidge)")
        try root.setStringAttribute("energy_temperature", "\(d.settings.energyTemperature)")
        try root.setStringAttribute("odin_temperature", "\(d.settings.odinTemperature)")
        if let tpr = d.calibrationTPR { try root.setStringAttribute("calibration_tpr", "\(tpr)") }
        if let model = d.model {
            try root.setStringAttribute("model_sha256", model.sha256)
            try root.setStringAttribute("input_name", model.inputName)
            try root.setStringAttribute("embedding_output", model.outputName)
            try writePreprocessing(model.preprocessing, root)
        }
        let c = d.classCount, n = d.dimension
        try root.writeDataset("means", shape: [c, n], doubles: d.means.flatMap { $0 })
        try root.writeDataset("counts", shape: [c], doubles: d.counts.map(Double.init))
        try root.writeDataset("spread", shape: [c], doubles: d.spread)
        try root.writeDataset("covariance", shape: [n, n], doubles: d.covariance)
        try root.writeDataset("precision", shape: [n, n], doubles: d.precision)
        if let training = d.normalizedTraining {
            try root.writeDataset("training_embeddings", shape: [training.count / n, n], values: training)
        }
        let thresholds = try root.createGroup("thresholds")
        defer { thresholds.close() }
        for (scorer, value) in d.thresholds.sorted(by: { $0.key < $1.key }) {
            try thresholds.setStringAttribute(scorer, "\(value)")
        }
    }

    /// Reads a detector file.
    public static func read(at path: String) throws(DetectorError) -> Detector {
        do {
            let file = try HDF5File(path: path)
            defer { file.close() }
            let root = try file.root()
            defer { root.close() }
            return try readContents(root, path: path)
        } catch let error as DetectorError {
            throw error
        } catch let error as HDF5Error {
            throw .invalidFile(path: path, reason: error.object == "/" ? error.message : "\(error.object): \(error.message)")
        } catch {
            throw .invalidFile(path: path, reason: "\(error)")
        }
    }

    private static func readContents(_ root: HDF5Group, path: String) throws -> Detector {
        func fail(_ reason: String) -> DetectorError { .invalidFile(path: path, reason: reason) }
        func string(_ name: String, in group: HDF5Group? = nil) throws -> String {
            guard let value = try (group ?? root).stringAttribute(name) else { throw fail("missing attribute '\(name)'") }
            return value
        }
        func number(_ name: String) throws -> Double {
            guard let value = Double(try string(name)) else { throw fail("attribute '\(name)' is not a number") }
            return value
        }
        func doubles(_ name: String, _ shape: [Int]) throws -> [Double] {
            let dataset = try root.dataset(name)
            defer { dataset.close() }
            guard dataset.shape == shape else { throw fail("dataset '\(name)' has shape \(dataset.shape), expected \(shape)") }
            return try dataset.readDoubles()
        }
        guard root.hasAttribute("format"), try string("format") == formatName else {
            throw fail("not a Vigil detector file (an HDF5 file without format = \(formatName))")
        }
        let version = try string("format_version")
        guard version == formatVersion || version == "1" else { throw fail("unsupported detector format version \(version)") }
        let c = Int(try number("class_count")), n = Int(try number("dimension"))
        guard c > 0, n > 0 else { throw fail("empty detector") }
        let counts = try string("counts").split(separator: ",").compactMap { Int($0) }
        guard counts.count == c else { throw fail("attribute 'counts' does not list \(c) classes") }
        let meansFlat = try doubles("means", [c, n])
        var training: [Float]?
        if root.contains("training_embeddings") {
            let dataset = try root.dataset("training_embeddings")
            defer { dataset.close() }
            guard dataset.shape.count == 2, dataset.shape[1] == n else { throw fail("training_embeddings must be [N, \(n)]") }
            training = try dataset.readFloats()
        }
        var thresholds: [String: Double] = [:]
        if root.contains("thresholds") {
            let group = try root.group("thresholds")
            defer { group.close() }
            for name in try group.attributeNames() {
                guard let value = Double(try string(name, in: group)) else { throw fail("threshold '\(name)' is not a number") }
                thresholds[name] = value
            }
        }
        var model: ModelBinding?
        if root.hasAttribute("model_sha256") {
            model = ModelBinding(
                sha256: try string("model_sha256"), inputName: try string("input_name"),
                outputName: try string("embedding_output"), preprocessing: try readPreprocessing(root, version: version, path: path))
        }
        let settings = ScorerSettings(
            knnK: Int(try number("knn_k")), mahalanobisRidge: try number("mahalanobis_ridge"),
            energyTemperature: try number("energy_temperature"), odinTemperature: try number("odin_temperature"))
        return Detector(
            dimension: n, means: (0..<c).map { Array(meansFlat[($0 * n)..<(($0 + 1) * n)]) }, counts: counts,
            spread: try doubles("spread", [c]), covariance: try doubles("covariance", [n, n]),
            ridge: try number("ridge"), precision: try doubles("precision", [n, n]),
            normalizedTraining: training, settings: settings, thresholds: thresholds,
            calibrationTPR: root.hasAttribute("calibration_tpr") ? try number("calibration_tpr") : nil, model: model)
    }
}
