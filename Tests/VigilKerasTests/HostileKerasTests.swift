import Foundation
import VigilHDF5
import VigilKeras
import VigilTestSupport
import XCTest

/// The Keras classes of issue 18 (Fixtures/hostile/keras, Fixtures/generate_hostile.py): archives
/// with unsafe, duplicate, corrupt or oversized members, configs with nothing to compute or a
/// cycle, and HDF5 files that point elsewhere, nest without end or declare huge datasets. Each is
/// one error naming the file (and the object inside it).
final class HostileKerasTests: XCTestCase {
    static let folder = Repository.fixtures.appendingPathComponent("hostile/keras")
    static let denseWeights = Repository.fixtures.appendingPathComponent("keras/dense_mlp/model.weights.h5").path

    func file(_ name: String) -> String { Self.folder.appendingPathComponent(name).path }

    func assertRefused(_ name: String, config: String? = nil, kind: KerasImportError.Kind, _ cause: String, line: UInt = #line) {
        let path = name.hasPrefix("/") ? name : file(name)
        XCTAssertThrowsError(try KerasImporter.importModel(at: path, config: config), line: line) { error in
            guard let error = error as? KerasImportError else { return XCTFail("\(error)", line: line) }
            XCTAssertEqual(error.kind, kind, error.description, line: line)
            XCTAssertTrue(error.description.hasPrefix(path + ": "), error.description, line: line)
            XCTAssertTrue(error.description.contains(cause), "'\(error)' should mention '\(cause)'", line: line)
            XCTAssertFalse(error.description.contains("\n"), line: line)
        }
    }

    func testArchiveTricksAreRefused() {
        assertRefused("traversal.keras", kind: .archive, "a member with an unsafe path '../evil.txt'")
        assertRefused("duplicate_config.keras", kind: .archive, "2 members named config.json")
        assertRefused("crc_lie.keras", kind: .archive, "'config.json' in the archive: CRC-32 mismatch")
        assertRefused("size_lie.keras", kind: .archive, "'model.weights.h5' in the archive")
        assertRefused("ratio_lie.keras", kind: .archive, "claims 2000000000 bytes from")
        assertRefused("zip_bomb.keras", kind: .archive, "config.json is 314572802 bytes (at most 67108864)")
    }

    /// Found by the keras-zip fuzz harness (in the CI run of a fresh clone): a central directory
    /// entry pointing past the end of the file made ZIPFoundation trap; Vigil's own reader refuses it.
    func testCorruptCentralDirectoryIsRefused() {
        assertRefused("fuzz_zipfoundation_trap.keras", kind: .archive, "not a readable zip archive: an offset points past the end of the file")
    }

    func testConfigsWithNothingToComputeOrACycleAreRefused() {
        assertRefused("no_layers.keras", kind: .invalidConfig, "has no layers (nothing to compute)")
        assertRefused("layer_cycle.keras", kind: .invalidConfig, "its input 'b' (node 0, tensor 0) is never computed")
        assertRefused(Self.denseWeights, config: file("no_layers.json"), kind: .invalidConfig, "has no layers (nothing to compute)")
        assertRefused(Self.denseWeights, config: file("layer_cycle.json"), kind: .invalidConfig, "is never computed")
    }

    func testHDF5FilesThatPointElsewhereAreRefused() {
        assertRefused("external_link.h5", kind: .hdf5, "/model_weights/hidden: is an external link to another file")
        assertRefused("soft_link.h5", kind: .hdf5, "/model_weights/hidden: is a soft link")
        assertRefused("external_storage.h5", kind: .hdf5, "kernel: keeps its elements in external files")
        assertRefused("virtual_dataset.h5", kind: .hdf5, "kernel: is a virtual dataset")
        assertRefused("lzf_filter.h5", kind: .hdf5, "uses HDF5 filter 32000, which is not built into libhdf5")
    }

    func testDeepCyclicOrHugeHDF5IsRefusedBeforeAllocating() {
        assertRefused("hard_link_cycle.h5", kind: .hdf5, "/model_weights/hidden/dense_mlp/loop: the object is linked from two places")
        assertRefused("deep_groups.h5", kind: .hdf5, "groups nested deeper than 64 levels")
        assertRefused("huge_dataset.h5", kind: .hdf5, "declares [1048576, 1048576] elements (4398046511104 bytes as float32)")
    }

    /// The same refusals with libhdf5 in this process (the fallback when the reader is missing).
    func testInProcessFallbackRefusesTheSame() throws {
        for name in ["external_link.h5", "external_storage.h5", "virtual_dataset.h5", "hard_link_cycle.h5", "huge_dataset.h5"] {
            XCTAssertThrowsError(try HDF5Reader.read(file(name), options: .init(isolation: .inProcess)), name) { error in
                XCTAssertTrue([.refused, .limit].contains((error as? HDF5Error)?.kind), "\(name): \(error)")
            }
        }
    }

    func testFIFOIsRefusedWithoutBlocking() throws {
        let directory = try Repository.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        for name in ["model.h5", "model.keras"] {
            let fifo = directory.appendingPathComponent(name).path
            XCTAssertEqual(mkfifo(fifo, 0o644), 0)
            assertRefused(fifo, kind: .cannotRead, "not a regular file")
        }
        let config = directory.appendingPathComponent("config.json").path
        XCTAssertEqual(mkfifo(config, 0o644), 0)
        assertRefused(Self.denseWeights, config: config, kind: .cannotRead, "not a regular file")
    }
}
