import Foundation
import VigilTestSupport
import XCTest

/// Whatever library an error comes from (ZIPFoundation, HDF5, Foundation), it is one line naming the
/// path and the cause in plain words: no Swift case names, no error domains and codes.
final class PlainErrorTests: CLITestCase {
    func assertPlain(_ result: Result, file path: String, cause: String, file: StaticString = #filePath, line: UInt = #line) {
        assertFailure(result, file: path, cause: cause, file: file, line: line)
        for jargon in ["Domain", "error 256", "missingEndOfCentralDirectoryRecord", "sblock", "superblock", "Error Domain", "(null)"] {
            XCTAssertFalse(result.stderr.contains(jargon), "'\(result.stderr)' is not plain (\(jargon))", file: file, line: line)
        }
        // No camelCase identifiers such as Swift enum cases.
        XCTAssertNil(result.stderr.range(of: #"\b[a-z]+[A-Z][a-zA-Z]*\b"#, options: .regularExpression).map { result.stderr[$0] }
                        .flatMap { $0.contains("/") ? nil : $0 }, result.stderr, file: file, line: line)
    }

    func testLibraryErrorsAreOnePlainLine() throws {
        func temp(_ name: String, _ data: Data) throws -> String {
            let url = directory.appendingPathComponent(name)
            try data.write(to: url)
            return url.path
        }
        let keras = Repository.root.appendingPathComponent("Fixtures/keras/conv2d_net")
        let zip = try Data(contentsOf: keras.appendingPathComponent("model.keras"))
        let truncatedKeras = try temp("cut.keras", zip.prefix(zip.count / 2))
        assertPlain(try vigil("inspect", truncatedKeras), file: truncatedKeras, cause: "it is not a zip archive, or it is truncated")
        let h5 = try Data(contentsOf: keras.appendingPathComponent("model.h5"))
        let truncatedH5 = try temp("cut.h5", h5.prefix(4096))
        assertPlain(try vigil("inspect", truncatedH5), file: truncatedH5, cause: "the HDF5 file is truncated: it has 4096 bytes, its header says \(h5.count)")
        let npz = try temp("cut.npz", zip.prefix(100))
        let model = fixture("cnn_embedding")
        assertPlain(try vigil("run", model, "--input", npz), file: npz, cause: "not a readable .npz (zip) archive: it is not a zip archive")

        let folder = directory.appendingPathComponent("folder.npy")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        assertPlain(try vigil("run", model, "--input", folder.path), file: folder.path, cause: "is a folder, not a file")
        assertPlain(try vigil("inspect", folder.path), file: folder.path, cause: "is a folder, not a file")
        assertPlain(try vigil("run", model, "--input", "/dev/null"), file: "/dev/null", cause: "is not a regular file")
        let missing = directory.appendingPathComponent("missing.npy").path
        assertPlain(try vigil("run", model, "--input", missing), file: missing, cause: "no such file")

        let detectors = Repository.root.appendingPathComponent("Fixtures/detector")
        let images = detectors.appendingPathComponent("test_images.npy").path, embedding = detectors.appendingPathComponent("embedding.onnx").path
        assertPlain(try vigil("detect", "score", truncatedH5, embedding, "--data", images), file: truncatedH5, cause: "the HDF5 file is truncated")
        let notDetector = keras.appendingPathComponent("model.h5").path
        assertPlain(try vigil("detect", "score", notDetector, embedding, "--data", images), file: notDetector, cause: "not a Vigil detector file")
        assertPlain(try vigil("detect", "score", folder.path, embedding, "--data", images), file: folder.path, cause: "is a folder, not a file")
    }
}
