import Foundation
import VigilIR
import VigilONNX
import VigilTestSupport
import XCTest

/// End to end: the built `vigil check` binary's stdout, stderr and exit codes.
final class CheckCommandTests: XCTestCase {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    var directory: URL!

    override func setUpWithError() throws {
        try Repository.requireVigilBinary()
        directory = try Repository.temporaryDirectory()
    }

    override func tearDownWithError() throws {
        if let directory { try? FileManager.default.removeItem(at: directory) }
    }

    func vigil(_ arguments: String...) throws -> Result {
        let run = try runVigil(arguments)
        return Result(status: run.status, stdout: run.stdout, stderr: run.stderr)
    }

    func corpus(_ name: String) -> String { MalformedManifest.directory.appendingPathComponent("\(name).onnx").path }

    func testErrorsExitOneWithCompilerStyleOutput() throws {
        let path = corpus("cycle")
        let result = try vigil("check", path)
        XCTAssertEqual(result.status, 1, result.stderr)
        XCTAssertEqual(result.stderr, "")
        XCTAssertTrue(result.stdout.hasPrefix("\(path): error[V113]: nodes form a cycle"), result.stdout)
        XCTAssertTrue(result.stdout.hasSuffix("\(path): check failed: 1 error, 0 warnings, 0 notes\n"), result.stdout)
    }

    func testWarningsPassUnlessStrict() throws {
        let path = corpus("weights_nan")
        let lenient = try vigil("check", path)
        XCTAssertEqual(lenient.status, 0, lenient.stdout)
        XCTAssertTrue(lenient.stdout.contains("warning[V300]"), lenient.stdout)
        let strict = try vigil("check", "--strict", path)
        XCTAssertEqual(strict.status, 1, strict.stdout)
        XCTAssertTrue(strict.stdout.contains("error[V300]"), strict.stdout)
    }

    func testValidFixtureIsClean() throws {
        let result = try vigil("check", Repository.onnxFixtures.appendingPathComponent("conv_bn_relu/model.onnx").path)
        XCTAssertEqual(result.status, 0, result.stdout)
        XCTAssertTrue(result.stdout.contains("check passed: 0 errors"), result.stdout)
    }

    func testKerasFilesAreChecked() throws {
        let path = Repository.fixtures.appendingPathComponent("keras/conv2d_net/model.h5").path
        let result = try vigil("check", path)
        XCTAssertEqual(result.status, 0, result.stdout)
        XCTAssertTrue(result.stdout.contains("check passed: 0 errors"), result.stdout)
        let notKeras = directory.appendingPathComponent("broken.h5")
        try Data("not hdf5".utf8).write(to: notKeras)
        let broken = try vigil("check", notKeras.path)
        XCTAssertEqual(broken.status, 1)
        XCTAssertTrue(broken.stdout.hasPrefix("\(notKeras.path): error[V002]:"), broken.stdout)
    }

    func testUnreadableFilesExitOneWithADiagnostic() throws {
        let missing = directory.appendingPathComponent("missing.onnx").path
        let result = try vigil("check", missing)
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.stdout.hasPrefix("\(missing): error[V001]:"), result.stdout)
        let truncated = try vigil("check", "--json", corpus("load_truncated"))
        XCTAssertEqual(truncated.status, 1)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(truncated.stdout.utf8)) as? [String: Any])
        XCTAssertEqual((json["diagnostics"] as? [[String: Any]])?.first?["code"] as? String, "V002")
    }

    func testUsageErrorsExitTwo() throws {
        XCTAssertEqual(try vigil("check").status, 2)
        XCTAssertEqual(try vigil("check", "--max-errors", "0", corpus("cycle")).status, 2)
        XCTAssertEqual(try vigil("check", "--bogus", corpus("cycle")).status, 2)
    }

    func testMaxErrorsStopsReporting() throws {
        // Three independent errors: an undefined input (V111), an unknown attribute (V122), too many inputs (V125).
        var relu = Node(name: "relu", opType: "Relu", inputs: ["X", "nowhere"], outputs: ["Y"])
        relu.setAttribute("alpha", .float(1))
        var graph = Graph(name: "g", inputs: [ValueInfo(name: "X", type: .tensor(.float32, Shape(static: [2])))],
                          outputs: [ValueInfo(name: "Y", type: .tensor(.float32, Shape(static: [2])))])
        try graph.addNode(relu)
        let path = directory.appendingPathComponent("three_errors.onnx").path
        try ONNXWriter.write(Model(irVersion: 8, opsetImports: [OpsetImport(domain: "", version: 17)], graph: graph), to: path)

        let all = try vigil("check", "--json", path)
        XCTAssertEqual(all.status, 1)
        let everything = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(all.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(everything["errors"] as? Int, 3, all.stdout)
        let limited = try vigil("check", "--json", "--max-errors", "1", path)
        XCTAssertEqual(limited.status, 1)
        let first = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(limited.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(first["errors"] as? Int, 1)
        XCTAssertEqual(first["omitted"] as? Int, 2)
    }

    func testSARIFIsWrittenAtomically() throws {
        let sarif = directory.appendingPathComponent("report.sarif")
        let result = try vigil("check", "--sarif", sarif.path, corpus("dead_node"))
        XCTAssertEqual(result.status, 0, result.stderr)
        let log = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: sarif)) as? [String: Any])
        XCTAssertEqual(log["version"] as? String, "2.1.0")
        let results = (log["runs"] as? [[String: Any]])?.first?["results"] as? [[String: Any]]
        XCTAssertEqual(results?.map { $0["ruleId"] as? String }, ["V306"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), ["report.sarif"], "no temporary file left behind")

        let unwritable = directory.appendingPathComponent("no/such/dir/report.sarif").path
        let failed = try vigil("check", "--sarif", unwritable, corpus("dead_node"))
        XCTAssertEqual(failed.status, 1)
        XCTAssertTrue(failed.stderr.hasPrefix("vigil: error: \(unwritable): cannot write: the folder"), failed.stderr)
        XCTAssertEqual(failed.stderr.split(separator: "\n").count, 1, failed.stderr)
    }
}
