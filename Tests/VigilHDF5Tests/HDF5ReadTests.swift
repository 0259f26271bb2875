import Foundation
import VigilHDF5
import VigilTestSupport
import XCTest

/// The HDF5 wrapper reads what h5py wrote: groups, dataset shapes and values of a Keras fixture,
/// against the values the fixture generator recorded with Keras (`weights.json`).
final class HDF5ReadTests: XCTestCase {
    func testReadsKerasWeightsAsRecorded() throws {
        let folder = Repository.fixtures.appendingPathComponent("keras/activations")
        let recorded = try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("weights.json"))) as! [String: Any]
        let prelu = try XCTUnwrap((recorded["prelu"] as? [[String: Any]])?.first)
        let shape = try XCTUnwrap(prelu["shape"] as? [Int])
        let values = try XCTUnwrap(prelu["values"] as? [Double])

        let file = try HDF5File(path: folder.appendingPathComponent("model.h5").path)
        defer { file.close() }
        let weights = try file.group("model_weights")
        XCTAssertTrue(try weights.childNames().contains("prelu"))
        XCTAssertTrue(weights.isGroup("prelu"))
        let alpha = try weights.group("prelu").group("prelu").dataset("alpha")
        XCTAssertEqual(alpha.shape, shape)
        XCTAssertTrue(alpha.isNumeric)
        XCTAssertEqual(try alpha.readFloats().map(Double.init), values.map { Double(Float($0)) })
    }

    func testMissingMembersAndFilesAreErrors() throws {
        let path = Repository.fixtures.appendingPathComponent("keras/activations/model.h5").path
        let file = try HDF5File(path: path)
        defer { file.close() }
        XCTAssertFalse(try file.root().contains("no_such_group"))
        XCTAssertThrowsError(try file.group("no_such_group"))
        XCTAssertThrowsError(try HDF5File(path: "/nonexistent/model.h5"))
    }
}
