import Foundation
import VigilFiles
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

    /// Writes `detector` to `path` through `OutputFile`: whole or not at all, never over a
    /// symlink, a non-regular file or one of `inputs` (the networks and data it was fitted on).
    public static func write(_ detector: Detector, to path: String, protecting inputs: InputFiles = InputFiles()) throws(DetectorError) {
        let output: OutputFile
        do { output = try OutputFile(path, protecting: inputs) } catch { throw .invalidFile(path: error.path, reason: error.reason) }
        do {
            let file = try HDF5File.create(path: output.temporaryPath)
            defer { file.close() }
            let root = try file.root()
            defer { root.close() }
            try writeContents(detector, root)
        } catch {
            throw .invalidFile(path: path, reason: "cannot write: \(error)")
        }
        do { try output.commit() } catch { throw .invalidFile(path: error.path, reason: error.reason) }
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
        if let classifier = d.classifierSHA256 { try root.setStringAttribute("classifier_sha256", classifier) }
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

    /// Reads a detector file as untrusted input: through the isolated `HDF5Reader` (external
    /// storage, links and virtual datasets refused; sizes bounded), then every number is checked:
    /// counts and sizes are integers in range and consistent with the datasets, statistics and
    /// thresholds are finite.
    public static func read(at path: String, recordingInputsIn inputs: InputFiles? = nil) throws(DetectorError) -> Detector {
        do {
            let snapshot = try HDF5Reader.read(path)
            inputs?.add(path)
            return try DetectorContents(root: snapshot.root, path: path).detector()
        } catch let error as DetectorError {
            throw error
        } catch let error as HDF5Error {
            throw .invalidFile(path: path, reason: error.object == "/" ? error.message : "\(error.object): \(error.message)")
        } catch {
            throw .invalidFile(path: path, reason: "\(error)")
        }
    }
}
