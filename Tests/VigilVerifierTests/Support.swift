import Foundation
import VigilIR
import VigilONNX
import VigilTestSupport
import VigilVerifier

/// Reads and verifies a model file the way `vigil check` does: a reader error becomes its
/// load diagnostic, anything else goes through the verifier.
func checkFile(_ path: String, strict: Bool = false) -> [Diagnostic] {
    do {
        let model = try ONNXReader.readModel(at: path)
        return Verifier(strict: strict).verify(model)
    } catch {
        let kind: LoadFailureKind = switch error {
        case .unreadable: .unreadable
        case .malformed: .malformed
        case .invalid: .invalid
        case .externalData: .externalData
        case .unsupported, .writeFailed: .unsupported
        }
        return [Verifier.loadDiagnostic(kind: kind, reason: error.reason)]
    }
}

func describe(_ diagnostics: [Diagnostic]) -> String {
    diagnostics.map { "\($0.severity.rawValue)[\($0.code.rawValue)] \($0.location.description): \($0.message)" }.joined(separator: "\n")
}

/// The malformed corpus manifest written by `Fixtures/generate_malformed.py`.
struct MalformedManifest: Decodable {
    struct Checker: Decodable {
        let caught: Bool
        let message: String?
    }
    struct Entry: Decodable {
        let name: String
        let path: String
        let expected_code: String
        let severity: String
        let description: String
        let onnx_checker: Checker
    }
    let onnx_version: String
    let models: [Entry]

    static let directory = Repository.fixtures.appendingPathComponent("malformed")

    static func load() throws -> MalformedManifest {
        let data = try Data(contentsOf: directory.appendingPathComponent("manifest.json"))
        return try JSONDecoder().decode(MalformedManifest.self, from: data)
    }
}
