import VigilIR
import XCTest

final class GraphTests: XCTestCase {
    /// x → A → a → B → b, with a also read by C → c.
    private func chain() throws -> (Graph, NodeID, NodeID, NodeID) {
        var graph = Graph(name: "g", inputs: [ValueInfo(name: "x", type: .tensor(.float32, [.symbolic("N"), .fixed(4)]))])
        let a = try graph.addNode(Node(name: "A", opType: "Relu", inputs: ["x"], outputs: ["a"]))
        let b = try graph.addNode(Node(name: "B", opType: "Neg", inputs: ["a"], outputs: ["b"]))
        let c = try graph.addNode(Node(name: "C", opType: "Add", inputs: ["a", "x"], outputs: ["c"]))
        graph.outputs = [ValueInfo(name: "b", type: nil), ValueInfo(name: "c", type: nil)]
        return (graph, a, b, c)
    }

    func testProducersAndUsersAreIndexed() throws {
        let (graph, a, b, c) = try chain()
        XCTAssertEqual(graph.producer(of: "a"), a)
        XCTAssertEqual(graph.producer(of: "x"), nil)
        XCTAssertEqual(Set(graph.users(of: "a")), [Use(node: b, slot: 0), Use(node: c, slot: 0)])
        XCTAssertEqual(graph.users(of: "x").count, 2)
        XCTAssertEqual(graph.nodes.map(\.name), ["A", "B", "C"])
    }

    func testSecondProducerIsRejected() throws {
        var (graph, _, _, _) = try chain()
        XCTAssertThrowsError(try graph.addNode(Node(name: "D", opType: "Relu", inputs: ["x"], outputs: ["a"]))) { error in
            XCTAssertEqual("\(error)", "value 'a' is produced by both 'A' (Relu) and 'D' (Relu)")
        }
        XCTAssertEqual(graph.nodeCount, 3)
    }

    func testReplaceAllUsesUpdatesUsersAndGraphOutputs() throws {
        var (graph, a, b, c) = try chain()
        graph.replaceAllUses(of: "b", with: "a")
        XCTAssertEqual(graph.outputs.map(\.name), ["a", "c"])
        graph.replaceAllUses(of: "a", with: "x")
        XCTAssertEqual(graph[b].inputs, ["x"])
        XCTAssertEqual(graph[c].inputs, ["x", "x"])
        XCTAssertEqual(graph.outputs.map(\.name), ["x", "c"])
        XCTAssertTrue(graph.users(of: "a").isEmpty)
        XCTAssertEqual(Set(graph.users(of: "x")), [Use(node: a, slot: 0), Use(node: b, slot: 0), Use(node: c, slot: 0), Use(node: c, slot: 1)])
        graph.removeNode(a)
        XCTAssertNil(graph.producer(of: "a"))
        XCTAssertEqual(Set(graph.users(of: "x")), [Use(node: b, slot: 0), Use(node: c, slot: 0), Use(node: c, slot: 1)])
        XCTAssertEqual(graph.nodes.map(\.name), ["B", "C"])
    }

    func testReplaceNodeKeepsPositionAndReindexes() throws {
        var (graph, a, _, _) = try chain()
        try graph.replaceNode(a, with: Node(name: "A2", opType: "Sigmoid", inputs: ["x"], outputs: ["a"]))
        XCTAssertEqual(graph.nodes.map(\.name), ["A2", "B", "C"])
        XCTAssertEqual(graph.producer(of: "a"), a)
        XCTAssertEqual(graph.users(of: "x").count, 2)
    }

    func testInsertBeforeAndTopologicalSort() throws {
        var graph = Graph(inputs: [ValueInfo(name: "x", type: nil)])
        let late = try graph.addNode(Node(name: "late", opType: "Neg", inputs: ["early_out"], outputs: ["y"]))
        try graph.addNode(Node(name: "early", opType: "Relu", inputs: ["x"], outputs: ["early_out"]))
        XCTAssertEqual(graph.nodes.map(\.name), ["late", "early"])
        try graph.sortTopologically()
        XCTAssertEqual(graph.nodes.map(\.name), ["early", "late"])
        try graph.insertNode(Node(name: "mid", opType: "Abs", inputs: ["x"], outputs: ["m"]), before: late)
        XCTAssertEqual(graph.nodes.map(\.name), ["early", "mid", "late"])
    }

    func testCycleIsReported() throws {
        var graph = Graph()
        try graph.addNode(Node(name: "p", opType: "Neg", inputs: ["q_out"], outputs: ["p_out"]))
        try graph.addNode(Node(name: "q", opType: "Neg", inputs: ["p_out"], outputs: ["q_out"]))
        XCTAssertThrowsError(try graph.sortTopologically()) { error in
            guard case GraphError.cycle(let values) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(Set(values), ["p_out", "q_out"])
        }
    }

    func testSubgraphCapturesOrderTheirProducerFirst() throws {
        var branch = Graph(name: "then")
        try branch.addNode(Node(opType: "Identity", inputs: ["outer"], outputs: ["inner"]))
        branch.outputs = [ValueInfo(name: "inner", type: nil)]
        XCTAssertEqual(branch.capturedValues, ["outer"])
        var graph = Graph(inputs: [ValueInfo(name: "cond", type: nil)])
        try graph.addNode(Node(name: "if", opType: "If", inputs: ["cond"], outputs: ["y"],
                               attributes: [Attribute(name: "then_branch", value: .graph(branch)), Attribute(name: "else_branch", value: .graph(branch))]))
        try graph.addNode(Node(name: "make", opType: "Relu", inputs: ["cond"], outputs: ["outer"]))
        try graph.sortTopologically()
        XCTAssertEqual(graph.nodes.map(\.name), ["make", "if"])
    }

    func testGraphsCompareByContentNotIds() throws {
        var first = Graph()
        try first.addNode(Node(opType: "Relu", inputs: ["x"], outputs: ["y"]))
        var second = Graph()
        let removed = try second.addNode(Node(opType: "Abs", inputs: ["x"], outputs: ["z"]))
        second.removeNode(removed)
        try second.addNode(Node(opType: "Relu", inputs: ["x"], outputs: ["y"]))
        XCTAssertEqual(first, second)
        second.setInitializer("w", try Tensor(float32: [1, 2], shape: [2]))
        XCTAssertNotEqual(first, second)
    }

    func testManyEditsKeepIndexesConsistent() throws {
        // A long chain where every other node is removed and its users rewired: the indexes must
        // match a from-scratch recount afterwards.
        var graph = Graph(inputs: [ValueInfo(name: "v0", type: nil)])
        var ids: [NodeID] = []
        for index in 0..<200 {
            ids.append(try graph.addNode(Node(name: "n\(index)", opType: "Relu", inputs: ["v\(index)"], outputs: ["v\(index + 1)"])))
        }
        for index in stride(from: 1, to: 200, by: 2) {
            let node = graph[ids[index]]
            graph.replaceAllUses(of: node.outputs[0], with: node.inputs[0])
            graph.removeNode(ids[index])
        }
        XCTAssertEqual(graph.nodeCount, 100)
        for id in graph.nodeIDs {
            let node = graph[id]
            XCTAssertEqual(graph.producer(of: node.outputs[0]), id)
            XCTAssertTrue(graph.users(of: node.inputs[0]).contains(Use(node: id, slot: 0)))
        }
        var recount: [String: Int] = [:]
        for node in graph.nodes { recount[node.inputs[0], default: 0] += 1 }
        for (value, count) in recount { XCTAssertEqual(graph.users(of: value).count, count, value) }
        try graph.sortTopologically()
        XCTAssertEqual(graph.nodes.map(\.name), stride(from: 0, to: 200, by: 2).map { "n\($0)" })
    }
}
