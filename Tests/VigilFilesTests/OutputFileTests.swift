import Foundation
import VigilFiles
import VigilTestSupport
import XCTest

/// The one output writer: whole files or nothing, never over a symlink, a special file or an input.
final class OutputFileTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws { directory = try Repository.temporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// Every entry in the folder (hidden ones too): nothing may be left behind.
    func entries() throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted() }

    func assertRefused(_ kind: OutputError.Kind, _ destination: String, _ cause: String, inputs: InputFiles = InputFiles(),
                       file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try OutputFile.write(Array("new".utf8), to: destination, protecting: inputs), file: file, line: line) { error in
            guard let error = error as? OutputError else { return XCTFail("\(error)", file: file, line: line) }
            XCTAssertEqual(error.kind, kind, error.description, file: file, line: line)
            XCTAssertTrue(error.description.hasPrefix(destination + ": "), error.description, file: file, line: line)
            XCTAssertTrue(error.description.contains(cause), "'\(error)' should mention '\(cause)'", file: file, line: line)
            XCTAssertFalse(error.description.contains("\n"), file: file, line: line)
        }
    }

    func testWritesWholeFileAndLeavesNoTemporary() throws {
        let target = path("out.bin")
        try OutputFile.write(Array("first".utf8), to: target)
        try OutputFile.write(Array("second".utf8), to: target)
        XCTAssertEqual(try String(contentsOfFile: target, encoding: .utf8), "second")
        XCTAssertEqual(try entries(), ["out.bin"])
    }

    func testReplacingKeepsTheFilesPermissions() throws {
        let target = path("out.bin")
        try OutputFile.write(Array("a".utf8), to: target)
        chmod(target, 0o640)
        try OutputFile.write(Array("b".utf8), to: target)
        let mode = try FileManager.default.attributesOfItem(atPath: target)[.posixPermissions] as? Int
        XCTAssertEqual(mode, 0o640)
    }

    func testUncommittedFileIsRemoved() throws {
        let target = path("out.bin")
        try Data("keep".utf8).write(to: URL(fileURLWithPath: target))
        do {
            let file = try OutputFile(target)
            try file.write(Array("half".utf8))
            XCTAssertTrue(FileManager.default.fileExists(atPath: file.temporaryPath))
        }
        XCTAssertEqual(try entries(), ["out.bin"])
        XCTAssertEqual(try String(contentsOfFile: target, encoding: .utf8), "keep")
    }

    func testRefusesSymbolicLinksEvenDangling() throws {
        let target = path("real.bin")
        try Data("user data".utf8).write(to: URL(fileURLWithPath: target))
        try FileManager.default.createSymbolicLink(atPath: path("link.bin"), withDestinationPath: target)
        try FileManager.default.createSymbolicLink(atPath: path("dangling.bin"), withDestinationPath: path("nowhere.bin"))
        assertRefused(.symbolicLink, path("link.bin"), "is a symbolic link")
        assertRefused(.symbolicLink, path("dangling.bin"), "is a symbolic link")
        XCTAssertEqual(try String(contentsOfFile: target, encoding: .utf8), "user data")
        XCTAssertEqual(try entries(), ["dangling.bin", "link.bin", "real.bin"])
    }

    func testRefusesDirectoriesFIFOsSocketsAndDevices() throws {
        try FileManager.default.createDirectory(atPath: path("folder"), withIntermediateDirectories: false)
        assertRefused(.notRegularFile, path("folder"), "is a directory")
        XCTAssertEqual(mkfifo(path("fifo"), 0o644), 0)
        assertRefused(.notRegularFile, path("fifo"), "is a FIFO")
        let socket = try UnixSocket(path: path("socket"))
        assertRefused(.notRegularFile, path("socket"), "is a socket")
        _ = socket
        // A character device node like /dev/null (major 1, minor 3), made here rather than touching /dev.
        if mknod(path("null"), S_IFCHR | 0o666, dev_t((1 << 8) | 3)) == 0 {
            assertRefused(.notRegularFile, path("null"), "is a character device")
            var info = stat()
            XCTAssertEqual(lstat(path("null"), &info), 0)
            XCTAssertEqual(info.st_mode & S_IFMT, S_IFCHR, "the device node is still there")
        }
        let device = FileManager.default.fileExists(atPath: path("null")) ? ["null"] : []
        XCTAssertEqual(try entries(), (["fifo", "folder", "socket"] + device).sorted())
    }

    func testRefusesAnInputUnderAnyName() throws {
        let input = path("model.onnx")
        try Data("model".utf8).write(to: URL(fileURLWithPath: input))
        XCTAssertEqual(link(input, path("hard.onnx")), 0)
        try FileManager.default.createDirectory(atPath: path("sub"), withIntermediateDirectories: false)
        let inputs = InputFiles([input])
        assertRefused(.sameAsInput, input, "is also an input", inputs: inputs)
        assertRefused(.sameAsInput, path("sub/../model.onnx"), "is the same file as the input", inputs: inputs)
        assertRefused(.sameAsInput, path("hard.onnx"), "same device and inode", inputs: inputs)
        XCTAssertEqual(try String(contentsOfFile: input, encoding: .utf8), "model")
        try OutputFile.write(Array("other".utf8), to: path("other.onnx"), protecting: inputs)
    }

    func testMissingOrUnwritableFolderIsOnePlainLine() throws {
        assertRefused(.ioFailure, path("no/such/out.bin"), "the folder '\(path("no/such"))' does not exist")
        try Data().write(to: URL(fileURLWithPath: path("file")))
        assertRefused(.ioFailure, path("file/out.bin"), "not a folder")
        // An immutable folder (chattr +i) refuses even root; skipped where the attribute cannot be set.
        let folder = path("immutable")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
        guard shell("chattr +i '\(folder)' 2>/dev/null") == 0 else { return }
        defer { _ = shell("chattr -i '\(folder)'") }
        assertRefused(.ioFailure, folder + "/out.bin", "cannot create a file in the folder")
    }

    func testCheckDestinationsWritesNothing() throws {
        let inputs = InputFiles()
        try OutputFile.checkDestinations([path("a"), path("b")], protecting: inputs)
        XCTAssertEqual(try entries(), [])
    }

    func testTemporaryFileIsRemovedWhenReleased() throws {
        var kept = ""
        do {
            let file = try TemporaryFile(prefix: "test", contents: Array("x".utf8), in: directory.path)
            kept = file.path
            XCTAssertEqual(try String(contentsOfFile: kept, encoding: .utf8), "x")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: kept))
    }

    private func shell(_ command: String) -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        try? process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }
}

/// A bound Unix-domain socket (a file of type socket), closed when released.
final class UnixSocket {
    let fd: Int32

    init(path: String) throws {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            for (index, byte) in path.utf8.prefix(buffer.count - 1).enumerated() { buffer[index] = byte }
        }
        let status = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard status == 0 else { throw CocoaError(.fileWriteUnknown) }
    }

    deinit { close(fd) }
}
