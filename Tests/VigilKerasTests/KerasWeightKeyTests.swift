import Foundation
import VigilExecutor
import VigilHDF5
import VigilIR
@testable import VigilKeras
import VigilTestSupport
import XCTest

/// Keras 3 weight files key layers by snake-cased class name; older files lack the `vars@name`
/// attribute, so the importer must derive the same keys.
final class KerasWeightKeyTests: XCTestCase {
    func testSnakeCaseMatchesKeras() {
        let cases = [
            "Dense": "dense", "Conv2DTranspose": "conv2d_transpose", "BatchNormalization": "batch_normalization",
            "ReLU": "re_lu", "PReLU": "p_re_lu", "DepthwiseConv2D": "depthwise_conv2d",
            "GlobalAveragePooling1D": "global_average_pooling1d", "UpSampling2D": "up_sampling2d", "InputLayer": "input_layer",
            "SpatialDropout1D": "spatial_dropout1d", "ELU": "elu", "LayerNormalization": "layer_normalization",
        ]
        for (name, snake) in cases { XCTAssertEqual(kerasSnakeCase(name), snake, name) }
    }

    /// For every fixture, the key derived for each layer is the group the Keras 3 saver used for it.
    func testDerivedKeysMatchTheSavedGroups() throws {
        for entry in try KerasFixtures.all() where entry.name != "keras2_legacy" {
            let config = try JSONValue.parse(try Data(contentsOf: entry.folder.appendingPathComponent("config.json")))
            let file = try HDF5File(path: entry.file("model.weights.h5"))
            defer { file.close() }
            func check(_ model: JSONValue, container: String) throws {
                var layers = model["config"]?["layers"]?.array ?? []
                if model["class_name"]?.string == "Sequential", layers.first?["class_name"]?.string == "InputLayer" { layers.removeFirst() }
                for (layer, key) in zip(layers, ModelWalker.keys(for: layers)) where !key.isEmpty {
                    let name = layer["config"]?["name"]?.string ?? ""
                    let vars = try file.group("\(container)/\(key)/vars")
                    XCTAssertEqual(try vars.stringAttribute("name"), name, "\(entry.name): \(container)/\(key)")
                    vars.close()
                    if ModelWalker.modelClasses.contains(layer["class_name"]?.string ?? "") {
                        try check(layer, container: "\(container)/\(key)/layers")
                    }
                }
            }
            try check(config, container: "/layers")
        }
    }

    /// A Keras 3 weights file without `vars@name` (as older Keras 3 versions wrote) imports by key.
    func testWeightsWithoutLayerNamesImportByKey() throws {
        let entry = try XCTUnwrap(try KerasFixtures.all().first { $0.name == "merge_functional" })
        let directory = try Repository.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("old.weights.h5").path
        let source = try HDF5File(path: entry.file("model.weights.h5"))
        let target = try HDF5File.create(path: path)
        // Copy every dataset under /layers, leaving out the attributes.
        func copy(_ group: HDF5Group) throws {
            for child in try group.childNames() {
                let relative = String(group.path.dropFirst()) + "/" + child
                if group.isGroup(child) {
                    let sub = try group.group(child)
                    _ = try target.createGroup(relative)
                    try copy(sub)
                    sub.close()
                } else {
                    let dataset = try group.dataset(child)
                    let root = try target.root()
                    try root.writeDataset(relative, shape: dataset.shape, values: try dataset.readFloats())
                    root.close()
                    dataset.close()
                }
            }
        }
        try copy(try source.group("/layers"))
        source.close()
        target.close()
        let original = try KerasImporter.importModel(at: entry.file("model.keras"))
        let rebuilt = try KerasImporter.importModel(at: path, config: entry.file("config.json"))
        XCTAssertEqual(rebuilt.graph.initializerNames, original.graph.initializerNames)
        for name in original.graph.initializerNames {
            XCTAssertEqual(rebuilt.graph.initializer(name), original.graph.initializer(name), name)
        }
    }
}
