import Foundation
import VigilCodegen
import VigilTestSupport
import XCTest

/// The package writer writes whole or not at all and never replaces a non-empty folder without force.
final class PackageOutputTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws { directory = try Repository.temporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    func populate(_ folder: URL) throws {
        try PackageOutput.writeFiles([("Package.swift", "// new\n"), ("Sources/A/A.swift", "let a = 1\n")], into: folder)
    }

    func contents(_ url: URL) -> [String] { ((try? FileManager.default.subpathsOfDirectory(atPath: url.path)) ?? []).sorted() }

    func testNewAndEmptyFolders() throws {
        let target = directory.appendingPathComponent("Pkg")
        try PackageOutput.write(to: target.path, force: false, populate: populate)
        XCTAssertEqual(contents(target), ["Package.swift", "Sources", "Sources/A", "Sources/A/A.swift"])
        let empty = directory.appendingPathComponent("Empty")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: false)
        try PackageOutput.write(to: empty.path, force: false, populate: populate)
        XCTAssertEqual(contents(empty).count, 4)
        XCTAssertEqual(contents(directory), ["Empty"] + contents(empty).map { "Empty/" + $0 } + ["Pkg"] + contents(target).map { "Pkg/" + $0 })
    }

    func testNonEmptyFolderNeedsForce() throws {
        let target = directory.appendingPathComponent("Pkg")
        try FileManager.default.createDirectory(at: target, withIntermediateDirectories: false)
        try Data("mine".utf8).write(to: target.appendingPathComponent("notes.txt"))
        XCTAssertThrowsError(try PackageOutput.write(to: target.path, force: false, populate: populate)) { error in
            XCTAssertEqual("\(error)", "\(target.path): exists and is not empty; use --force to replace it")
        }
        XCTAssertEqual(contents(target), ["notes.txt"])
        XCTAssertEqual(contents(directory), ["Pkg", "Pkg/notes.txt"], "nothing written beside it")
        try PackageOutput.write(to: target.path, force: true, populate: populate)
        XCTAssertEqual(contents(target), ["Package.swift", "Sources", "Sources/A", "Sources/A/A.swift"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), ["Pkg"], "the old folder is gone")
    }

    func testForceNeverDeletesProtectedPaths() throws {
        let target = directory.appendingPathComponent("Pkg")
        try FileManager.default.createDirectory(at: target.appendingPathComponent("models"), withIntermediateDirectories: true)
        let model = target.appendingPathComponent("models/model.onnx")
        try Data("model".utf8).write(to: model)
        XCTAssertThrowsError(try PackageOutput.write(to: target.path, force: true, protecting: [model.path], populate: populate))
        XCTAssertEqual(try Data(contentsOf: model), Data("model".utf8))
    }

    func testRefusesLinksFilesAndMissingParents() throws {
        let file = directory.appendingPathComponent("file")
        try Data("x".utf8).write(to: file)
        let link = directory.appendingPathComponent("link")
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: directory.appendingPathComponent("elsewhere"))
        for (path, reason) in [(file.path, "exists and is not a folder"), (link.path, "is a symbolic link; give a folder path"),
                               (directory.appendingPathComponent("a/b").path, "does not exist"), ("/dev/null", "exists and is not a folder")] {
            XCTAssertThrowsError(try PackageOutput.write(to: path, force: true, populate: populate)) { error in
                XCTAssertTrue("\(error)".hasPrefix(path + ": ") && "\(error)".contains(reason), "\(error)")
            }
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted(), ["file", "link"])
    }

    /// A failure while populating leaves neither the package nor the staging folder.
    func testFailureLeavesNothing() throws {
        struct Boom: Error {}
        let target = directory.appendingPathComponent("Pkg")
        XCTAssertThrowsError(try PackageOutput.write(to: target.path, force: false) { folder in
            try populate(folder)
            throw Boom()
        })
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), [])
    }
}
