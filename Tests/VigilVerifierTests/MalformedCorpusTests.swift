import Foundation
import VigilTestSupport
import VigilVerifier
import XCTest

/// The malformed corpus: each model has one defect and the code it must produce (by construction),
/// and the verdict of `onnx.checker.check_model(full_check=True)` recorded by the generator.
final class MalformedCorpusTests: XCTestCase {
    func testCorpusIsLargeEnoughAndCodesAreKnown() throws {
        let manifest = try MalformedManifest.load()
        XCTAssertGreaterThanOrEqual(manifest.models.count, 60)
        for entry in manifest.models {
            XCTAssertNotNil(DiagnosticCode(rawValue: entry.expected_code), "\(entry.name): unknown code \(entry.expected_code)")
        }
    }

    func testEveryModelProducesItsExpectedCode() throws {
        let manifest = try MalformedManifest.load()
        for entry in manifest.models {
            let path = MalformedManifest.directory.appendingPathComponent(entry.path).path
            let diagnostics = checkFile(path)
            let matching = diagnostics.filter { $0.code.rawValue == entry.expected_code }
            XCTAssertFalse(matching.isEmpty, "\(entry.name) (\(entry.description)): expected \(entry.expected_code), got:\n\(describe(diagnostics))")
            XCTAssertTrue(matching.contains { $0.severity.rawValue == entry.severity },
                          "\(entry.name): expected \(entry.expected_code) as \(entry.severity), got:\n\(describe(matching))")
            if entry.severity == "warning" {
                // Lint cases are otherwise valid models: no errors, and --strict turns them into errors.
                XCTAssertFalse(Verifier.hasErrors(diagnostics), "\(entry.name): unexpected errors:\n\(describe(diagnostics))")
                XCTAssertTrue(checkFile(path, strict: true).contains { $0.code.rawValue == entry.expected_code && $0.severity == .error },
                              "\(entry.name): --strict did not promote \(entry.expected_code)")
            }
        }
    }

    /// Everything onnx.checker rejects, vigil check rejects too (with at least one error).
    func testEverythingTheONNXCheckerCatchesIsCaught() throws {
        let manifest = try MalformedManifest.load()
        let caught = manifest.models.filter(\.onnx_checker.caught)
        XCTAssertFalse(caught.isEmpty)
        for entry in caught {
            let diagnostics = checkFile(MalformedManifest.directory.appendingPathComponent(entry.path).path)
            XCTAssertTrue(Verifier.hasErrors(diagnostics),
                          "\(entry.name): onnx.checker says \(entry.onnx_checker.message ?? "?") but vigil reports no error:\n\(describe(diagnostics))")
        }
    }

    /// The comparison document lists every corpus model onnx.checker does not catch.
    func testDifferencesAreDocumented() throws {
        let manifest = try MalformedManifest.load()
        let doc = try String(contentsOf: Repository.root.appendingPathComponent("docs/verifier-vs-onnx-checker.md"), encoding: .utf8)
        for entry in manifest.models where !entry.onnx_checker.caught {
            XCTAssertTrue(doc.contains("`\(entry.name)`"), "docs/verifier-vs-onnx-checker.md does not mention \(entry.name)")
        }
    }
}
