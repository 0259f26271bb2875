import Foundation
import VigilExecutor
import VigilIR
import VigilTestSupport
import XCTest

/// `Fixtures/onnx/<name>`.
func fixtureDirectory(_ name: String) -> URL {
    Repository.onnxFixtures.appendingPathComponent(name)
}

/// Unwraps an output and compares it with the shared tolerance check (`VigilTestSupport.assertClose`),
/// which reports the count of failing elements and the worst one.
func expectClose(
    _ actual: Tensor?, _ expected: Tensor, atol: Double = 1e-5, rtol: Double = 1e-4, _ label: String = "",
    file: StaticString = #filePath, line: UInt = #line
) {
    guard let actual else { return XCTFail("\(label): no output", file: file, line: line) }
    if expected.dtype == .string || actual.dtype == .string {
        XCTAssertEqual(actual, expected, label, file: file, line: line)
        return
    }
    VigilTestSupport.assertClose(actual, expected, atol: atol, rtol: rtol, label, file: file, line: line)
}

/// Deterministic pseudo-random floats in [-1, 1) (a fixed LCG, so tests repeat).
struct SeededRandom {
    var state: UInt64
    init(_ seed: UInt64) { state = seed &* 6364136223846793005 &+ 1442695040888963407 }
    mutating func next() -> Float {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Float(Int64(bitPattern: state >> 11) % (1 << 24)) / Float(1 << 23) - 1
    }
    mutating func floats(_ count: Int) -> [Float] { (0..<count).map { _ in next() } }
}

/// A float32 tensor of deterministic random values.
func randomTensor(_ shape: [Int], seed: UInt64) -> Tensor {
    var rng = SeededRandom(seed)
    return try! Tensor(float32: rng.floats(shape.reduce(1, *)), shape: shape)
}

/// A float32 tensor.
func floatTensor(_ values: [Float], _ shape: [Int]) -> Tensor { try! Tensor(float32: values, shape: shape) }

/// One input of a single-node test model.
enum Arg {
    /// A graph input, fed at run time.
    case input(Tensor)
    /// An initializer.
    case constant(Tensor)
    /// An omitted optional input.
    case none
}

/// Builds a one-node model around `op` and runs it through `InferenceSession`.
func singleNodeModel(
    _ op: String, _ args: [Arg], attributes: [String: AttributeValue] = [:], outputs: Int = 1, opset: Int64 = 17
) -> (model: Model, feeds: [String: Tensor]) {
    var graph = Graph(name: op)
    var names: [String] = []
    var feeds: [String: Tensor] = [:]
    for (i, arg) in args.enumerated() {
        switch arg {
        case .input(let t):
            let name = "in\(i)"
            graph.inputs.append(ValueInfo(name: name, type: .tensor(t.dtype, Shape(static: t.shape))))
            feeds[name] = t
            names.append(name)
        case .constant(let t):
            let name = "in\(i)"
            graph.setInitializer(name, t)
            names.append(name)
        case .none:
            names.append("")
        }
    }
    let outputNames = (0..<outputs).map { "out\($0)" }
    graph.outputs = outputNames.map { ValueInfo(name: $0, type: nil) }
    let node = Node(name: "node", opType: op, inputs: names, outputs: outputNames,
                    attributes: attributes.sorted { $0.key < $1.key }.map { Attribute(name: $0.key, value: $0.value) })
    try! graph.addNode(node)
    let model = Model(irVersion: 8, opsetImports: [OpsetImport(domain: "", version: opset)], graph: graph)
    return (model, feeds)
}

func runNode(
    _ op: String, _ args: [Arg], attributes: [String: AttributeValue] = [:], outputs: Int = 1, opset: Int64 = 17,
    threads: Int = 1, winograd: Bool = true
) throws -> [Tensor] {
    let (model, feeds) = singleNodeModel(op, args, attributes: attributes, outputs: outputs, opset: opset)
    let session = try InferenceSession(model: model, options: .init(threads: threads, winograd: winograd))
    let results = try session.run(feeds)
    return (0..<outputs).map { results["out\($0)"]! }
}

func ints(_ values: [Int]) -> AttributeValue { .ints(values.map(Int64.init)) }
func int64Tensor(_ values: [Int], _ shape: [Int]? = nil) -> Tensor {
    try! Tensor(int64: values.map(Int64.init), shape: shape ?? [values.count])
}

/// Row-major flat index of a multi-index.
func flatIndex(_ index: [Int], _ shape: [Int]) -> Int {
    var flat = 0
    for (i, s) in zip(index, shape) { flat = flat * s + i }
    return flat
}

/// Every multi-index of a shape, in row-major order.
func allIndices(_ shape: [Int]) -> [[Int]] {
    var result: [[Int]] = [[]]
    for size in shape { result = result.flatMap { prefix in (0..<size).map { prefix + [$0] } } }
    return result
}
