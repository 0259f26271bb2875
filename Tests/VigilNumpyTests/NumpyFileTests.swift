import Foundation
import VigilIR
import VigilNumpy
import VigilTestSupport
import XCTest

/// `.npy`/`.npz` files written by numpy itself (Fixtures/generate_numpy.py) decode to the values
/// numpy recorded, and what Vigil writes reads back identically.
final class NumpyFileTests: XCTestCase {
    static let folder = Repository.fixtures.appendingPathComponent("numpy")

    private func reference() throws -> [String: [String: Any]] {
        let data = try Data(contentsOf: Self.folder.appendingPathComponent("values.json"))
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: [String: Any]])
    }

    private func assertMatches(_ tensor: Tensor, _ facts: [String: Any], _ name: String) throws {
        XCTAssertEqual(tensor.shape, facts["shape"] as? [Int], name)
        let values = try XCTUnwrap(facts["values"] as? [Any], name)
        switch tensor.dtype {
        case .int8, .int16, .int32, .int64, .uint8, .uint16, .uint32, .uint64:
            let actual: [String]
            switch tensor.dtype {
            case .int64: actual = tensor.scalars(as: Int64.self).map { "\($0)" }
            case .uint64: actual = tensor.scalars(as: UInt64.self).map { "\($0)" }
            default: actual = tensor.doubleValues.map { "\(Int64($0))" }
            }
            XCTAssertEqual(actual, values as? [String], name)
        default:
            // Floats are stored as Python repr strings, which Double(String) parses exactly.
            assertClose(tensor.doubleValues, values.map { Double($0 as? String ?? "") ?? .nan }, atol: 0, rtol: 0, name)
        }
    }

    func testEveryNumpyFileDecodes() throws {
        let expected = try reference()
        XCTAssertGreaterThanOrEqual(expected.count, 18)
        for (name, facts) in expected.sorted(by: { $0.key < $1.key }) {
            let tensor = try NPY.read(at: Self.folder.appendingPathComponent("\(name).npy").path)
            try assertMatches(tensor, facts, name)
        }
        XCTAssertEqual(try NPY.read(at: Self.folder.appendingPathComponent("bool_4.npy").path).dtype, .bool)
        XCTAssertEqual(try NPY.read(at: Self.folder.appendingPathComponent("float16_3x2.npy").path).dtype, .float16)
    }

    func testArchivesStoredAndDeflated() throws {
        let expected = try reference()
        for archive in ["stored.npz", "compressed.npz"] {
            let arrays = try NPZ.read(at: Self.folder.appendingPathComponent(archive).path)
            XCTAssertEqual(arrays.map(\.name), ["a", "b"], archive)
            try assertMatches(arrays[0].tensor, try XCTUnwrap(expected["float32_2x3"]), archive)
            try assertMatches(arrays[1].tensor, try XCTUnwrap(expected["int64_3"]), archive)
        }
    }

    func testWrittenFilesReadBack() throws {
        let directory = try Repository.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var arrays: [(name: String, tensor: Tensor)] = []
        for name in ["float32_2x3", "int64_3", "bool_4", "scalar_float32", "empty_0x3", "fortran_float32_2x3x4", "float16_3x2"] {
            let tensor = try NPY.read(at: Self.folder.appendingPathComponent("\(name).npy").path)
            let path = directory.appendingPathComponent("\(name).npy").path
            try NPY.write(tensor, to: path)
            XCTAssertEqual(try NPY.read(at: path), tensor, name)
            arrays.append((name, tensor))
        }
        let archive = directory.appendingPathComponent("all.npz").path
        try NPZ.write(arrays, to: archive)
        let reread = try NPZ.read(at: archive)
        XCTAssertEqual(reread.map(\.name), arrays.map(\.name))
        for (a, b) in zip(reread, arrays) { XCTAssertEqual(a.tensor, b.tensor, a.name) }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasPrefix(".") }, [])
    }

    func testBadFilesAreRejectedWithTheirName() throws {
        let directory = try Repository.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        func check(_ bytes: [UInt8], _ cause: String, line: UInt = #line) throws {
            let path = directory.appendingPathComponent("bad.npy").path
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            XCTAssertThrowsError(try NPY.read(at: path), line: line) { error in
                XCTAssertTrue("\(error)".hasPrefix(path + ": "), "\(error)", line: line)
                XCTAssertTrue("\(error)".contains(cause), "'\(error)' should mention '\(cause)'", line: line)
            }
        }
        try check(Array("just some text".utf8), "not a .npy file")
        let good = try [UInt8](Data(contentsOf: Self.folder.appendingPathComponent("float32_2x3.npy")))
        try check(Array(good.dropLast(4)), "holds 20 data bytes but <f4 [2, 3] needs 24")
        try check(Array(good.prefix(40)), "truncated .npy header")
        var complex = good
        let descr = Array("<f4".utf8), replacement = Array("<c8".utf8)
        if let at = (0..<complex.count - 3).first(where: { Array(complex[$0..<$0 + 3]) == descr }) {
            complex.replaceSubrange(at..<at + 3, with: replacement)
        }
        try check(complex, "unsupported dtype '<c8'")
        XCTAssertThrowsError(try NPZ.read(at: Self.folder.appendingPathComponent("float32_2x3.npy").path)) { error in
            XCTAssertTrue("\(error)".contains("not a readable .npz"), "\(error)")
        }
    }
}

/// String arrays written by numpy (`S` byte strings and `U` Unicode strings, one in Fortran order)
/// decode to the values numpy recorded (Fixtures/numpy/strings.json); string tensors Vigil writes
/// read back identically.
final class NumpyStringTests: XCTestCase {
    func testStringArraysDecode() throws {
        let data = try Data(contentsOf: NumpyFileTests.folder.appendingPathComponent("strings.json"))
        let expected = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: [String: Any]])
        XCTAssertEqual(expected.count, 3)
        for (name, facts) in expected {
            let tensor = try NPY.read(at: NumpyFileTests.folder.appendingPathComponent("\(name).npy").path)
            XCTAssertEqual(tensor.dtype, .string, name)
            XCTAssertEqual(tensor.shape, facts["shape"] as? [Int], name)
            XCTAssertEqual(tensor.strings?.map { String(decoding: $0, as: UTF8.self) }, facts["values"] as? [String], name)
        }
    }

    func testStringTensorsReadBack() throws {
        let directory = try Repository.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let strings: [[UInt8]] = [Array("a".utf8), [], Array("héllo".utf8), Array("x y".utf8)]
        let tensor = try Tensor(dtype: .string, shape: [2, 2], contents: .strings(strings))
        let path = directory.appendingPathComponent("s.npz").path
        try NPZ.write([("s", tensor)], to: path)
        let back = try NPZ.read(at: path)
        XCTAssertEqual(back.first?.tensor, tensor)
        XCTAssertTrue(String(decoding: try NPY.encode(tensor).prefix(64), as: UTF8.self).contains("'descr': '|S6'"))
    }

    /// A hostile header cannot make the reader allocate more than the file holds.
    func testStringArrayClaimsAreChecked() throws {
        let body = Data([UInt8](repeating: 65, count: 6))
        for descr in ["|S0", "|S3", "<U1"] {
            var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': (1000000000000,), }"
            header += String(repeating: " ", count: (64 - (10 + header.utf8.count + 1) % 64) % 64) + "\n"
            var file = Data([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0, UInt8(header.utf8.count & 0xff), UInt8(header.utf8.count >> 8)])
            file.append(Data(header.utf8))
            file.append(body)
            XCTAssertThrowsError(try NPY.decode(file, file: "hostile.npy"), descr)
        }
    }
}
