import Foundation
import VigilHDF5
import VigilTestSupport
import XCTest

/// Untrusted HDF5 files are parsed by the isolated reader process; what it returns equals an
/// in-process read, and its crashes, hangs and garbage become one-line errors.
final class HDF5ReaderTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws { directory = try Repository.temporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    static let fixtures = ["keras/dense_mlp/model.h5", "keras/dense_mlp/model.weights.h5", "keras/conv2d_net/model.h5",
                           "keras/keras2_legacy/model.h5", "detector/classifier.h5", "hostile/detector/valid.h5"]

    func fixture(_ name: String) -> String { Repository.fixtures.appendingPathComponent(name).path }

    /// Every group, dataset, attribute and element, as text, for comparing two snapshots.
    func dump(_ group: HDF5Snapshot.Group) throws -> [String] {
        var lines = ["group \(group.path) \(group.attributes.sorted { $0.key < $1.key })"]
        for name in group.childNames() {
            switch group.children[name]! {
            case .group(let child): lines += try dump(child)
            case .dataset(let dataset):
                lines.append("dataset \(dataset.path) \(dataset.shape) \(dataset.storage) \(dataset.attributes)")
                if dataset.isNumeric { lines.append("\(try dataset.readDoubles())") }
            }
        }
        return lines
    }

    func testIsolatedAndInProcessReadsAgree() throws {
        guard HDF5Reader.readerExecutable != nil else { throw XCTSkip("vigil-hdf5-reader is not built") }
        for name in Self.fixtures {
            let isolated = try HDF5Reader.read(fixture(name), options: .init(isolation: .required))
            let local = try HDF5Reader.read(fixture(name), options: .init(isolation: .inProcess))
            XCTAssertEqual(try dump(isolated.root), try dump(local.root), name)
            XCTAssertGreaterThan(try dump(isolated.root).count, 3, name)
        }
    }

    /// Elements used in place from the file (contiguous little-endian floats) or converted by the
    /// reader equal libhdf5's own reading of every dataset.
    func testElementsEqualLibhdf5sOwnReading() throws {
        var checked = 0
        for name in Self.fixtures {
            let snapshot = try HDF5Reader.read(fixture(name))
            let file = try HDF5File(path: fixture(name))
            defer { file.close() }
            func visit(_ group: HDF5Snapshot.Group) throws {
                for child in group.children.values {
                    switch child {
                    case .group(let inner): try visit(inner)
                    case .dataset(let dataset) where dataset.isNumeric:
                        let live = try file.root().dataset(String(dataset.path.dropFirst()))
                        XCTAssertEqual(try dataset.readDoubles(), try live.readDoubles(), "\(name)\(dataset.path)")
                        XCTAssertEqual(try dataset.readFloats(), try live.readFloats(), "\(name)\(dataset.path)")
                        checked += 1
                    default: break
                    }
                }
            }
            try visit(snapshot.root)
        }
        XCTAssertGreaterThan(checked, 30)
    }

    func testExcludedGroupsKeepShapesButNoData() throws {
        let snapshot = try HDF5Reader.read(fixture("keras/dense_mlp/model.h5"), options: .init(excludingData: ["/model_weights/probs"]))
        let excluded = try snapshot.root.dataset("model_weights/probs/dense_mlp/probs/kernel")
        XCTAssertEqual(excluded.shape, [8, 4])
        XCTAssertThrowsError(try excluded.readFloats())
        XCTAssertEqual(try snapshot.root.dataset("model_weights/hidden/dense_mlp/hidden/kernel").readFloats().count, 128)
    }

    func testFloatDataIsNotCopied() throws {
        let snapshot = try HDF5Reader.read(fixture("keras/dense_mlp/model.h5"))
        let dataset = try snapshot.root.dataset("model_weights/hidden/dense_mlp/hidden/kernel")
        let first = try dataset.readFloatBuffer(), second = try dataset.readFloatBuffer()
        XCTAssertEqual(first.pointer, second.pointer, "float32 elements are handed out from the shared region")
        XCTAssertEqual(Int(bitPattern: first.pointer) % 4, 0)
    }

    /// A stand-in for the reader that misbehaves in a given way.
    func fakeReader(_ script: String) throws -> String {
        let path = directory.appendingPathComponent("fake-reader").path
        try Data("#!/bin/sh\n\(script)\n".utf8).write(to: URL(fileURLWithPath: path))
        chmod(path, 0o755)
        return path
    }

    func read(with reader: String, timeout: Double = 20) throws -> HDF5Error {
        setenv("VIGIL_HDF5_READER", reader, 1)
        defer { unsetenv("VIGIL_HDF5_READER") }
        do {
            _ = try HDF5Reader.read(fixture("keras/dense_mlp/model.h5"), options: .init(isolation: .required, timeout: timeout))
        } catch {
            XCTAssertFalse(error.description.contains("\n"), error.description)
            return error
        }
        XCTFail("the read succeeded")
        throw XCTSkip()
    }

    func testCrashingReaderIsAnError() throws {
        let error = try read(with: try fakeReader("kill -SEGV $$"))
        XCTAssertEqual(error.kind, .readerFailed)
        XCTAssertTrue(error.message.contains("crashed (signal 11)"), error.message)
    }

    func testHangingReaderIsStopped() throws {
        let start = Date()
        let error = try read(with: try fakeReader("exec sleep 60"), timeout: 1)
        XCTAssertEqual(error.kind, .readerFailed)
        XCTAssertTrue(error.message.contains("took longer than 1.0 s and was stopped"), error.message)
        XCTAssertLessThan(Date().timeIntervalSince(start), 30, "stopped at the timeout, not when the child ended")
    }

    func testGarbageFromTheReaderIsAnError() throws {
        let error = try read(with: try fakeReader("printf 'VIGILH5S garbage that is not a snapshot, long enough to pass the size check....' >&3"))
        XCTAssertEqual(error.kind, .readerFailed)
        XCTAssertTrue(error.message.contains("malformed snapshot"), error.message)
    }

    func testRefusalLineIsPassedThrough() throws {
        let error = try read(with: try fakeReader("printf 'refused\\t/x\\tis bad\\n' >&2; exit 1"))
        XCTAssertEqual(error, HDF5Error(.refused, file: fixture("keras/dense_mlp/model.h5"), object: "/x", message: "is bad"))
    }

    func testMissingReaderIsAnErrorOnlyWhenRequired() throws {
        setenv("VIGIL_HDF5_READER", directory.appendingPathComponent("missing").path, 1)
        defer { unsetenv("VIGIL_HDF5_READER") }
        XCTAssertThrowsError(try HDF5Reader.read(fixture("keras/dense_mlp/model.h5"), options: .init(isolation: .required))) { error in
            XCTAssertTrue("\(error)".contains("vigil-hdf5-reader) was not found"), "\(error)")
        }
        XCTAssertNoThrow(try HDF5Reader.read(fixture("keras/dense_mlp/model.h5")))
    }

    func testSpecialFilesAreRefusedWithoutBlocking() throws {
        let fifo = directory.appendingPathComponent("fifo.h5").path
        XCTAssertEqual(mkfifo(fifo, 0o644), 0)
        XCTAssertThrowsError(try HDF5Reader.read(fifo)) { error in
            XCTAssertEqual((error as? HDF5Error)?.message, "not a regular file")
        }
    }
}
