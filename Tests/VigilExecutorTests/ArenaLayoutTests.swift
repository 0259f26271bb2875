@testable import VigilExecutor
import VigilIR
import VigilOps
import VigilTestSupport
import XCTest

/// Arena placement: buffers alive at the same step never share a byte, and the arena stays close to
/// the most bytes ever alive at once (the bound no placement can beat), where a free list of grown
/// slots fragments.
final class ArenaLayoutTests: XCTestCase {
    typealias Buffer = (bytes: Int, first: Int, last: Int)

    /// The most bytes (rounded to 64) alive at any one step, counted step by step.
    func mostAlive(_ buffers: [Buffer]) -> Int {
        let steps = buffers.map(\.last).max() ?? 0
        return (0...steps).map { step in
            buffers.filter { $0.first <= step && step <= $0.last }.reduce(0) { $0 + ($1.bytes + 63) / 64 * 64 }
        }.max() ?? 0
    }

    func checkDisjoint(_ buffers: [Buffer], _ offsets: [Int], _ size: Int, file: StaticString = #filePath, line: UInt = #line) {
        for a in buffers.indices {
            XCTAssertEqual(offsets[a] % 64, 0, file: file, line: line)
            XCTAssertLessThanOrEqual(offsets[a] + buffers[a].bytes, size, file: file, line: line)
            for b in buffers.indices where b > a && buffers[a].first <= buffers[b].last && buffers[b].first <= buffers[a].last {
                let apart = offsets[a] + buffers[a].bytes <= offsets[b] || offsets[b] + buffers[b].bytes <= offsets[a]
                XCTAssertTrue(apart, "buffers \(a) \(buffers[a]) and \(b) \(buffers[b]) overlap", file: file, line: line)
            }
        }
    }

    func testRandomLifetimesNeverShareBytesWhileAlive() {
        var state: UInt64 = 11
        func next(_ below: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int(state >> 33) % below
        }
        for trial in 0..<200 {
            let buffers: [Buffer] = (0..<1 + next(60)).map { _ in
                let first = next(40)
                return (bytes: 1 + next(5000), first: first, last: first + next(12))
            }
            let (offsets, size) = ArenaLayout.place(buffers)
            checkDisjoint(buffers, offsets, size)
            XCTAssertGreaterThanOrEqual(size, mostAlive(buffers), "trial \(trial)")
        }
    }

    func testScheduleOrderAboveTheSizeOrderLimitStillNeverSharesBytes() {
        // A long chain with skips, more buffers than the size-ordered placement compares pairwise.
        let count = ArenaLayout.sizeOrderLimit + 100
        let buffers: [Buffer] = (0..<count).map { (bytes: 64 * (1 + $0 % 7), first: $0, last: $0 + 1 + $0 % 3) }
        let (offsets, size) = ArenaLayout.place(buffers)
        checkDisjoint(Array(buffers.prefix(600)), Array(offsets.prefix(600)), size)
        checkDisjoint(Array(buffers.suffix(600)), Array(offsets.suffix(600)), size)
        XCTAssertLessThanOrEqual(size, 4 * mostAlive(buffers))
    }

    /// A DenseNet block: each layer concatenates the block's input with every feature so far, then
    /// Relu → 1×1 Conv → Relu → 1×1 Conv gives the next feature. Every feature lives to the block's
    /// end while the concatenations grow: a free list of grown slots took 2× the bytes ever alive.
    func testDenseBlockArenaStaysAtTheBytesAlive() throws {
        try checkDenseBlock(batch: 2)
    }

    /// The same block at batch 1, where its Concats form a chain: every feature is written once into the
    /// last Concat's buffer and each shorter Concat is a view of its first bytes (nothing is copied but
    /// the block's input, a graph input), and the values are the same.
    func testDenseBlockConcatsShareOneBuffer() throws {
        try checkDenseBlock(batch: 1)
    }

    func checkDenseBlock(batch: Int) throws {
        var graph = Graph(name: "dense")
        let (channels, growth, bottleneck, layers) = (8, 4, 16, 6)
        graph.inputs = [ValueInfo(name: "x", type: .tensor(.float32, Shape(static: [batch, channels, 12, 12])))]
        graph.outputs = [ValueInfo(name: "y", type: nil)]
        var features = ["x"]
        for layer in 0..<layers {
            let width = channels + growth * layer
            try graph.addNode(Node(name: "cat\(layer)", opType: "Concat", inputs: features, outputs: ["c\(layer)"],
                                   attributes: [Attribute(name: "axis", value: .int(1))]))
            try graph.addNode(Node(name: "relu\(layer)", opType: "Relu", inputs: ["c\(layer)"], outputs: ["r\(layer)"]))
            graph.setInitializer("u\(layer)", randomTensor([bottleneck, width, 1, 1], seed: UInt64(2 * layer)))
            try graph.addNode(Node(name: "squeeze\(layer)", opType: "Conv", inputs: ["r\(layer)", "u\(layer)"], outputs: ["b\(layer)"]))
            try graph.addNode(Node(name: "relu\(layer)b", opType: "Relu", inputs: ["b\(layer)"], outputs: ["s\(layer)"]))
            graph.setInitializer("w\(layer)", randomTensor([growth, bottleneck, 1, 1], seed: UInt64(2 * layer + 1)))
            try graph.addNode(Node(name: "conv\(layer)", opType: "Conv", inputs: ["s\(layer)", "w\(layer)"], outputs: ["f\(layer)"]))
            features.append("f\(layer)")
        }
        try graph.addNode(Node(name: "out", opType: "Concat", inputs: features, outputs: ["y"], attributes: [Attribute(name: "axis", value: .int(1))]))
        let model = Model(irVersion: 8, opsetImports: [OpsetImport(domain: "", version: 17)], graph: graph)
        let session = try InferenceSession(model: model, options: .init(threads: 1))
        let x = randomTensor([batch, channels, 12, 12], seed: 9)
        let plane = batch * 12 * 12 * 4
        let plan = try session.plannedLayout(for: ["x": x])
        if batch == 1 {
            // The chain's buffer (all 32 channels, from the first feature on), the last Relu's 28 and the
            // squeeze's 16.
            let mostAlive = (channels + growth * layers + channels + growth * (layers - 1) + bottleneck) * plane
            XCTAssertLessThanOrEqual(plan.arenaSize, mostAlive, "arena \(plan.arenaSize) against \(mostAlive) alive")
            func isView(_ name: String) -> Bool { if case .view = plan.values[name]?.storage { return true } else { return false } }
            for layer in 0..<layers { XCTAssertTrue(isView("c\(layer)") && isView("f\(layer)"), "layer \(layer): a view of the chain's buffer") }
            XCTAssertFalse(isView("y") || isView("x"), "the chain's root (a graph output) and the graph input")
        } else {
            // Alive at once at most: at the last layer's squeeze, the block's input, five features, the
            // concatenation (Relu in place) and the squeeze's output: 8 + 5·4 + 28 + 16 channels.
            let mostAlive = (2 * (channels + growth * (layers - 1)) + bottleneck) * plane
            XCTAssertLessThanOrEqual(plan.arenaSize, mostAlive, "arena \(plan.arenaSize) against \(mostAlive) alive")
        }
        // The values are still right: the block computed naively, in doubles.
        func reluConv(_ input: [Double], _ inputChannels: Int, _ weight: String, _ outputs: Int) -> [Double] {
            let w = graph.initializer(weight)!.scalars(as: Float.self).map(Double.init)
            var result = [Double](repeating: 0, count: batch * outputs * 144)
            for image in 0..<batch {
                for o in 0..<outputs {
                    for c in 0..<inputChannels {
                        let weight = w[o * inputChannels + c], source = (image * inputChannels + c) * 144, target = (image * outputs + o) * 144
                        for p in 0..<144 { result[target + p] += weight * max(0, input[source + p]) }
                    }
                }
            }
            return result
        }
        var planes = x.scalars(as: Float.self).map(Double.init)  // [image][channel][pixel], grown channel by channel
        var width = channels
        for layer in 0..<layers {
            let feature = reluConv(reluConv(planes, width, "u\(layer)", bottleneck), bottleneck, "w\(layer)", growth)
            var grown: [Double] = []
            for image in 0..<batch {
                grown += planes[(image * width * 144)..<((image + 1) * width * 144)]
                grown += feature[(image * growth * 144)..<((image + 1) * growth * 144)]
            }
            planes = grown
            width += growth
        }
        expectClose(try session.run(["x": x])["y"], floatTensor(planes.map { Float($0) }, [batch, width, 12, 12]), atol: 1e-4,
                    "dense block, batch \(batch)")
    }

    /// Concat inputs computed by the plan and used by no other Concat are written straight into their
    /// place in the Concat's output at batch 1 (one run of bytes per input), and still read by their other
    /// consumers after the Concat; a graph input, a constant, a view of another value, an input given twice
    /// and a graph output are copied as before; at batch 2 (two runs per input) everything is copied.
    func testConcatInputsAreWrittenInPlace() throws {
        for batch in [1, 2] {
            var graph = Graph(name: "concat")
            graph.inputs = [ValueInfo(name: "x", type: .tensor(.float32, Shape(static: [batch, 3, 5, 7])))]
            graph.outputs = ["y", "z", "b", "w"].map { ValueInfo(name: $0, type: nil) }
            graph.setInitializer("wa", randomTensor([4, 3, 1, 1], seed: 1))
            graph.setInitializer("wb", randomTensor([2, 3, 1, 1], seed: 2))
            graph.setInitializer("k", randomTensor([batch, 2, 5, 7], seed: 3))
            graph.setInitializer("shape", try Tensor(int64: [Int64(batch), 3, 5, 7], shape: [4]))
            try graph.addNode(Node(name: "ca", opType: "Conv", inputs: ["x", "wa"], outputs: ["a0"]))
            try graph.addNode(Node(name: "ra", opType: "Relu", inputs: ["a0"], outputs: ["a"]))
            try graph.addNode(Node(name: "cb", opType: "Conv", inputs: ["x", "wb"], outputs: ["b"]))
            try graph.addNode(Node(name: "s", opType: "Sigmoid", inputs: ["x"], outputs: ["s"]))
            try graph.addNode(Node(name: "v", opType: "Reshape", inputs: ["s", "shape"], outputs: ["v"]))
            try graph.addNode(Node(name: "n", opType: "Neg", inputs: ["x"], outputs: ["n"]))
            try graph.addNode(Node(name: "cat", opType: "Concat", inputs: ["a", "x", "b", "v", "k", "n", "n"], outputs: ["c"],
                                   attributes: [Attribute(name: "axis", value: .int(1))]))
            try graph.addNode(Node(name: "relu", opType: "Relu", inputs: ["c"], outputs: ["y"]))
            try graph.addNode(Node(name: "square", opType: "Mul", inputs: ["a", "a"], outputs: ["z"]))
            // A second Concat along the last axis (ones before it only at batch 1 with one channel: not here).
            try graph.addNode(Node(name: "cat2", opType: "Concat", inputs: ["s", "s"], outputs: ["w"],
                                   attributes: [Attribute(name: "axis", value: .int(-1))]))
            let model = Model(irVersion: 8, opsetImports: [OpsetImport(domain: "", version: 17)], graph: graph)
            let session = try InferenceSession(model: model, options: .init(threads: 2))
            let x = randomTensor([batch, 3, 5, 7], seed: 9)
            let plan = try session.plannedLayout(for: ["x": x])
            func isView(_ name: String) -> Bool { if case .view = plan.values[name]?.storage { return true } else { return false } }
            XCTAssertEqual(isView("a"), batch == 1, "batch \(batch): a")
            for name in ["x", "b", "v", "k", "n", "s", "c", "y", "z", "w"] { XCTAssertFalse(isView(name), "batch \(batch): \(name)") }
            // Naively, in doubles: channels of a (Relu(wa·x)), x, b (wb·x), sigmoid(x), k, -x, -x.
            let xv = x.scalars(as: Float.self).map(Double.init), plane = 35
            func conv(_ weight: String, _ outputs: Int, relu: Bool) -> [[Double]] {
                let w = graph.initializer(weight)!.scalars(as: Float.self).map(Double.init)
                return (0..<batch).flatMap { image in
                    (0..<outputs).map { o in
                        (0..<plane).map { p in
                            let sum = (0..<3).reduce(0.0) { $0 + w[o * 3 + $1] * xv[(image * 3 + $1) * plane + p] }
                            return relu ? max(0, sum) : sum
                        }
                    }
                }
            }
            func planes(_ values: [Double], _ channels: Int) -> [[Double]] {
                (0..<(batch * channels)).map { Array(values[($0 * plane)..<(($0 + 1) * plane)]) }
            }
            let a = conv("wa", 4, relu: true), b = conv("wb", 2, relu: false), xs = planes(xv, 3)
            let sig = planes(xv.map { 1 / (1 + exp(-$0)) }, 3), k = planes(graph.initializer("k")!.scalars(as: Float.self).map(Double.init), 2)
            let neg = planes(xv.map { -$0 }, 3)
            var c: [Double] = []
            for image in 0..<batch {
                for part in [(a, 4), (xs, 3), (b, 2), (sig, 3), (k, 2), (neg, 3), (neg, 3)] {
                    for channel in 0..<part.1 { c += part.0[image * part.1 + channel] }
                }
            }
            let outputs = try session.run(["x": x])
            expectClose(outputs["y"], floatTensor(c.map { Float(max(0, $0)) }, [batch, 20, 5, 7]), atol: 1e-5, "batch \(batch): y")
            expectClose(outputs["z"], floatTensor(a.flatMap { $0 }.map { Float($0 * $0) }, [batch, 4, 5, 7]), atol: 1e-5, "batch \(batch): z")
            expectClose(outputs["b"], floatTensor(b.flatMap { $0 }.map { Float($0) }, [batch, 2, 5, 7]), atol: 1e-5, "batch \(batch): b")
            let rows = sig.flatMap { p in (0..<5).map { Array(p[($0 * 7)..<($0 * 7 + 7)]) } }
            expectClose(outputs["w"], floatTensor(rows.flatMap { $0 + $0 }.map { Float($0) }, [batch, 3, 5, 14]), atol: 1e-5, "batch \(batch): w")
        }
    }

    /// Concats that share their first inputs but then differ (branches, not a chain) keep their own
    /// buffers: the shared inputs are copied into each, the inputs only one of them takes are written
    /// in place, and every value is what a naive evaluation gives.
    func testConcatBranchesKeepTheirOwnBuffers() throws {
        var graph = Graph(name: "branches")
        graph.inputs = [ValueInfo(name: "x", type: .tensor(.float32, Shape(static: [1, 2, 3, 4])))]
        graph.outputs = ["ya", "yb", "yc"].map { ValueInfo(name: $0, type: nil) }
        let ops = [("p", "Neg"), ("q", "Sigmoid"), ("r", "Relu"), ("s", "Abs")]
        for (name, op) in ops { try graph.addNode(Node(name: name, opType: op, inputs: ["x"], outputs: [name])) }
        for (cat, inputs) in [("a", ["p", "q"]), ("b", ["p", "q", "r"]), ("c", ["p", "q", "s"])] {
            try graph.addNode(Node(name: cat, opType: "Concat", inputs: inputs, outputs: [cat], attributes: [Attribute(name: "axis", value: .int(1))]))
            try graph.addNode(Node(name: "y" + cat, opType: "Exp", inputs: [cat], outputs: ["y" + cat]))
        }
        let model = Model(irVersion: 8, opsetImports: [OpsetImport(domain: "", version: 17)], graph: graph)
        let session = try InferenceSession(model: model, options: .init(threads: 1))
        let x = randomTensor([1, 2, 3, 4], seed: 5)
        let plan = try session.plannedLayout(for: ["x": x])
        func isView(_ name: String) -> Bool { if case .view = plan.values[name]?.storage { return true } else { return false } }
        for name in ["p", "q", "a", "b", "c"] { XCTAssertFalse(isView(name), name) }
        for name in ["r", "s"] { XCTAssertTrue(isView(name), name) }
        let xv = x.scalars(as: Float.self).map(Double.init)
        let parts: [String: [Double]] = ["p": xv.map { -$0 }, "q": xv.map { 1 / (1 + exp(-$0)) }, "r": xv.map { max(0, $0) }, "s": xv.map { abs($0) }]
        let outputs = try session.run(["x": x])
        for (cat, inputs) in [("a", ["p", "q"]), ("b", ["p", "q", "r"]), ("c", ["p", "q", "s"])] {
            let expected = inputs.flatMap { parts[$0]! }.map { Float(exp($0)) }
            expectClose(outputs["y" + cat], floatTensor(expected, [1, 2 * inputs.count, 3, 4]), atol: 1e-5, "Concat \(cat)")
        }
    }
}
