import Foundation
import VigilFiles
import VigilTestSupport
import XCTest

/// Zip members read as hostile input and the stored-zip writer.
final class ZipFileTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws { directory = try Repository.temporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    func testWrittenArchiveReadsBack() throws {
        let path = directory.appendingPathComponent("a.zip").path
        let archive = try ZipOutput(path)
        try archive.add("one.txt", Data("first".utf8))
        try archive.add("dir/two.bin", Data([0, 1, 2, 255]))
        try archive.commit()
        let input = try ZipInput(path: path)
        XCTAssertEqual(input.members.map(\.name), ["one.txt", "dir/two.bin"])
        XCTAssertEqual(try input.data(of: "one.txt"), Data("first".utf8))
        XCTAssertEqual(try input.data(of: "dir/two.bin"), Data([0, 1, 2, 255]))
        XCTAssertNil(try input.data(of: "missing"))
        XCTAssertNil(input.unsafeMemberName())
    }

    func testBudgetCountsEveryMember() throws {
        let path = directory.appendingPathComponent("a.zip").path
        let archive = try ZipOutput(path)
        try archive.add("a", Data(count: 600))
        try archive.add("b", Data(count: 600))
        try archive.commit()
        let input = try ZipInput(path: path, budget: 1000)
        XCTAssertEqual(try input.data(of: "a")?.count, 600)
        XCTAssertThrowsError(try input.data(of: "b")) { error in
            XCTAssertTrue("\(error)".contains("over the 400 bytes this archive may still expand to"), "\(error)")
        }
    }

    func testFIFOIsRefusedWithoutBlocking() throws {
        let fifo = directory.appendingPathComponent("fifo").path
        XCTAssertEqual(mkfifo(fifo, 0o644), 0)
        XCTAssertThrowsError(try ZipInput(path: fifo)) { error in
            XCTAssertEqual("\(error)", "\(fifo): is a FIFO (named pipe), not a regular file")
        }
        XCTAssertThrowsError(try RegularFile.map(fifo))
    }
}
