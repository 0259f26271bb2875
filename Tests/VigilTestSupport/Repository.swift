import Foundation

/// Paths into the repository, found from this file's location (tests never depend on the working directory).
public enum Repository {
    /// The repository root.
    public static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `Fixtures/`.
    public static var fixtures: URL { root.appendingPathComponent("Fixtures") }

    /// `Fixtures/onnx/`.
    public static var onnxFixtures: URL { fixtures.appendingPathComponent("onnx") }

    /// The ONNX backend test data fetched by `scripts/fetch-onnx-backend-tests.sh` (git-ignored cache).
    public static var onnxBackendData: URL { root.appendingPathComponent(".cache/onnx-backend/data") }

    /// The built `vigil` binary next to the test bundle, when the package's products were built.
    public static var vigilBinary: URL {
        let bundle = Bundle.main.bundleURL
        for candidate in [bundle.appendingPathComponent("vigil"), bundle.deletingLastPathComponent().appendingPathComponent("vigil")]
        where FileManager.default.isExecutableFile(atPath: candidate.path) {
            return candidate
        }
        return root.appendingPathComponent(".build/debug/vigil")
    }

    /// The CLI tests need the built binary: a missing binary fails them (it never skips them).
    public static func requireVigilBinary() throws {
        guard FileManager.default.isExecutableFile(atPath: vigilBinary.path) else { throw MissingBinary(path: vigilBinary.path) }
    }

    /// The `vigil` binary the CLI tests run is not built.
    public struct MissingBinary: Error, CustomStringConvertible {
        public let path: String
        public var description: String { "the vigil binary is not built at \(path): run `swift build` before `swift test`" }
    }

    /// A fresh temporary directory, removed by the caller.
    public static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
