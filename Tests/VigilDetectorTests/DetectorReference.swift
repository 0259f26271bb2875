import Foundation
import VigilDetector
import VigilIR
import VigilNumpy
import VigilTestSupport
import XCTest

/// `Fixtures/detector/`: data, models and the numpy/scikit-learn references written by
/// `Fixtures/generate_detector.py` (floats are repr strings in `reference.json`).
enum DetectorFixtures {
    static var directory: URL { Repository.fixtures.appendingPathComponent("detector") }

    static func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    nonisolated(unsafe) static let reference: [String: Any] = {
        let data = try! Data(contentsOf: directory.appendingPathComponent("reference.json"))
        return try! JSONSerialization.jsonObject(with: data) as! [String: Any]
    }()

    /// The OOD sets scored against the in-distribution test set.
    static let oodSets = ["novelty", "gaussian", "uniform", "photos"]
    static let scoredSets = ["val", "test"] + oodSets

    static func double(_ value: Any) -> Double { Double(value as! String)! }
    static func doubles(_ value: Any) -> [Double] { (value as! [Any]).map(double) }

    static func section(_ key: String) -> [String: Any] { reference[key] as! [String: Any] }

    /// Reference scores of `scorer` on `set`.
    static func scores(_ scorer: String, _ set: String) -> [Double] {
        doubles((section("scores")[scorer] as! [String: Any])[set]!)
    }

    static func settings() -> ScorerSettings {
        let s = section("settings")
        return ScorerSettings(
            knnK: s["knn_k"] as! Int, mahalanobisRidge: double(s["mahalanobis_ridge"]!),
            energyTemperature: double(s["energy_temperature"]!), odinTemperature: double(s["odin_temperature"]!))
    }

    static func tensor(_ name: String) throws -> Tensor { try NPY.read(at: path(name)) }

    /// A float32 `[N, D]` .npy as ``Embeddings``.
    static func embeddings(_ name: String) throws -> Embeddings {
        let t = try tensor(name)
        return try Embeddings(values: t.scalars(as: Float.self), count: t.shape[0], dimension: t.shape[1])
    }

    static func labels(_ set: String) throws -> [Int] {
        try tensor("\(set)_labels.npy").scalars(as: Int64.self).map(Int.init)
    }

    /// The detector fitted by the library on the reference training embeddings.
    static func fittedOnReference() throws -> Detector {
        try Detector.fit(embeddings: embeddings("train_embedding.npy"), labels: labels("train"), settings: settings())
    }
}
