import Foundation
import VigilRuntime
import VigilTestSupport
import XCTest

/// Failures are typed ``VigilError``s naming the file, the node or layer, the input and the cause.
final class ErrorTests: XCTestCase {
    /// The typed error `body` throws (any other error fails the test).
    func error(_ body: () throws -> Void, file: StaticString = #filePath, line: UInt = #line) -> VigilError? {
        do { try body() } catch let error as VigilError { return error } catch { XCTFail("untyped error \(error)", file: file, line: line) }
        return nil
    }

    func testUnreadableAndInvalidFiles() throws {
        let missing = error { _ = try Network(contentsOf: URL(fileURLWithPath: "/nonexistent/model.onnx")) }
        XCTAssertEqual(missing?.kind, .unreadableFile)
        XCTAssertEqual(missing?.file, "/nonexistent/model.onnx")
        XCTAssertTrue(missing?.description.hasPrefix("/nonexistent/model.onnx: ") ?? false)

        let directory = try Repository.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let garbage = directory.appendingPathComponent("garbage.onnx")
        try Data([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]).write(to: garbage)
        let invalid = error { _ = try Network(contentsOf: garbage) }
        XCTAssertEqual(invalid?.kind, .invalidModel)
        XCTAssertEqual(invalid?.file, garbage.path)

        let notKeras = directory.appendingPathComponent("model.h5")
        try Data("not hdf5".utf8).write(to: notKeras)
        let keras = error { _ = try Network(contentsOf: notKeras) }
        XCTAssertEqual(keras?.kind, .invalidModel)
        XCTAssertEqual(keras?.file, notKeras.path)
        XCTAssertEqual(keras?.description.split(separator: "\n").count, 1)
    }

    func testUnsupportedOpsNameTheNode() {
        let url = Repository.onnxFixtures.appendingPathComponent("control_flow_if/model.onnx")
        let failure = error { _ = try Network(contentsOf: url) }
        XCTAssertEqual(failure?.kind, .unsupported)
        XCTAssertEqual(failure?.opType, "If")
        XCTAssertNotNil(failure?.node)
        XCTAssertTrue(failure?.description.hasPrefix(url.path + ": unsupported ops: If") ?? false, failure?.description ?? "")
    }

    func testInputErrorsNameTheInput() throws {
        let url = Repository.onnxFixtures.appendingPathComponent("cnn_embedding/model.onnx")
        let network = try Network(contentsOf: url)
        let ints = try Tensor(int64: [1, 2], shape: [2])
        let wrongType = error { _ = try network.run(["X": ints]) }
        XCTAssertEqual(wrongType?.kind, .invalidInput)
        XCTAssertEqual(wrongType?.input, "X")
        XCTAssertEqual(wrongType?.file, url.path)
        let wrongShape = error { _ = try network.run(["X": try TypedTensor<Float>(shape: [1, 1, 27, 28], repeating: 0).tensor]) }
        XCTAssertEqual(wrongShape?.kind, .invalidInput)
        XCTAssertTrue(wrongShape?.cause.contains("axis 2 is 27 instead of 28") ?? false, wrongShape?.cause ?? "")
        let missing = error { _ = try network.run([:]) }
        XCTAssertEqual(missing?.input, "X")
        let unknown = error { _ = try network.run(["X": ints, "Y": ints]) }
        XCTAssertEqual(unknown?.input, "Y")
    }

    /// A memory limit too small for the plan fails when the network is planned (here at the first
    /// run, which binds the batch size), naming the node.
    func testMemoryLimitNamesTheNode() throws {
        let url = Repository.onnxFixtures.appendingPathComponent("vgg_like/model.onnx")
        let network = try Network(contentsOf: url, options: .init(memoryLimit: 1024))
        let failure = error { _ = try network.run(try TypedTensor<Float>(shape: [1, 3, 32, 32], repeating: 0).tensor) }
        XCTAssertEqual(failure?.kind, .memoryLimit)
        XCTAssertNotNil(failure?.node)
        XCTAssertEqual(failure?.file, url.path)
    }

    /// A node whose shapes do not fit fails when the network is planned, naming the node and its op.
    func testNodeErrorsNameTheNode() {
        var graph = Graph(name: "bad")
        graph.inputs = [ValueInfo(name: "a", type: .tensor(.float32, Shape(static: [2, 3])))]
        graph.setInitializer("w", try! Tensor(float32: [Float](repeating: 1, count: 8), shape: [4, 2]))
        graph.outputs = [ValueInfo(name: "y", type: nil)]
        _ = try! graph.addNode(Node(name: "product", opType: "MatMul", inputs: ["a", "w"], outputs: ["y"]))
        let model = Model(irVersion: 8, opsetImports: [OpsetImport(domain: "", version: 17)], graph: graph)
        let failure = error { _ = try Network(model: model, file: "bad.onnx", options: .init(optimize: false)) }
        XCTAssertEqual(failure?.kind, .execution)
        XCTAssertEqual(failure?.node, "'product' (MatMul)")
        XCTAssertEqual(failure?.opType, "MatMul")
        XCTAssertTrue(failure?.description.hasPrefix("bad.onnx: node 'product' (MatMul)") ?? false, failure?.description ?? "")
    }
}
