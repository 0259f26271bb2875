import Foundation
import VigilTestSupport

/// The fixtures written by `Fixtures/generate_keras.py` (see `Formats/keras.md`).
enum KerasFixtures {
    static var root: URL { Repository.fixtures.appendingPathComponent("keras") }

    struct Entry {
        var name: String
        var inputs: [String]
        var outputCount: Int
        var folder: URL { KerasFixtures.root.appendingPathComponent(name) }
        func file(_ name: String) -> String { folder.appendingPathComponent(name).path }
    }

    /// Every model in `manifest.json`.
    static func all() throws -> [Entry] {
        let data = try Data(contentsOf: root.appendingPathComponent("manifest.json"))
        let json = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        return json.keys.sorted().filter { !$0.hasPrefix("_") }.map { name in
            let entry = json[name] as! [String: Any]
            return Entry(name: name, inputs: entry["inputs"] as! [String], outputCount: entry["outputs"] as! Int)
        }
    }

    /// The (file, config) pairs to import for a fixture: every layout it was saved in.
    static func variants(_ entry: Entry) -> [(file: String, config: String?)] {
        if entry.name == "keras2_legacy" {
            return [(entry.file("model.h5"), nil), (entry.file("weights_only.h5"), entry.file("config.json"))]
        }
        return [
            (entry.file("model.h5"), nil), (entry.file("model.keras"), nil),
            (entry.file("model.weights.h5"), entry.file("config.json")),
        ]
    }

    /// `weights.json`: each top-level layer's weights as h5py read them from `model.h5`.
    static func recordedWeights(_ entry: Entry) throws -> [String: [(name: String, shape: [Int], values: [Float])]] {
        let data = try Data(contentsOf: entry.folder.appendingPathComponent("weights.json"))
        let json = try JSONSerialization.jsonObject(with: data) as! [String: [[String: Any]]]
        return json.mapValues { list in
            list.map { item in
                (item["name"] as! String, item["shape"] as! [Int], (item["values"] as! [NSNumber]).map { $0.floatValue })
            }
        }
    }
}
