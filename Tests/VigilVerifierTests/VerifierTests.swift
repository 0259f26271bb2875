import Foundation
import VigilIR
import VigilOps
import VigilTestSupport
import VigilVerifier
import XCTest

/// The verifier's API and individual checks, on small models built in memory.
final class VerifierTests: XCTestCase {
    // MARK: Builders

    func tensor(_ name: String, _ dims: [Dim], _ dtype: DType = .float32) -> ValueInfo {
        ValueInfo(name: name, type: .tensor(dtype, Shape(dims)))
    }

    func makeModel(_ nodes: [Node], inputs: [ValueInfo], outputs: [ValueInfo], initializers: [(String, Tensor)] = [],
                   valueInfo: [ValueInfo] = [], opset: Int64 = 17, ir: Int64 = 8) throws -> Model {
        var graph = Graph(name: "g", inputs: inputs, outputs: outputs, valueInfo: valueInfo)
        for node in nodes { try graph.addNode(node) }
        for (name, value) in initializers { graph.setInitializer(name, value) }
        return Model(irVersion: ir, opsetImports: [OpsetImport(domain: "", version: opset)], graph: graph)
    }

    /// X[N,3,8,8] → Conv(W[4,3,3,3]) → Relu → Y, with Y declared as `declared`.
    func convReluModel(declared: [Dim]) throws -> Model {
        let weights = try Tensor(float32: (0..<108).map { Float($0 % 7) * 0.1 - 0.3 }, shape: [4, 3, 3, 3])
        return try makeModel(
            [Node(name: "conv", opType: "Conv", inputs: ["X", "W"], outputs: ["C"]),
             Node(name: "relu", opType: "Relu", inputs: ["C"], outputs: ["Y"])],
            inputs: [tensor("X", [.symbolic("N"), .fixed(3), .fixed(8), .fixed(8)])],
            outputs: [tensor("Y", declared)], initializers: [("W", weights)])
    }

    func codes(_ diagnostics: [Diagnostic], _ severity: Severity? = nil) -> Set<String> {
        Set(diagnostics.filter { severity == nil || $0.severity == severity }.map(\.code.rawValue))
    }

    // MARK: Inference

    func testSymbolicDimsCarryThroughAndMatchTheDeclaration() throws {
        let model = try convReluModel(declared: [.symbolic("N"), .fixed(4), .fixed(6), .fixed(6)])
        let diagnostics = Verifier().verify(model)
        XCTAssertEqual(diagnostics, [], describe(diagnostics))
    }

    func testDeclaredShapeConflictIsReportedAtTheProducingNode() throws {
        let model = try convReluModel(declared: [.symbolic("N"), .fixed(4), .fixed(7), .fixed(6)])
        let conflicts = Verifier().verify(model).filter { $0.code == .declaredShapeConflict }
        XCTAssertEqual(conflicts.count, 1, describe(conflicts))
        XCTAssertEqual(conflicts.first?.location.nodeName, "relu")
        XCTAssertEqual(conflicts.first?.location.opType, "Relu")
        XCTAssertEqual(conflicts.first?.location.nodeIndex, 1)
        XCTAssertEqual(conflicts.first?.location.value, "Y")
        XCTAssertEqual(conflicts.first?.severity, .error)
    }

    /// The verifier reports VigilOps' own rejection, word for word: one inference per op.
    func testInferenceErrorsComeFromVigilOps() throws {
        let weights = try Tensor(float32: [Float](repeating: 0.5, count: 4 * 5 * 9), shape: [4, 5, 3, 3])
        let conv = Node(name: "conv", opType: "Conv", inputs: ["X", "W"], outputs: ["Y"])
        let model = try makeModel([conv], inputs: [tensor("X", [1, 3, 8, 8].map(Dim.fixed))],
                                  outputs: [tensor("Y", [1, 4, 6, 6].map(Dim.fixed))], initializers: [("W", weights)])
        let context = OpContext(node: conv, opset: 17, inputTypes: [TensorType(.float32, static: [1, 3, 8, 8]), TensorType(.float32, static: [4, 5, 3, 3])],
                                inputValues: [nil, weights])
        var expected: OpError?
        do { _ = try OpRegistry.standard.infer(context) } catch { expected = error }
        let reference = try XCTUnwrap(expected, "VigilOps accepts the node")
        let inference = Verifier().verify(model).filter { $0.code == .inference }
        XCTAssertEqual(inference.map(\.message), [reference.message])
    }

    func testOpsetSpecificForms() throws {
        let axes = try Tensor(int64: [0], shape: [1])
        // Opset 11: axes is an attribute.
        var squeeze11 = Node(name: "sq", opType: "Squeeze", inputs: ["X"], outputs: ["Y"])
        squeeze11.setAttribute("axes", .ints([0]))
        let old = try makeModel([squeeze11], inputs: [tensor("X", [1, 2].map(Dim.fixed))], outputs: [tensor("Y", [.fixed(2)])], opset: 11, ir: 6)
        XCTAssertEqual(codes(Verifier().verify(old), .error), [])
        // Opset 13: axes is an input; the attribute form is rejected by the schema.
        let new = try makeModel([Node(name: "sq", opType: "Squeeze", inputs: ["X", "axes"], outputs: ["Y"])],
                                inputs: [tensor("X", [1, 2].map(Dim.fixed))], outputs: [tensor("Y", [.fixed(2)])],
                                initializers: [("axes", axes)], opset: 13)
        XCTAssertEqual(codes(Verifier().verify(new), .error), [])
        let mixed = try makeModel([squeeze11], inputs: [tensor("X", [1, 2].map(Dim.fixed))], outputs: [tensor("Y", [.fixed(2)])], opset: 13)
        let diagnostics = Verifier().verify(mixed)
        XCTAssertEqual(codes(diagnostics, .error), ["V122"])
        XCTAssertNotNil(diagnostics.first { $0.code == .unknownAttribute }?.hint)
    }

    // MARK: Reporting

    func testEveryProblemIsReportedInOneRun() throws {
        var relu = Node(name: "relu", opType: "Relu", inputs: ["X", "X"], outputs: ["T"])
        relu.setAttribute("alpha", .float(1))
        let model = try makeModel(
            [relu, Node(name: "add", opType: "Add", inputs: ["T", "missing"], outputs: ["Y"])],
            inputs: [tensor("X", [.fixed(2)])], outputs: [tensor("Y", [.fixed(2)]), tensor("Z", [.fixed(2)])],
            initializers: [("unused", try Tensor(float32: [1, 2, 3], shape: [3]))])
        let diagnostics = Verifier().verify(model)
        XCTAssertEqual(codes(diagnostics, .error), ["V111", "V114", "V122", "V125"], describe(diagnostics))
        XCTAssertTrue(codes(diagnostics, .warning).contains("V305"))
    }

    func testStrictPromotesWarnings() throws {
        let model = try makeModel([Node(name: "relu", opType: "Relu", inputs: ["X"], outputs: ["Y"])],
                                  inputs: [tensor("X", [.fixed(2)])], outputs: [tensor("Y", [.fixed(2)])],
                                  initializers: [("unused", try Tensor(float32: [1, 2, 3], shape: [3]))])
        let lenient = Verifier().verify(model)
        XCTAssertEqual(lenient.map(\.severity), [.warning])
        XCTAssertFalse(Verifier.hasErrors(lenient))
        let strict = Verifier(strict: true).verify(model)
        XCTAssertEqual(strict.map(\.severity), [.error])
        XCTAssertEqual(strict.map(\.code), lenient.map(\.code))
    }

    func testKerasLayerIsPartOfTheLocation() throws {
        let node = Node(name: "dense_1/MatMul", opType: "MatMul", inputs: ["X", "W"], outputs: ["Y"],
                        metadata: [MetadataEntry(key: Location.kerasLayerKey, value: "dense_1")])
        let model = try makeModel([node], inputs: [tensor("X", [1, 2].map(Dim.fixed))], outputs: [tensor("Y", [1, 2].map(Dim.fixed))],
                                  initializers: [("W", try Tensor(float32: [0, 0, 0, 0], shape: [2, 2]))])
        let zero = try XCTUnwrap(Verifier().verify(model).first { $0.code == .allZeroWeight })
        XCTAssertEqual(zero.location.kerasLayer, "dense_1")
        XCTAssertTrue(zero.location.description.contains("Keras layer 'dense_1'"))
    }

    func testMaxErrorsKeepsTheFirstErrors() {
        let diagnostics = [
            Diagnostic(.unusedInitializer, "w1"), Diagnostic(.undefinedValue, "e1"), Diagnostic(.undefinedValue, "e2"),
            Diagnostic(.deadNode, "w2"), Diagnostic(.undefinedValue, "e3"),
        ]
        let report = DiagnosticReport(file: "m.onnx", diagnostics: diagnostics, maxErrors: 2)
        XCTAssertEqual(report.diagnostics.map(\.message), ["w1", "e1", "e2"])
        XCTAssertEqual(report.omitted, 2)
        XCTAssertTrue(report.text.contains("2 more diagnostic(s) not shown"))
        XCTAssertEqual(DiagnosticReport(file: "m.onnx", diagnostics: diagnostics).diagnostics.count, 5)
    }

    func testTextReadsLikeACompiler() {
        var location = Location(nodeName: "conv1", opType: "Conv", nodeIndex: 3, value: "x")
        location.graphPath = []
        let report = DiagnosticReport(file: "m.onnx", diagnostics: [Diagnostic(.undefinedValue, "input 'x' is not defined", at: location, hint: "define it")])
        XCTAssertEqual(report.text, """
            m.onnx: error[V111]: input 'x' is not defined
              --> node #3 'conv1' (Conv), value 'x'
              = hint: define it
            m.onnx: check failed: 1 error, 0 warnings, 0 notes
            """)
    }

    func testJSONAndSARIFAreWellFormed() throws {
        let diagnostics = [
            Diagnostic(.undefinedValue, "input 'x' is not defined", at: Location(nodeName: "conv1", opType: "Conv", nodeIndex: 3, value: "x")),
            Diagnostic(.unusedInitializer, "initializer 'w' is never read", at: .value("w"), hint: "remove it"),
        ]
        let report = DiagnosticReport(file: "m.onnx", diagnostics: diagnostics)
        let jsonData = try JSONSerialization.data(withJSONObject: report.json)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: jsonData) as? [String: Any])
        XCTAssertEqual(json["errors"] as? Int, 1)
        XCTAssertEqual(json["warnings"] as? Int, 1)
        XCTAssertEqual(json["ok"] as? Bool, false)
        let first = try XCTUnwrap((json["diagnostics"] as? [[String: Any]])?.first)
        XCTAssertEqual(first["code"] as? String, "V111")
        XCTAssertEqual((first["location"] as? [String: Any])?["node_index"] as? Int, 3)

        let sarifData = try JSONSerialization.data(withJSONObject: report.sarif(toolVersion: "0.1.0", fileURI: "m.onnx"))
        let sarif = try XCTUnwrap(JSONSerialization.jsonObject(with: sarifData) as? [String: Any])
        XCTAssertEqual(sarif["version"] as? String, "2.1.0")
        let run = try XCTUnwrap((sarif["runs"] as? [[String: Any]])?.first)
        let driver = try XCTUnwrap((run["tool"] as? [String: Any])?["driver"] as? [String: Any])
        let rules = try XCTUnwrap(driver["rules"] as? [[String: Any]])
        XCTAssertEqual(rules.compactMap { $0["id"] as? String }, DiagnosticCode.allCases.map(\.rawValue))
        let results = try XCTUnwrap(run["results"] as? [[String: Any]])
        XCTAssertEqual(results.count, 2)
        for result in results {
            let index = try XCTUnwrap(result["ruleIndex"] as? Int)
            XCTAssertEqual(rules[index]["id"] as? String, result["ruleId"] as? String)
        }
        XCTAssertEqual(results.map { $0["level"] as? String }, ["error", "warning"])
        let logical = (results[0]["locations"] as? [[String: Any]])?.first?["logicalLocations"] as? [[String: Any]]
        XCTAssertEqual(logical?.compactMap { $0["name"] as? String }, ["conv1", "x"])
    }

    func testCodesAreUniqueAndDocumented() throws {
        XCTAssertEqual(Set(DiagnosticCode.allCases.map(\.rawValue)).count, DiagnosticCode.allCases.count)
        XCTAssertEqual(Set(DiagnosticCode.allCases.map(\.name)).count, DiagnosticCode.allCases.count)
        let doc = try String(contentsOf: Repository.root.appendingPathComponent("Formats/diagnostics.md"), encoding: .utf8)
        for code in DiagnosticCode.allCases {
            XCTAssertTrue(doc.contains("| \(code.rawValue) | `\(code.name)` | \(code.defaultSeverity.rawValue) |"),
                          "Formats/diagnostics.md lacks the row for \(code.rawValue) \(code.name) (\(code.defaultSeverity))")
        }
    }

    func testLoadFailuresMapToStableCodes() {
        XCTAssertEqual(Verifier.loadDiagnostic(kind: .malformed, reason: "the file is empty").code, .malformedProtobuf)
        XCTAssertEqual(Verifier.loadDiagnostic(kind: .unreadable, reason: "no such file").code, .unreadable)
        XCTAssertEqual(Verifier.loadDiagnostic(kind: .externalData, reason: "tensor 'W': escapes").code, .externalData)
        XCTAssertEqual(Verifier.loadDiagnostic(kind: .invalid, reason: "something new").code, .invalidAtLoad)
        XCTAssertEqual(Verifier.loadDiagnostic(kind: .invalid, reason: "something new").severity, .error)
    }
}

final class RequireValidTests: XCTestCase {
    func testRequireValidThrowsWithTheErrorsAndPassesValidModels() throws {
        var graph = Graph(name: "g", inputs: [ValueInfo(name: "X", type: .tensor(.float32, Shape(static: [2])))],
                          outputs: [ValueInfo(name: "Y", type: .tensor(.float32, Shape(static: [2])))])
        try graph.addNode(Node(name: "relu", opType: "Relu", inputs: ["X"], outputs: ["Y"]))
        let valid = Model(irVersion: 8, opsetImports: [OpsetImport(domain: "", version: 17)], graph: graph)
        XCTAssertEqual(try Verifier.structural.requireValid(valid), [])

        var broken = valid
        broken.graph.setInput(of: broken.graph.nodeIDs[0], slot: 0, to: "nowhere")
        XCTAssertThrowsError(try Verifier.structural.requireValid(broken)) { error in
            let failure = error as? VerificationFailure
            XCTAssertEqual(failure?.errors.map(\.code), [.undefinedValue])
            XCTAssertTrue(failure?.description.contains("'nowhere'") ?? false)
        }
    }
}
