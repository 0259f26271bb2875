import Foundation
import VigilIR
import VigilNumpy
import VigilTestSupport
import XCTest

/// The `.npy`/`.npz` classes of issue 18 (Fixtures/hostile, Fixtures/generate_hostile.py): each is
/// either valid and read as numpy reads it, or refused with one line naming the file.
final class HostileNumpyTests: XCTestCase {
    static let folder = Repository.fixtures.appendingPathComponent("hostile")

    func file(_ name: String) -> String { Self.folder.appendingPathComponent(name).path }

    func assertRefused(_ read: () throws -> Any, _ file: String, _ cause: String, line: UInt = #line) {
        XCTAssertThrowsError(try read(), line: line) { error in
            XCTAssertTrue("\(error)".hasPrefix(file), "\(error)", line: line)
            XCTAssertTrue("\(error)".contains(cause), "'\(error)' should mention '\(cause)'", line: line)
            XCTAssertFalse("\(error)".contains("\n"), line: line)
        }
    }

    func testHeadersWithWrongKeysAreRefused() {
        for (name, cause) in [
            ("duplicate_key", "the .npy header lists 'descr' twice"),
            ("extra_key", "unexpected key 'extra'"),
            ("missing_key", "has no fortran_order"),
            ("trailing_garbage_header", "not a Python dict literal"),
        ] {
            let path = file("npy/\(name).npy")
            assertRefused({ try NPY.read(at: path) }, path, cause)
        }
    }

    func testImpossibleShapesAreRefusedBeforeAllocating() {
        assertRefused({ try NPY.read(at: self.file("npy/overflow_dims.npy")) }, file("npy/overflow_dims.npy"), "invalid shape")
        assertRefused({ try NPY.read(at: self.file("npy/huge_declared.npy")) }, file("npy/huge_declared.npy"),
                      "holds 8 data bytes but <f4 [1099511627776] needs 4398046511104")
    }

    /// Version 3.0 headers and Fortran order are valid numpy files: read as numpy reads them.
    func testVersion3AndFortranOrderReadAsNumpyDoes() throws {
        let expected = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: Self.folder.appendingPathComponent("expected.json"))) as? [String: Any])
        for name in ["version3", "fortran_2x3x4"] {
            let facts = try XCTUnwrap(expected["npy/\(name)"] as? [String: Any])
            let tensor = try NPY.read(at: file("npy/\(name).npy"))
            XCTAssertEqual(tensor.shape, facts["shape"] as? [Int], name)
            let values = try XCTUnwrap(facts["values"] as? [String]).map { Double($0)! }
            XCTAssertEqual(tensor.doubleValues, values, name)
        }
    }

    func testArchiveMembersWhoseCRCOrSizeLieAreRefused() {
        let crc = file("npz/crc_lie.npz"), size = file("npz/size_lie.npz")
        assertRefused({ try NPZ.read(at: crc) }, crc + ":a.npy", "CRC-32 mismatch")
        assertRefused({ try NPZ.read(at: size) }, size + ":a.npy", "the member is corrupt")
        let duplicate = file("npz/duplicate_names.npz")
        assertRefused({ try NPZ.read(at: duplicate) }, duplicate, "holds two arrays named 'a'")
    }

    /// Found by the npz fuzz harness: an archive without an end-of-central-directory record. ZIPFoundation
    /// leaked the whole mapped archive on it (LeakSanitizer); Vigil's own zip reader refuses it cleanly.
    func testArchiveWithoutEndRecordIsRefused() {
        let path = file("npz/no_end_record.npz")
        assertRefused({ try NPZ.read(at: path) }, path, "not a readable .npz (zip) archive: it is not a zip archive, or it is truncated")
    }

    /// Found by the npz fuzz harness in Vigil's own zip reader: a central directory that starts after
    /// its end record trapped (a negative size); now a one-line error.
    func testDirectoryStartingAfterItsEndIsRefused() {
        let path = file("npz/directory_after_end.npz")
        assertRefused({ try NPZ.read(at: path) }, path, "the central directory does not fit before its end record")
    }

    /// 300 MiB of zeros in a 300 KB archive: refused by the expansion budget before extracting.
    func testZipBombIsRefused() throws {
        let bomb = file("npz/zip_bomb.npz")
        XCTAssertLessThan(try FileManager.default.attributesOfItem(atPath: bomb)[.size] as! Int, 1 << 20)
        assertRefused({ try NPZ.read(at: bomb) }, bomb + ":z.npy", "over the 100663296 bytes this archive may still expand to")
    }

    func testFIFOIsRefusedWithoutBlocking() throws {
        let directory = try Repository.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let fifo = directory.appendingPathComponent("x.npy").path
        XCTAssertEqual(mkfifo(fifo, 0o644), 0)
        assertRefused({ try NPY.read(at: fifo) }, fifo, "not a regular file")
        assertRefused({ try NPZ.read(at: fifo) }, fifo, "not a regular file")
    }
}
