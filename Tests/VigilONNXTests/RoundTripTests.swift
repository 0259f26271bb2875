import Foundation
import VigilIR
import VigilONNX
import VigilTestSupport
import XCTest

/// read → write → read must give an identical IR for every fixture, inline and with external data.
final class RoundTripTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws { directory = try Repository.temporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    func testEveryFixtureRoundTripsInline() throws {
        for entry in try FixtureManifest.load().models {
            let original = try ONNXReader.readModel(at: entry.url.path)
            let path = directory.appendingPathComponent("\(entry.name).onnx").path
            let report = try ONNXWriter.write(original, to: path)
            XCTAssertNil(report.externalDataLocation)
            let reread = try ONNXReader.readModel(at: path)
            XCTAssertEqual(reread, original, entry.name)
            XCTAssertTrue(reread.externalDataLocations.isEmpty, entry.name)
            // Writing is deterministic: the same IR gives the same bytes.
            let again = directory.appendingPathComponent("\(entry.name)-again.onnx").path
            try ONNXWriter.write(reread, to: again)
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)), try Data(contentsOf: URL(fileURLWithPath: again)), entry.name)
        }
    }

    func testEveryFixtureRoundTripsThroughExternalData() throws {
        for entry in try FixtureManifest.load().models {
            let original = try ONNXReader.readModel(at: entry.url.path)
            let folder = directory.appendingPathComponent(entry.name)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let path = folder.appendingPathComponent("model.onnx").path
            let report = try ONNXWriter.write(original, to: path, options: .init(externalDataThreshold: 64))
            let reread = try ONNXReader.readModel(at: path)
            XCTAssertEqual(reread, original, entry.name)
            let large = original.graph.initializers.filter { $0.tensor.dtype != .string && $0.tensor.byteCount >= 64 }
            XCTAssertEqual(report.externalTensorCount, large.count, entry.name)
            if large.isEmpty {
                XCTAssertFalse(FileManager.default.fileExists(atPath: path + ".data"), entry.name)
            } else {
                XCTAssertEqual(reread.externalDataLocations, ["model.onnx.data"], entry.name)
                for (name, tensor) in reread.graph.initializers where tensor.byteCount >= 64 && tensor.dtype != .string {
                    let source = try XCTUnwrap(tensor.externalSource, name)
                    XCTAssertEqual(source.offset % 64, 0, "\(entry.name) \(name) is aligned")
                }
            }
        }
    }

    func testExternalDataFixtureIsMappedNotInlined() throws {
        let entry = try XCTUnwrap(try FixtureManifest.load().models.first { $0.name == "external_data" })
        let model = try ONNXReader.readModel(at: entry.url.path)
        XCTAssertEqual(model.externalDataLocations, entry.external_data_files)
        for (name, tensor) in model.graph.initializers {
            XCTAssertNotNil(tensor.externalSource, name)
        }
    }

    func testWriterLeavesNothingWhenTheFolderIsMissing() throws {
        let model = try ONNXReader.readModel(at: Repository.onnxFixtures.appendingPathComponent("gemm_mlp/model.onnx").path)
        let path = directory.appendingPathComponent("missing/model.onnx").path
        XCTAssertThrowsError(try ONNXWriter.write(model, to: path)) { error in
            XCTAssertTrue("\(error)".hasPrefix(path + ": "), "\(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: path))
    }

    func testWriterReplacesAnExistingFileWholeAndLeavesNoTemporaries() throws {
        let model = try ONNXReader.readModel(at: Repository.onnxFixtures.appendingPathComponent("gemm_mlp/model.onnx").path)
        let path = directory.appendingPathComponent("model.onnx").path
        try Data("old contents".utf8).write(to: URL(fileURLWithPath: path))
        try ONNXWriter.write(model, to: path)
        XCTAssertEqual(try ONNXReader.readModel(at: path), model)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), ["model.onnx"])
    }
}
