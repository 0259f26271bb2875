import Foundation
import VigilTestSupport
import XCTest

/// Every command's `--json` prints one object whose keys are the ones `Formats/json.md` documents for
/// it: every key it prints is documented, and every key not marked optional is printed.
final class JSONSchemaTests: CLITestCase {
    /// `vigil detect fit` → (documented keys, optional keys), read from the tables of `Formats/json.md`.
    static func schemas() throws -> [String: (all: Set<String>, optional: Set<String>)] {
        let text = try String(contentsOf: Repository.root.appendingPathComponent("Formats/json.md"), encoding: .utf8)
        var result: [String: (all: Set<String>, optional: Set<String>)] = [:]
        var command: String?
        for line in text.split(separator: "\n") {
            if line.hasPrefix("## `vigil "), let end = line.range(of: " --json`") {
                command = String(line[line.index(line.startIndex, offsetBy: 10)..<end.lowerBound])
                result[command!] = ([], [])
            } else if let command, line.hasPrefix("| `") {
                let cells = line.split(separator: "|", omittingEmptySubsequences: false)
                let keys = cells[1].split(separator: ",").map { $0.trimmingCharacters(in: CharacterSet(charactersIn: " `")) }
                result[command]!.all.formUnion(keys)
                if cells[2].contains("*optional*") { result[command]!.optional.formUnion(keys) }
            }
        }
        return result
    }

    func assertDocumented(_ command: String, _ arguments: [String], file: StaticString = #filePath, line: UInt = #line) throws -> [String: Any] {
        let schema = try XCTUnwrap(try Self.schemas()[command], "Formats/json.md has no section for vigil \(command)", file: file, line: line)
        let r = try vigil(arguments + ["--json"])
        XCTAssertTrue(r.status == 0 || command == "check" || command == "parity", "\(arguments): \(r.stderr)", file: file, line: line)
        XCTAssertEqual(r.stderr, "", "no progress with --json", file: file, line: line)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], r.stdout, file: file, line: line)
        let keys = Set(object.keys)
        XCTAssertEqual(keys.subtracting(schema.all), [], "vigil \(command) prints undocumented keys", file: file, line: line)
        XCTAssertEqual(schema.all.subtracting(schema.optional).subtracting(keys), [], "vigil \(command) misses documented keys", file: file, line: line)
        return object
    }

    func testEveryCommandPrintsItsDocumentedKeys() throws {
        XCTAssertEqual(Set(try Self.schemas().keys), ["inspect", "check", "convert", "optimize", "run", "parity", "bench",
                                                      "detect fit", "detect score", "detect evaluate", "detect metrics", "detect export", "swift"])
        let fixtureDir = Repository.onnxFixtures.appendingPathComponent("cnn_embedding")
        let model = fixture("cnn_embedding"), input = fixtureDir.appendingPathComponent("test_data_set_0/input_0.pb").path
        func temp(_ name: String) -> String { directory.appendingPathComponent(name).path }
        let inspect = try assertDocumented("inspect", ["inspect", model, "--html", temp("g.html")])
        XCTAssertEqual(inspect["html"] as? String, temp("g.html"))
        _ = try assertDocumented("check", ["check", model])
        _ = try assertDocumented("convert", ["convert", model, "-o", temp("c.onnx"), "--external-data-threshold", "1024"])
        _ = try assertDocumented("optimize", ["optimize", model, "-o", temp("o.onnx"), "--input", input])
        let run = try assertDocumented("run", ["run", model, "--input", input, "-o", temp("out.npz")])
        XCTAssertEqual(((run["outputs"] as? [[String: Any]])?.first?["shape"] as? [Int])?.last, 10)
        _ = try assertDocumented("parity", ["parity", model, "--reference", fixtureDir.appendingPathComponent("test_data_set_0").path])
        let bench = try assertDocumented("bench", ["bench", model, "--runs", "3", "--profile"])
        XCTAssertNotNil(bench["profile_total_ms"])
        let swift = try assertDocumented("swift", ["swift", model, "--name", "Embedding", "-o", temp("Embedding"), "--input", input])
        XCTAssertEqual((swift["inputs"] as? [[String: Any]])?.first?["swift_type"] as? String, "TypedTensor<Float>")

        let data = Repository.root.appendingPathComponent("Fixtures/detector")
        func d(_ name: String) -> String { data.appendingPathComponent(name).path }
        let fit = try assertDocumented("detect fit", ["detect", "fit", d("embedding.onnx"), "--data", d("val_images.npy"),
                                                      "--labels", d("val_labels.npy"), "-o", temp("d.h5")])
        let rule = try XCTUnwrap(fit["preprocessing"] as? [String: Any])
        XCTAssertEqual(rule["image_dtype"] as? String, "uint8")
        XCTAssertEqual(try XCTUnwrap(rule["uint8_scale"] as? Double), Double(Float(1.0 / 255.0)), accuracy: 1e-15)
        XCTAssertEqual(rule["float32_scale"] as? Double, 1)
        let score = try assertDocumented("detect score", ["detect", "score", temp("d.h5"), d("embedding.onnx"), "--data", d("photos_images.npy")])
        XCTAssertEqual((score["scores"] as? [Double])?.count, 300)
        _ = try assertDocumented("detect evaluate", ["detect", "evaluate", temp("d.h5"), d("embedding.onnx"), "--data", d("test_images.npy"),
                                                     "--anomaly", d("photos_images.npy"), "--html", temp("r.html")])
        let scores = temp("s.npy")
        XCTAssertEqual(try vigil("detect", "score", temp("d.h5"), d("embedding.onnx"), "--data", d("test_images.npy"), "-o", scores).status, 0)
        _ = try assertDocumented("detect metrics", ["detect", "metrics", "--data", scores, "--anomaly", "same=\(scores)"])
        let export = try assertDocumented("detect export", ["detect", "export", temp("d.h5"), d("embedding.onnx"), "-o", temp("e.onnx")])
        XCTAssertEqual((export["input"] as? [String: Any])?["dtype"] as? String, "uint8")
    }
}
