import Foundation
import VigilKeras
import VigilTestSupport
import XCTest

/// Found by the keras-weights fuzz harness in the CI run of a fresh clone: a config whose `strides`
/// was mutated to 0 divided by zero in the convolution window arithmetic and killed the process. Here
/// every integer of every fixture's `config.json` is replaced, one at a time, by edge values (zero,
/// negative, the extremes of Int64): each edited config is imported or refused with one line naming
/// the file; none may trap (the test process would die).
/// (`KerasConfigEdgeValueTests.fixtures` says which fixtures; all of them were swept by hand.)
final class KerasConfigEdgeValueTests: XCTestCase {
    /// Taken in turn, one per integer: zero (a stride, pool or window of zero), negative sizes, a
    /// product that overflows, and numbers beyond what a JSON double holds exactly.
    static let edgeValues = ["0", "-1", "1099511627776", "0", "-9223372036854775807", "9223372036854775807"]
    /// The fixtures with window geometry, padding, resizing, reshapes, slicing and splits (every fixture and
    /// five edge values at every integer, 9,073 imports, take minutes: swept by hand when the importer changes).
    static let fixtures = ["conv1d_net", "conv2d_net", "operations", "pad_resize", "volumetric"]

    /// The byte ranges of the integer literals of a JSON text (outside strings; no fraction or exponent).
    static func integerLiterals(_ text: [UInt8]) -> [Range<Int>] {
        var ranges: [Range<Int>] = []
        var i = 0, inString = false
        while i < text.count {
            let c = text[i]
            if inString {
                if c == UInt8(ascii: "\\") { i += 2; continue }
                if c == UInt8(ascii: "\"") { inString = false }
                i += 1
                continue
            }
            if c == UInt8(ascii: "\"") { inString = true; i += 1; continue }
            guard c == UInt8(ascii: "-") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(c) else { i += 1; continue }
            var j = i + 1
            while j < text.count, "0123456789.eE+-".utf8.contains(text[j]) { j += 1 }
            if !text[i..<j].contains(where: { ".eE".utf8.contains($0) }) { ranges.append(i..<j) }
            i = j
        }
        return ranges
    }

    func testEveryConfigIntegerAtAnEdgeValueIsImportedOrRefused() throws {
        let directory = try Repository.temporaryDirectory()
        // libhdf5 in this process: the weights files are the committed fixtures, and a reader process
        // per import would make the thousands of imports slow. Tests run one at a time.
        let isolation = getenv("VIGIL_HDF5_ISOLATION").map { String(cString: $0) }
        setenv("VIGIL_HDF5_ISOLATION", "inprocess", 1)
        defer {
            if let isolation { setenv("VIGIL_HDF5_ISOLATION", isolation, 1) } else { unsetenv("VIGIL_HDF5_ISOLATION") }
            try? FileManager.default.removeItem(at: directory)
        }
        var imported = 0, refused = 0
        XCTAssertEqual(Set(try KerasFixtures.all().map(\.name)).intersection(Self.fixtures).count, Self.fixtures.count)
        let start = Date()
        for entry in try KerasFixtures.all() where Self.fixtures.contains(entry.name) {
            let text = Array(try Data(contentsOf: URL(fileURLWithPath: entry.file("config.json"))))
            let weights = entry.file("model.weights.h5")
            let literals = Self.integerLiterals(text)
            XCTAssertFalse(literals.isEmpty, entry.name)
            for (index, range) in literals.enumerated() {
                let value = Self.edgeValues[index % Self.edgeValues.count]
                if Array(value.utf8) != Array(text[range]) {
                    let edited = Array(text[..<range.lowerBound]) + Array(value.utf8) + Array(text[range.upperBound...])
                    let config = directory.appendingPathComponent("config.json")
                    try Data(edited).write(to: config)
                    do {
                        _ = try KerasImporter.importModel(at: weights, config: config.path)
                        imported += 1
                    } catch {
                        refused += 1
                        XCTAssertTrue(error.description.hasPrefix(weights + ": ") || error.description.hasPrefix(config.path + ": "),
                                      "\(entry.name) @\(range) = \(value): \(error.description)")
                        XCTAssertFalse(error.description.contains("\n"), error.description)
                    }
                }
            }
        }
        print("edge values: \(imported) imported, \(refused) refused in \(Date().timeIntervalSince(start)) s")
        // Both outcomes occur: many integers (seeds, unused options) do not matter, many do.
        XCTAssertGreaterThan(imported, 0)
        XCTAssertGreaterThan(refused, 0)
    }

    func testIntegerLiteralsSkipStringsAndFractions() {
        let text = Array(#"{"a": 12, "b": "3 \"4\" 5", "c": [-6, 7.5, 1e3], "d8": 9}"#.utf8)
        let found = Self.integerLiterals(text).map { String(decoding: text[$0], as: UTF8.self) }
        XCTAssertEqual(found, ["12", "-6", "9"])
    }
}
