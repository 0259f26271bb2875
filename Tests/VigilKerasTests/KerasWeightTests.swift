import Foundation
import VigilIR
import VigilKeras
import XCTest

/// The weights the importer reads equal the ones h5py read (recorded by the generator), in every layout.
final class KerasWeightTests: XCTestCase {
    func testWeightsMatchH5pyInEveryLayout() throws {
        for entry in try KerasFixtures.all() {
            let recorded = try KerasFixtures.recordedWeights(entry)
            for (file, config) in KerasFixtures.variants(entry) {
                let label = "\(entry.name)/\(URL(fileURLWithPath: file).lastPathComponent)"
                let layers = try KerasImporter.layerWeights(at: file, config: config)
                // Group nested layers under their top-level layer, as the legacy file does.
                var grouped: [String: [KerasWeight]] = [:]
                for (layer, weights) in layers {
                    grouped[String(layer.split(separator: "/")[0]), default: []] += weights
                }
                let expected = recorded.filter { !$0.value.isEmpty }
                XCTAssertEqual(Set(grouped.keys), Set(expected.keys), label)
                for (layer, weights) in expected {
                    let actual = grouped[layer] ?? []
                    XCTAssertEqual(actual.count, weights.count, "\(label) \(layer)")
                    for (a, e) in zip(actual, weights) {
                        XCTAssertEqual(a.shape, e.shape, "\(label) \(layer) \(e.name)")
                        XCTAssertEqual(a.values, e.values, "\(label) \(layer) \(e.name)")
                    }
                }
            }
        }
    }

    func testKeras2NamesKeepTheirSuffixes() throws {
        let entry = try XCTUnwrap(try KerasFixtures.all().first { $0.name == "keras2_legacy" })
        let layers = try KerasImporter.layerWeights(at: entry.file("model.h5"))
        XCTAssertEqual(layers.map(\.layer), ["conv2d", "batch_normalization", "sequential/dense", "sequential/dense_1"])
        XCTAssertEqual(layers[0].weights.map(\.name), ["conv2d/kernel:0", "conv2d/bias:0"])
        XCTAssertEqual(layers[2].weights.map(\.name), ["dense/kernel:0", "dense/bias:0"])
    }

    /// Shared layers get one set of initializers; convolutions are wrapped in transposes to NCHW.
    func testStructure() throws {
        let merge = try XCTUnwrap(try KerasFixtures.all().first { $0.name == "merge_functional" })
        let model = try KerasImporter.importModel(at: merge.file("model.keras"))
        XCTAssertEqual(model.graph.initializerNames.filter { $0.hasPrefix("shared/") }.count, 2)
        XCTAssertEqual(model.graph.nodes.filter { $0.opType == "MatMul" && $0.inputs[1] == "shared/kernel" }.count, 3)
        XCTAssertEqual(model.graph.outputs.map(\.name), ["inner", "max_out"])
        XCTAssertEqual(model.opsetVersion(for: ""), 17)

        // Dict outputs are named after their keys, in key order.
        let dict = try XCTUnwrap(try KerasFixtures.all().first { $0.name == "dict_io" })
        let dictModel = try KerasImporter.importModel(at: dict.file("model.keras"))
        XCTAssertEqual(dictModel.graph.inputs.map(\.name), ["alpha", "zeta"])
        XCTAssertEqual(dictModel.graph.outputs.map(\.name), ["diff", "sum"])

        let conv = try XCTUnwrap(try KerasFixtures.all().first { $0.name == "conv2d_net" })
        let convModel = try KerasImporter.importModel(at: conv.file("model.h5"))
        let kernel = try XCTUnwrap(convModel.graph.initializer("conv_same/kernel"))
        XCTAssertEqual(kernel.shape, [4, 3, 3, 3])
        let depthwise = try XCTUnwrap(convModel.graph.initializer("depthwise/depthwise_kernel"))
        XCTAssertEqual(depthwise.shape, [12, 1, 3, 3])
        XCTAssertEqual(convModel.graph.inputs.first?.type, .tensor(.float32, Shape([.symbolic("batch"), .fixed(12), .fixed(12), .fixed(3)])))
        XCTAssertEqual(convModel.graph.outputs.first?.type, .tensor(.float32, Shape([.symbolic("batch"), .fixed(5)])))
    }
}
