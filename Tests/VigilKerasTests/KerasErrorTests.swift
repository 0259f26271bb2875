import Foundation
import VigilHDF5
import VigilKeras
import VigilTestSupport
import XCTest

/// Each bad input is a `KerasImportError` whose description names the file and, when one is involved, the layer.
final class KerasErrorTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws { directory = try Repository.temporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    func fixture(_ name: String) throws -> KerasFixtures.Entry {
        try XCTUnwrap(try KerasFixtures.all().first { $0.name == name })
    }

    /// Writes a config derived from a fixture's `config.json` by a text substitution.
    func editedConfig(_ entry: KerasFixtures.Entry, _ edit: (String) -> String) throws -> String {
        let text = try String(contentsOfFile: entry.file("config.json"), encoding: .utf8)
        let edited = edit(text)
        XCTAssertNotEqual(edited, text, "the edit changed nothing")
        let url = directory.appendingPathComponent("config-\(UUID().uuidString).json")
        try edited.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    func expectError(_ file: String, config: String? = nil, layer: String? = nil,
                     line: UInt = #line, _ check: (KerasImportError) -> Void) {
        do {
            _ = try KerasImporter.importModel(at: file, config: config)
            XCTFail("imported without error", line: line)
        } catch {
            XCTAssertTrue(error.description.contains(file), "names the file: \(error)", line: line)
            if let layer { XCTAssertTrue(error.description.contains("'\(layer)'"), "names the layer: \(error)", line: line) }
            check(error)
        }
    }

    func testNotHDF5() throws {
        let url = directory.appendingPathComponent("model.h5")
        try Data("this is not an HDF5 file, just text padding it out".utf8).write(to: url)
        expectError(url.path) { XCTAssertEqual($0.kind, .notKerasFile) }
    }

    func testMissingFile() throws {
        expectError(directory.appendingPathComponent("nothing.h5").path) { XCTAssertEqual($0.kind, .cannotRead) }
    }

    func testHDF5WithoutModelConfig() throws {
        let entry = try fixture("dense_mlp")
        expectError(entry.file("model.weights.h5")) {
            XCTAssertEqual($0.kind, .noModelConfig)
            XCTAssertTrue($0.message.contains("config"), $0.message)
        }
        expectError(try fixture("keras2_legacy").file("weights_only.h5")) { XCTAssertEqual($0.kind, .noModelConfig) }
    }

    func testUnknownLayerClass() throws {
        let entry = try fixture("dense_mlp")
        let config = try editedConfig(entry) { $0.replacingOccurrences(of: "\"class_name\": \"LeakyReLU\"", with: "\"class_name\": \"FancyReLU\"") }
        expectError(entry.file("model.weights.h5"), config: config, layer: "leaky_re_lu") {
            XCTAssertEqual($0.kind, .unsupportedLayer(className: "FancyReLU"))
            XCTAssertTrue($0.description.contains("FancyReLU"), $0.description)
        }
    }

    func testLambdaAndCustomLayers() throws {
        let entry = try fixture("dense_mlp")
        let lambda = try editedConfig(entry) { $0.replacingOccurrences(of: "\"class_name\": \"LeakyReLU\"", with: "\"class_name\": \"Lambda\"") }
        expectError(entry.file("model.weights.h5"), config: lambda, layer: "leaky_re_lu") {
            XCTAssertEqual($0.kind, .customLayer(className: "Lambda"))
        }
        let custom = try editedConfig(entry) {
            $0.replacingOccurrences(
                of: "{\"module\": \"keras.layers\", \"class_name\": \"LeakyReLU\"",
                with: "{\"module\": \"my_project.layers\", \"class_name\": \"MyReLU\"")
        }
        expectError(entry.file("model.weights.h5"), config: custom, layer: "leaky_re_lu") {
            XCTAssertEqual($0.kind, .customLayer(className: "MyReLU"))
        }
    }

    func testWeightShapeDisagreesWithConfig() throws {
        let entry = try fixture("dense_mlp")
        let config = try editedConfig(entry) { $0.replacingOccurrences(of: "\"units\": 16", with: "\"units\": 12") }
        for file in [entry.file("model.weights.h5"), entry.file("model.h5"), entry.file("model.keras")] {
            expectError(file, config: config, layer: "hidden") {
                XCTAssertEqual($0.kind, .weightShapeMismatch)
                XCTAssertTrue($0.message.contains("[8, 16]") && $0.message.contains("[8, 12]"), $0.message)
            }
        }
    }

    /// A zero stride (found by the keras-weights fuzz harness) is refused by the layer that declares it, an
    /// input dimension beyond 2^31 by the model.
    func testZeroStrideAndHugeInputAreRefused() throws {
        let entry = try fixture("conv2d_net")
        let text = try String(contentsOfFile: entry.file("config.json"), encoding: .utf8)
        let range = try XCTUnwrap(text.range(of: "\"strides\": [2, 2]"))
        let zeroStride = try editedConfig(entry) { $0.replacingCharacters(in: range, with: "\"strides\": [0, 2]") }
        expectError(entry.file("model.weights.h5"), config: zeroStride) { error in
            XCTAssertEqual(error.kind, .invalidConfig)
            XCTAssertTrue(error.message.contains("'strides' is [0, 2]; each value must be between 1 and"), error.description)
            XCTAssertNotNil(error.layer, error.description)
        }
        let hugeInput = try editedConfig(entry) {
            $0.replacingOccurrences(of: "\"batch_shape\": [null, 12, 12, 3]", with: "\"batch_shape\": [null, 12, 4294967296, 3]")
        }
        expectError(entry.file("model.weights.h5"), config: hugeInput) { error in
            XCTAssertEqual(error.kind, .invalidConfig)
            XCTAssertTrue(error.message.contains("dimension 4294967296 of shape [None, 12, 4294967296, 3] is outside 0…2147483648"), error.description)
        }
    }

    func testMissingWeights() throws {
        // A config whose layer names the weights file does not know: the importer finds no weights for it.
        let entry = try fixture("dense_mlp")
        let config = try editedConfig(entry) {
            $0.replacingOccurrences(of: "\"name\": \"hidden\"", with: "\"name\": \"renamed\"")
        }
        expectError(entry.file("model.h5"), config: config, layer: "renamed") { XCTAssertEqual($0.kind, .missingWeights) }
        // Keras 2 weights with a use_bias=False edit: the file has more weights than the config needs.
        let legacy = try fixture("keras2_legacy")
        let noBias = try editedConfig(legacy) {
            $0.replacingOccurrences(of: "\"units\": 3, \"activation\": \"linear\", \"use_bias\": true",
                                    with: "\"units\": 3, \"activation\": \"linear\", \"use_bias\": false")
        }
        expectError(legacy.file("weights_only.h5"), config: noBias, layer: "sequential/dense_1") {
            XCTAssertEqual($0.kind, .weightShapeMismatch)
        }
    }

    func testTruncatedFile() throws {
        let entry = try fixture("conv2d_net")
        for name in ["model.h5", "model.keras"] {
            let data = try Data(contentsOf: URL(fileURLWithPath: entry.file(name)))
            let url = directory.appendingPathComponent("truncated-\(name)")
            try data.prefix(data.count / 2).write(to: url)
            expectError(url.path) { error in
                XCTAssertTrue([.hdf5, .archive, .notKerasFile].contains(error.kind), "\(error)")
            }
        }
    }

    func testInvalidConfigJSON() throws {
        let entry = try fixture("dense_mlp")
        let url = directory.appendingPathComponent("config.json")
        try Data("{not json".utf8).write(to: url)
        expectError(entry.file("model.weights.h5"), config: url.path) { XCTAssertEqual($0.kind, .invalidConfig) }
    }

    func testHDF5ErrorsCarryFileAndObject() throws {
        let entry = try fixture("dense_mlp")
        let file = try HDF5File(path: entry.file("model.h5"))
        defer { file.close() }
        XCTAssertThrowsError(try file.group("/model_weights/nothing")) { error in
            let error = error as! HDF5Error
            XCTAssertEqual(error.kind, .missing)
            XCTAssertEqual(error.object, "/model_weights/nothing")
            XCTAssertEqual(error.file, entry.file("model.h5"))
        }
        let root = try file.root()
        XCTAssertNotNil(try root.stringAttribute("model_config"))
        XCTAssertEqual(try root.stringAttribute("backend"), "jax")
        XCTAssertThrowsError(try root.dataset("model_weights")) { XCTAssertEqual(($0 as! HDF5Error).kind, .wrongKind) }
        let names = try file.group("/model_weights").chunkedStringsAttribute("layer_names")
        XCTAssertEqual(names?.first, "hidden")
        root.close()
        XCTAssertThrowsError(try root.childNames()) { XCTAssertEqual(($0 as! HDF5Error).kind, .closed) }
    }

    func testWithFileClosesTheFile() throws {
        let entry = try fixture("keras2_legacy")
        let names = try HDF5File.withFile(entry.file("model.h5")) { file in
            try file.group("/model_weights").chunkedStringsAttribute("layer_names")
        }
        XCTAssertEqual(names, ["input_1", "conv2d", "batch_normalization", "max_pooling2d", "flatten", "sequential", "activation"])
    }
}
