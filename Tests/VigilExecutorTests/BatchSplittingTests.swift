import Foundation
@testable import VigilExecutor
import VigilIR
import XCTest

/// A batch run in chunks of samples (``InferenceSession/Batching``): the same outputs as
/// onnxruntime's for the whole batch, and the whole batch wherever a node mixes samples.
final class BatchSplittingTests: XCTestCase {
    /// Fixtures with a symbolic batch and onnxruntime's outputs for a batch of 2 to 4: each run in
    /// chunks of 1 and of 3 samples (a remainder chunk where the batch is 4).
    func testChunksMatchOnnxruntime() throws {
        for name in ["cnn_embedding", "mobile_patterns", "vgg_like", "dynamic_batch_mlp"] {
            let reference = try FixtureTests.loadFixture(name)
            let batch = try XCTUnwrap(reference.inputs.values.first?.shape.first)
            for chunk in [1, 3] where chunk < batch {
                for threads in [1, 2] {
                    let session = try InferenceSession(model: reference.model, options: .init(threads: threads, batching: .chunks(of: chunk)))
                    XCTAssertEqual(try session.batchChunk(for: reference.inputs), chunk, "\(name) splits")
                    let results = try session.run(reference.inputs)
                    for (outputName, expected) in reference.outputs {
                        expectClose(results[outputName], expected, atol: 1e-5, rtol: 1e-4, "\(name).\(outputName) chunk=\(chunk) threads=\(threads)")
                    }
                }
            }
        }
    }

    /// x[N, 2, 3] flattened by a shape computed from `Shape` (as the TorchScript exporter writes it):
    /// the shape holds the batch size, read where Reshape reads a shape.
    func testShapeComputedReshapeSplits() throws {
        var graph = Graph(name: "flatten")
        graph.inputs = [ValueInfo(name: "x", type: .tensor(.float32, Shape([.symbolic("N"), .fixed(2), .fixed(3)])))]
        graph.outputs = [ValueInfo(name: "y", type: nil)]
        graph.setInitializer("zero", int64Tensor([0], []))
        graph.setInitializer("axes", int64Tensor([0]))
        graph.setInitializer("rest", int64Tensor([-1]))
        try graph.addNode(Node(name: "shape", opType: "Shape", inputs: ["x"], outputs: ["s"]))
        try graph.addNode(Node(name: "first", opType: "Gather", inputs: ["s", "zero"], outputs: ["n"]))
        try graph.addNode(Node(name: "unsqueeze", opType: "Unsqueeze", inputs: ["n", "axes"], outputs: ["n1"]))
        try graph.addNode(Node(name: "concat", opType: "Concat", inputs: ["n1", "rest"], outputs: ["target"],
                               attributes: [Attribute(name: "axis", value: .int(0))]))
        try graph.addNode(Node(name: "reshape", opType: "Reshape", inputs: ["x", "target"], outputs: ["y"]))
        let model = Model(irVersion: 8, opsetImports: [OpsetImport(domain: "", version: 17)], graph: graph)
        let x = randomTensor([5, 2, 3], seed: 7)
        let session = try InferenceSession(model: model, options: .init(threads: 1, batching: .chunks(of: 2)))
        XCTAssertEqual(try session.batchChunk(for: ["x": x]), 2)
        let y = try XCTUnwrap(try session.run(["x": x])["y"])
        XCTAssertEqual(y.shape, [5, 6])
        XCTAssertEqual(y.scalars(as: Float.self), x.scalars(as: Float.self), "a reshape keeps every element in place")
    }

    /// One-node and two-node graphs that mix samples (or that the rules do not know) run whole.
    func testModelsThatMixSamplesRunWhole() throws {
        func model(_ nodes: [Node], initializers: [String: Tensor] = [:], batch: Dim = .symbolic("N")) -> Model {
            var graph = Graph(name: "mix")
            graph.inputs = [ValueInfo(name: "x", type: .tensor(.float32, Shape([batch, .fixed(4)])))]
            graph.outputs = [ValueInfo(name: "y", type: nil)]
            for (name, tensor) in initializers { graph.setInitializer(name, tensor) }
            for node in nodes { try! graph.addNode(node) }
            return Model(irVersion: 8, opsetImports: [OpsetImport(domain: "", version: 17)], graph: graph)
        }
        let axis0 = [Attribute(name: "axis", value: .int(0))]
        let cases: [(String, Model)] = [
            ("Softmax over the batch", model([Node(name: "s", opType: "Softmax", inputs: ["x"], outputs: ["y"], attributes: axis0)])),
            ("Transpose moving the batch", model([
                Node(name: "t", opType: "Transpose", inputs: ["x"], outputs: ["t"], attributes: [Attribute(name: "perm", value: ints([1, 0]))]),
                Node(name: "u", opType: "Transpose", inputs: ["t"], outputs: ["y"], attributes: [Attribute(name: "perm", value: ints([1, 0]))]),
            ])),
            ("ReduceMean over the batch", model([
                Node(name: "m", opType: "ReduceMean", inputs: ["x"], outputs: ["m"], attributes: [Attribute(name: "axes", value: ints([0]))]),
                Node(name: "a", opType: "Sub", inputs: ["x", "m"], outputs: ["y"]),
            ])),
            ("the batch size as data", model([
                Node(name: "shape", opType: "Shape", inputs: ["x"], outputs: ["s"]),
                Node(name: "cast", opType: "Cast", inputs: ["s"], outputs: ["f"], attributes: [Attribute(name: "to", value: .int(1))]),
                Node(name: "first", opType: "ReduceMax", inputs: ["f"], outputs: ["n"]),
                Node(name: "mul", opType: "Mul", inputs: ["x", "n"], outputs: ["y"]),
            ])),
            ("CumSum, which the rules do not list", model([Node(name: "c", opType: "CumSum", inputs: ["x", "zero"], outputs: ["y"])],
                                                          initializers: ["zero": int64Tensor([0], [])])),
            ("a fixed batch", model([Node(name: "r", opType: "Relu", inputs: ["x"], outputs: ["y"])], batch: .fixed(6))),
        ]
        let x = randomTensor([6, 4], seed: 3)
        for (what, model) in cases {
            let session = try InferenceSession(model: model, options: .init(threads: 1, batching: .chunks(of: 2)))
            XCTAssertNil(try session.batchChunk(for: ["x": x]), what)
            XCTAssertNotNil(try session.run(["x": x])["y"], what)
        }
        // The per-sample counterpart splits.
        let relu = model([Node(name: "r", opType: "Relu", inputs: ["x"], outputs: ["y"])])
        XCTAssertEqual(try InferenceSession(model: relu, options: .init(threads: 1, batching: .chunks(of: 2))).batchChunk(for: ["x": x]), 2)
        XCTAssertNil(try InferenceSession(model: relu, options: .init(threads: 1, batching: .whole)).batchChunk(for: ["x": x]))
    }

    /// The cache model: chunks only when they move fewer activation bytes, never with weights beyond the cache.
    func testBestChunkFollowsTheCacheModel() {
        typealias T = BatchSplitting.NodeTraffic
        let mb = 1 << 20
        // 5 MB of activations per sample: chunks of 1 and 2 fit a 16 MB budget (the smaller wins), 4 do not.
        XCTAssertEqual(BatchSplitting.bestChunk([T(activations: 5 * mb, weights: 4 * mb)], batch: 32,
                                                activationBudget: 16 * mb, weightBudget: 32 * mb), 1)
        // Two samples of a 40 MB layer spill wherever they go: the cheaper chunk is 1 (only its other layer fits).
        XCTAssertEqual(BatchSplitting.bestChunk([T(activations: 40 * mb, weights: 0), T(activations: 3 * mb, weights: 0)], batch: 32,
                                                activationBudget: 16 * mb, weightBudget: 32 * mb), 1)
        // Weights beyond the cache: the batch runs whole.
        XCTAssertEqual(BatchSplitting.bestChunk([T(activations: 5 * mb, weights: 40 * mb)], batch: 32,
                                                activationBudget: 16 * mb, weightBudget: 32 * mb), 32)
        // Everything fits at the whole batch: no chunks.
        XCTAssertEqual(BatchSplitting.bestChunk([T(activations: 64 << 10, weights: mb)], batch: 32,
                                                activationBudget: 16 * mb, weightBudget: 32 * mb), 32)
        // Layers that spill at any chunk cost the same everywhere: the batch runs whole.
        XCTAssertEqual(BatchSplitting.bestChunk([T(activations: 40 * mb, weights: 0)], batch: 32,
                                                activationBudget: 16 * mb, weightBudget: 32 * mb), 32)
        XCTAssertEqual(CacheSizes.parse("36608K"), 36608 << 10)
        XCTAssertEqual(CacheSizes.parse("32M"), 32 << 20)
        XCTAssertGreaterThan(CacheSizes.lastLevel, 0)
    }
}
