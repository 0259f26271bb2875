import Foundation
import VigilIR
import VigilONNX
import VigilTestSupport
import VigilVerifier
import XCTest

/// `vigil check` on quantized models: scales must be positive and finite (V210), zero points 0 where
/// ONNX requires it (V211), and scale shapes and axes fit the tensor (inference, V200); the committed
/// quantized fixtures check clean.
final class QuantizationCheckTests: XCTestCase {
    /// X[2, 3] → QuantizeLinear(scale, zero point, axis) → DequantizeLinear(the same) → Y.
    func model(scale: Tensor, zero: Tensor?, axis: Int64? = nil, bias: (Tensor, Tensor?)? = nil) throws -> Model {
        var graph = Graph(name: "g", inputs: [ValueInfo(name: "X", type: .tensor(.float32, Shape(static: [2, 3])))],
                          outputs: [ValueInfo(name: "Y", type: .tensor(.float32, Shape(static: [2, 3])))])
        let attributes = axis.map { [Attribute(name: "axis", value: .int($0))] } ?? []
        let zeroName = zero == nil ? [] : ["z"]
        try graph.addNode(Node(name: "q", opType: "QuantizeLinear", inputs: ["X", "s"] + zeroName, outputs: ["Xq"], attributes: attributes))
        try graph.addNode(Node(name: "dq", opType: "DequantizeLinear", inputs: ["Xq", "s"] + zeroName, outputs: ["Y"], attributes: attributes))
        graph.setInitializer("s", scale)
        if let zero { graph.setInitializer("z", zero) }
        if let (values, zp) = bias {
            graph.outputs.append(ValueInfo(name: "B", type: .tensor(.float32, Shape(static: [3]))))
            try graph.addNode(Node(name: "bias_dq", opType: "DequantizeLinear", inputs: ["bq", "bs"] + (zp == nil ? [] : ["bz"]), outputs: ["B"]))
            graph.setInitializer("bq", values)
            graph.setInitializer("bs", try Tensor(float32: [0.5], shape: []))
            if let zp { graph.setInitializer("bz", zp) }
        }
        return Model(irVersion: 8, opsetImports: [OpsetImport(domain: "", version: 17)], graph: graph)
    }

    func codes(_ model: Model) -> [String] { Verifier().verify(model).filter { $0.severity == .error }.map(\.code.rawValue) }

    func testValidParametersCheckClean() throws {
        let m = try model(scale: try Tensor(float32: [0.1, 0.2, 0.4], shape: [3]), zero: try Tensor(.uint8, shape: [3], scalars: [UInt8](arrayLiteral: 0, 128, 255)),
                          axis: 1, bias: (try Tensor(.int32, shape: [3], scalars: [Int32](arrayLiteral: 5, -7, 9)), nil))
        XCTAssertEqual(codes(m), [])
        XCTAssertFalse(Verifier().verify(m).contains { $0.code == .quantizationScale || $0.code == .quantizationZeroPoint })
    }

    func testNonPositiveOrNonFiniteScalesAreErrors() throws {
        for bad: Float in [0, -0.5, .infinity, .nan] {
            let m = try model(scale: try Tensor(float32: [0.1, bad, 0.4], shape: [3]), zero: nil, axis: 1)
            let diagnostics = Verifier().verify(m).filter { $0.code == .quantizationScale }
            XCTAssertEqual(diagnostics.count, 2, "QuantizeLinear and DequantizeLinear, scale \(bad)")
            XCTAssertEqual(diagnostics.first?.severity, .error)
            XCTAssertEqual(diagnostics.first?.location.value, "s")
            XCTAssertTrue(diagnostics.first?.message.contains("at index 1") ?? false, "\(diagnostics)")
        }
    }

    func testZeroPointsThatMustBeZero() throws {
        let ok = try model(scale: try Tensor(float32: [0.1], shape: []), zero: nil,
                           bias: (try Tensor(.int32, shape: [3], scalars: [Int32](arrayLiteral: 1, 2, 3)), try Tensor(.int32, shape: [], scalars: [Int32(0)])))
        XCTAssertEqual(codes(ok), [])
        let bad = try model(scale: try Tensor(float32: [0.1], shape: []), zero: nil,
                            bias: (try Tensor(.int32, shape: [3], scalars: [Int32](arrayLiteral: 1, 2, 3)), try Tensor(.int32, shape: [], scalars: [Int32(4)])))
        XCTAssertEqual(codes(bad), ["V211"])
    }

    /// Axis and shape problems are inference errors naming the axis and the sizes.
    func testAxisAndScaleShapeAreCheckedByInference() throws {
        let wrongLength = try model(scale: try Tensor(float32: [0.1, 0.2], shape: [2]), zero: nil, axis: 1)
        let diagnostics = Verifier().verify(wrongLength).filter { $0.code == .inference }
        XCTAssertFalse(diagnostics.isEmpty)
        XCTAssertTrue(diagnostics[0].message.contains("the scale has 2 values but axis 1"), describe(diagnostics))
        let outOfRange = try model(scale: try Tensor(float32: [0.1, 0.2, 0.4], shape: [3]), zero: nil, axis: 2)
        XCTAssertTrue(Verifier().verify(outOfRange).contains { $0.code == .inference && $0.message.contains("axis 2 is out of range") })
        let zeroShape = try model(scale: try Tensor(float32: [0.1, 0.2, 0.4], shape: [3]), zero: try Tensor(.uint8, shape: [2], scalars: [UInt8](arrayLiteral: 1, 2)), axis: 1)
        XCTAssertTrue(Verifier().verify(zeroShape).contains { $0.code == .inference && $0.message.contains("must have the scale's shape") })
    }

    func testQuantizedFixturesCheckClean() throws {
        let folder = Repository.fixtures.appendingPathComponent("quantized")
        for name in try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        where FileManager.default.fileExists(atPath: folder.appendingPathComponent("\(name)/model.onnx").path) {
            let diagnostics = checkFile(folder.appendingPathComponent("\(name)/model.onnx").path)
            XCTAssertFalse(diagnostics.contains { $0.severity == .error }, "\(name): \(describe(diagnostics))")
        }
    }
}
