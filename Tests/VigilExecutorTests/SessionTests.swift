import VigilExecutor
import VigilIR
import VigilOps
import VigilTestSupport
import XCTest

/// Session behaviour: up-front errors that name the input, op or node; symbolic dims; memory reuse.
final class SessionTests: XCTestCase {
    /// x[N, 4] → Relu → Sigmoid → Tanh → Neg → y, a chain of same-size values.
    func chainModel(ops: [String] = ["Relu", "Sigmoid", "Tanh", "Neg"]) -> Model {
        var graph = Graph(name: "chain")
        graph.inputs = [ValueInfo(name: "x", type: .tensor(.float32, Shape([.symbolic("N"), .fixed(4)])))]
        graph.outputs = [ValueInfo(name: "y", type: nil)]
        var previous = "x"
        for (i, op) in ops.enumerated() {
            let output = i == ops.count - 1 ? "y" : "v\(i)"
            try! graph.addNode(Node(name: "n\(i)", opType: op, inputs: [previous], outputs: [output]))
            previous = output
        }
        return Model(irVersion: 8, opsetImports: [OpsetImport(domain: "", version: 17)], graph: graph)
    }

    func testEveryUnsupportedOpIsReportedAtOnce() {
        let model = chainModel(ops: ["Relu", "FancyOp", "Tanh", "FancyOp", "OtherOp"])
        XCTAssertThrowsError(try InferenceSession(model: model)) { error in
            guard case ExecutorError.unsupportedOps(let ops) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(ops.map(\.opType), ["FancyOp", "OtherOp"])
            XCTAssertEqual(ops[0].nodes, ["'n1' (FancyOp)", "'n3' (FancyOp)"])
            XCTAssertTrue("\(error)".contains("FancyOp") && "\(error)".contains("OtherOp"))
        }
    }

    func testInputErrorsNameTheInput() throws {
        let session = try InferenceSession(model: chainModel(), options: .init(threads: 1))
        let good = randomTensor([2, 4], seed: 1)
        XCTAssertThrowsError(try session.run([:])) { XCTAssertEqual($0 as? ExecutorError, .missingInput(name: "x")) }
        XCTAssertThrowsError(try session.run(["x": good, "z": good])) { error in
            XCTAssertTrue("\(error)".contains("'z'"), "\(error)")
        }
        XCTAssertThrowsError(try session.run(["x": int64Tensor([1, 2, 3, 4], [1, 4])])) { error in
            XCTAssertEqual(error as? ExecutorError, .inputTypeMismatch(name: "x", expected: .float32, actual: .int64))
        }
        XCTAssertThrowsError(try session.run(["x": randomTensor([2, 5], seed: 2)])) { error in
            XCTAssertTrue("\(error)".contains("input 'x'") && "\(error)".contains("axis 1"), "\(error)")
        }
        XCTAssertThrowsError(try session.run(["x": randomTensor([8], seed: 2)])) { error in
            XCTAssertTrue("\(error)".contains("rank"), "\(error)")
        }
    }

    func testSymbolsMustAgreeAcrossInputs() throws {
        var graph = Graph(name: "two")
        graph.inputs = [ValueInfo(name: "a", type: .tensor(.float32, Shape([.symbolic("N"), .fixed(2)]))),
                        ValueInfo(name: "b", type: .tensor(.float32, Shape([.symbolic("N"), .fixed(2)])))]
        graph.outputs = [ValueInfo(name: "c", type: nil)]
        try graph.addNode(Node(name: "add", opType: "Add", inputs: ["a", "b"], outputs: ["c"]))
        let session = try InferenceSession(model: Model(irVersion: 8, opsetImports: [OpsetImport(domain: "", version: 17)], graph: graph))
        XCTAssertThrowsError(try session.run(["a": randomTensor([2, 2], seed: 1), "b": randomTensor([3, 2], seed: 2)])) { error in
            XCTAssertTrue("\(error)".contains("binds N"), "\(error)")
        }
    }

    func testInferenceErrorsNameTheNode() {
        var graph = Graph(name: "bad")
        graph.inputs = [ValueInfo(name: "a", type: .tensor(.float32, Shape(static: [2, 3]))),
                        ValueInfo(name: "b", type: .tensor(.float32, Shape(static: [4, 5])))]
        graph.outputs = [ValueInfo(name: "c", type: nil)]
        try! graph.addNode(Node(name: "mm", opType: "MatMul", inputs: ["a", "b"], outputs: ["c"]))
        XCTAssertThrowsError(try InferenceSession(model: Model(irVersion: 8, opsetImports: [OpsetImport(domain: "", version: 17)], graph: graph))) { error in
            XCTAssertTrue("\(error)".contains("'mm' (MatMul)") && "\(error)".contains("inner dimensions"), "\(error)")
        }
    }

    func testArenaReusesDeadValues() throws {
        // Ten same-size values in a chain: live at most two at a time (in-place ops may make it one).
        let model = chainModel(ops: Array(repeating: ["Sigmoid", "Tanh"], count: 5).flatMap { $0 })
        let session = try InferenceSession(model: model, options: .init(threads: 1))
        let x = randomTensor([64, 4], seed: 3)
        let bytes = try session.plannedArenaBytes(for: ["x": x])
        XCTAssertLessThanOrEqual(bytes, 2 * 64 * 4 * 4)
        // And the values are still right: tanh(sigmoid(…)) five times over.
        var expected = x.scalars(as: Float.self).map(Double.init)
        for _ in 0..<5 { expected = expected.map { tanh(1 / (1 + exp(-$0))) } }
        expectClose(try session.run(["x": x])["y"], floatTensor(expected.map { Float($0) }, [64, 4]), "chain")
    }

    func testThreadCountsAgree() throws {
        // A conv net big enough to split work: results at 1 and 2 threads agree to float rounding.
        var graph = Graph(name: "threads")
        graph.inputs = [ValueInfo(name: "x", type: .tensor(.float32, Shape(static: [2, 8, 16, 16])))]
        graph.outputs = [ValueInfo(name: "y", type: nil)]
        graph.setInitializer("w", randomTensor([16, 8, 3, 3], seed: 4))
        graph.setInitializer("dw", randomTensor([16, 1, 3, 3], seed: 5))
        try graph.addNode(Node(name: "conv", opType: "Conv", inputs: ["x", "w"], outputs: ["c"],
                               attributes: [Attribute(name: "pads", value: ints([1, 1, 1, 1]))]))
        try graph.addNode(Node(name: "relu", opType: "Relu", inputs: ["c"], outputs: ["r"]))
        try graph.addNode(Node(name: "dw", opType: "Conv", inputs: ["r", "dw"], outputs: ["d"],
                               attributes: [Attribute(name: "group", value: .int(16)), Attribute(name: "pads", value: ints([1, 1, 1, 1]))]))
        try graph.addNode(Node(name: "pool", opType: "MaxPool", inputs: ["d"], outputs: ["y"],
                               attributes: [Attribute(name: "kernel_shape", value: ints([2, 2])), Attribute(name: "strides", value: ints([2, 2]))]))
        let model = Model(irVersion: 8, opsetImports: [OpsetImport(domain: "", version: 17)], graph: graph)
        let x = randomTensor([2, 8, 16, 16], seed: 6)
        let one = try InferenceSession(model: model, options: .init(threads: 1)).run(["x": x])["y"]!
        let two = try InferenceSession(model: model, options: .init(threads: 2)).run(["x": x])["y"]!
        // Summation order inside BLAS may differ with its thread count: agreement is to float rounding.
        expectClose(two, one, atol: 1e-5, rtol: 1e-5, "threads 1 vs 2")
    }

    func testOpRegistryInfersSymbolicShapes() throws {
        // The same inference the planner uses works on symbolic dims, for the verifier.
        let node = Node(name: "conv", opType: "Conv", inputs: ["x", "w"], outputs: ["y"],
                        attributes: [Attribute(name: "strides", value: ints([2, 2])), Attribute(name: "auto_pad", value: .string(Array("SAME_UPPER".utf8)))])
        let context = OpContext(node: node, opset: 17, inputTypes: [
            TensorType(.float32, Shape([.symbolic("N"), .fixed(3), .fixed(15), .fixed(8)])), TensorType(.float32, static: [6, 3, 3, 3]),
        ], inputValues: [])
        let out = try OpRegistry.standard.infer(context)
        XCTAssertEqual(out[0].type, TensorType(.float32, Shape([.symbolic("N"), .fixed(6), .fixed(8), .fixed(4)])))
        // Reshape to [0, -1] keeps the batch symbol and computes the rest.
        let reshape = Node(name: "flat", opType: "Reshape", inputs: ["x", "shape"], outputs: ["y"])
        let reshaped = try OpRegistry.standard.infer(OpContext(node: reshape, opset: 14, inputTypes: [
            TensorType(.float32, Shape([.symbolic("N"), .fixed(8), .fixed(4)])), TensorType(.int64, static: [2]),
        ], inputValues: [nil, try Tensor(int64: [0, -1], shape: [2])]))
        XCTAssertEqual(reshaped[0].type.shape, Shape([.symbolic("N"), .fixed(32)]))
        let reshaped2 = try OpRegistry.standard.infer(OpContext(node: reshape, opset: 14, inputTypes: [
            TensorType(.float32, Shape([.symbolic("N"), .fixed(8), .fixed(4)])), TensorType(.int64, static: [2]),
        ], inputValues: [nil, try Tensor(int64: [-1, 32], shape: [2])]))
        XCTAssertEqual(reshaped2[0].type.shape, Shape([.symbolic("N"), .fixed(32)]))
        // A bad attribute throws a located error.
        var bad = node
        bad.setAttribute("group", .int(2))
        XCTAssertThrowsError(try OpRegistry.standard.infer(OpContext(node: bad, opset: 17, inputTypes: context.inputTypes, inputValues: []))) { error in
            XCTAssertEqual((error as? OpError)?.node, "'conv' (Conv)")
        }
    }
}
