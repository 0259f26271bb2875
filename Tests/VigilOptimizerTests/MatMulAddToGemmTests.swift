import Foundation
import VigilExecutor
import VigilIR
import VigilOps
import VigilOptimizer
import XCTest

/// `matmul-add-to-gemm` on inputs of rank > 2 (transformer tokens, channels-last images): MatMul by a
/// constant matrix plus a constant row vector becomes Reshape → Gemm → Reshape, an activation that only
/// the Add feeds moves before the Reshape back and fuses into the Gemm; outputs against a direct
/// double-precision computation of act(X · W + b).
final class MatMulAddToGemmTests: XCTestCase {
    func type(_ dims: [Dim]) -> ValueType { .tensor(.float32, Shape(dims)) }

    func testBatchedMatMulAddBecomesGemmWithItsActivation() throws {
        let (k, n) = (6, 9)
        var graph = Graph(name: "tokens", inputs: [ValueInfo(name: "X", type: type([.fixed(5), .symbolic("batch"), .fixed(7), .fixed(k)]))],
                          outputs: [ValueInfo(name: "Y", type: type([.fixed(5), .symbolic("batch"), .fixed(7), .fixed(n)])),
                                    ValueInfo(name: "Z", type: type([.fixed(5), .symbolic("batch"), .fixed(7), .fixed(n)]))])
        let w = (0..<(k * n)).map { Float(($0 * 7) % 11) / 11 - 0.45 }, b = (0..<n).map { Float($0) / 10 - 0.4 }
        graph.setInitializer("W", try Tensor(float32: w, shape: [k, n]))
        graph.setInitializer("B", try Tensor(float32: b, shape: [n]))
        for node in [
            Node(name: "mm", opType: "MatMul", inputs: ["X", "W"], outputs: ["m"]),
            Node(name: "add", opType: "Add", inputs: ["m", "B"], outputs: ["a"]),
            Node(name: "relu", opType: "Relu", inputs: ["a"], outputs: ["Y"]),
            Node(name: "mm_plain", opType: "MatMul", inputs: ["X", "W"], outputs: ["m2"]),
            Node(name: "add_plain", opType: "Add", inputs: ["B", "m2"], outputs: ["Z"]),
        ] { try graph.addNode(node) }
        var model = Model(irVersion: 10, opsetImports: [OpsetImport(domain: "", version: 17)], graph: graph)
        try PassManager(passes: try OptimizerPipeline.passes(OptimizerPipeline.defaultPasses), context: .executor).run(on: &model)
        let histogram = model.graph.opHistogram
        XCTAssertNil(histogram["MatMul"], "\(histogram)")
        XCTAssertNil(histogram["Relu"], "\(histogram)")
        XCTAssertEqual((histogram["Gemm"] ?? 0) + (histogram["FusedGemm"] ?? 0), 2, "\(histogram)")
        XCTAssertEqual(histogram["FusedGemm"], 1, "\(histogram)")

        // The batch in the middle, as the dynamo exporter writes a transformer's tokens: [tokens, batch, features].
        let rows = 5 * 2 * 7
        let x = (0..<(rows * k)).map { Float(($0 * 13) % 17) / 8 - 1 }
        let outputs = try InferenceSession(model: model, options: .init(threads: 2)).run(["X": try Tensor(float32: x, shape: [5, 2, 7, k])])
        var plain = [Float](), relu = [Float]()
        for row in 0..<rows {
            for j in 0..<n {
                var sum = Double(b[j])
                for p in 0..<k { sum += Double(x[row * k + p]) * Double(w[p * n + j]) }
                plain.append(Float(sum))
                relu.append(Float(max(sum, 0)))
            }
        }
        for (name, expected) in [("Y", relu), ("Z", plain)] {
            let y = try XCTUnwrap(outputs[name])
            XCTAssertEqual(y.shape, [5, 2, 7, n], name)
            for (got, want) in zip(y.scalars(as: Float.self), expected) { XCTAssertEqual(got, want, accuracy: 1e-5, name) }
        }
    }
}
