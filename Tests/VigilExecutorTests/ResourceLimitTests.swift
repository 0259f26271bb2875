import VigilExecutor
import VigilIR
import VigilOps
import VigilTestSupport
import XCTest

/// Shapes that would trap or allocate without end fail with an error naming the node instead: the
/// memory limit is checked before anything is allocated, and shape arithmetic never overflows.
final class ResourceLimitTests: XCTestCase {
    /// A one-node model over a float input of `shape`, with constant initializers.
    func model(_ op: String, inputs: [String], shape: [Dim] = [.fixed(2), .fixed(3)], attributes: [Attribute] = [],
               initializers: [String: Tensor] = [:], opset: Int64 = 17) -> Model {
        var graph = Graph(name: "g")
        graph.inputs = [ValueInfo(name: "x", type: .tensor(.float32, Shape(shape)))]
        graph.outputs = [ValueInfo(name: "y", type: nil)]
        for (name, tensor) in initializers { graph.setInitializer(name, tensor) }
        try! graph.addNode(Node(name: "n", opType: op, inputs: inputs, outputs: ["y"], attributes: attributes))
        return Model(irVersion: 8, opsetImports: opset < 0 ? [] : [OpsetImport(domain: "", version: opset)], graph: graph)
    }

    func error(_ model: Model, limit: Int? = nil, file: StaticString = #filePath, line: UInt = #line) -> ExecutorError? {
        do {
            _ = try InferenceSession(model: model, options: .init(threads: 1, memoryLimit: limit))
            XCTFail("the session was created", file: file, line: line)
            return nil
        } catch { return error }
    }

    func testADeclaredInputTooLargeForTheLimitFailsBeforeAllocating() throws {
        let huge = model("Relu", inputs: ["x"], shape: [.fixed(1 << 20), .fixed(1 << 20)])
        guard case .memoryLimit(let node, let bytes, let limit)? = error(huge, limit: 1 << 30) else { return XCTFail() }
        XCTAssertEqual(node, "'n' (Relu)")
        XCTAssertEqual(bytes, 4 << 40)
        XCTAssertEqual(limit, 1 << 30)
        XCTAssertTrue("\(error(huge, limit: 1 << 30)!)".contains("4096.0 GB"))
        // Dims whose product overflows an Int are an error naming the output.
        let overflow = model("Relu", inputs: ["x"], shape: [.fixed(1 << 40), .fixed(1 << 40)])
        XCTAssertTrue("\(error(overflow)!)".contains("more elements than"), "\(error(overflow)!)")
    }

    func testRangeWithNaNOrInfiniteLimitsIsAnError() throws {
        for limit: Float in [.nan, .infinity, 1e30] {
            let m = model("Range", inputs: ["start", "limit", "delta"], initializers: [
                "start": try Tensor(float32: [0], shape: []), "limit": try Tensor(float32: [limit], shape: []),
                "delta": try Tensor(float32: [1], shape: []),
            ])
            let e = error(m, limit: 1 << 30)
            XCTAssertNotNil(e, "limit \(limit)")
        }
        let wide = model("Range", inputs: ["start", "limit", "delta"], initializers: [
            "start": try Tensor(int64: [0], shape: []), "limit": try Tensor(int64: [1 << 62], shape: []), "delta": try Tensor(int64: [1], shape: []),
        ])
        XCTAssertTrue("\(error(wide, limit: 1 << 30)!)".contains("'n' (Range)"))
        let long = model("Range", inputs: ["start", "limit", "delta"], initializers: [
            "start": try Tensor(int64: [0], shape: []), "limit": try Tensor(int64: [1 << 40], shape: []), "delta": try Tensor(int64: [1], shape: []),
        ])
        guard case .memoryLimit? = error(long, limit: 1 << 30) else { return XCTFail("\(String(describing: error(long, limit: 1 << 30)))") }
    }

    func testResizeWithNegativeSizesOrHugeScalesIsAnError() throws {
        let negative = model("Resize", inputs: ["x", "", "", "sizes"], initializers: ["sizes": try Tensor(int64: [2, -3], shape: [2])])
        XCTAssertTrue("\(error(negative)!)".contains("non-negative"), "\(error(negative)!)")
        let huge = model("Resize", inputs: ["x", "", "scales"], initializers: ["scales": try Tensor(float32: [1, 1e30], shape: [2])])
        XCTAssertNotNil(error(huge))
        let nan = model("Resize", inputs: ["x", "", "scales"], initializers: ["scales": try Tensor(float32: [1, .nan], shape: [2])])
        XCTAssertNotNil(error(nan))
    }

    func testReshapeToAnOverflowingShapeIsAnError() throws {
        let m = model("Reshape", inputs: ["x", "shape"], initializers: ["shape": try Tensor(int64: [1 << 40, 1 << 40, 0], shape: [3])])
        XCTAssertNotNil(error(m))
    }

    func testOpsetImportsAreRequiredAndKnown() throws {
        XCTAssertTrue("\(error(model("Relu", inputs: ["x"], opset: -1))!)".contains("imports no opset"))
        XCTAssertTrue("\(error(model("Relu", inputs: ["x"], opset: 1 << 62))!)".contains("not supported"))
    }

    /// A zero-sized batch runs and returns empty outputs.
    func testAnEmptyBatchRuns() throws {
        var graph = Graph(name: "g")
        graph.inputs = [ValueInfo(name: "x", type: .tensor(.float32, Shape([.symbolic("N"), .fixed(3)])))]
        graph.outputs = [ValueInfo(name: "y", type: nil)]
        graph.setInitializer("b", try Tensor(float32: [1, 2, 3], shape: [3]))
        try graph.addNode(Node(name: "add", opType: "Add", inputs: ["x", "b"], outputs: ["s"]))
        try graph.addNode(Node(name: "softmax", opType: "Softmax", inputs: ["s"], outputs: ["y"], attributes: [Attribute(name: "axis", value: .int(1))]))
        let session = try InferenceSession(model: Model(irVersion: 8, opsetImports: [OpsetImport(domain: "", version: 17)], graph: graph),
                                           options: .init(threads: 2))
        let y = try XCTUnwrap(try session.run(["x": try Tensor(float32: [], shape: [0, 3])])["y"])
        XCTAssertEqual(y.shape, [0, 3])
    }
}
