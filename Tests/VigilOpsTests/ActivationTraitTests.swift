import Foundation
import VigilIR
import VigilOps
import XCTest

/// The activation traits: every fusable activation's function, epilogue form and lowering agree, and
/// fused-op attributes name them.
final class ActivationTraitTests: XCTestCase {
    static var fusable: [OpDescriptor] {
        OpRegistry.standard.all.filter { $0.domain.isEmpty && $0.traits.activation?.fusable == true }
    }

    func testFusableActivationsIncludeTheCommonOnes() {
        let names = Set(Self.fusable.map(\.opType))
        for op in ["Relu", "LeakyRelu", "Clip", "Sigmoid", "Tanh", "HardSwish", "HardSigmoid", "Gelu", "Mish", "Elu"] {
            XCTAssertTrue(names.contains(op), op)
        }
    }

    /// A piecewise-linear form, where an activation has one, computes the same function.
    func testPiecewiseLinearFormsMatchTheFunctions() throws {
        let xs: [Float] = [-1e30, -7, -1.5, -0.25, 0, 0.25, 1.5, 5.9, 6, 6.1, 1e30]
        for d in Self.fusable {
            let activation = d.traits.activation!
            guard let form = activation.piecewiseLinear else { continue }
            let c = OpContext(node: Node(opType: d.opType, inputs: ["x"], outputs: ["y"]), opset: max(d.sinceVersion, 13),
                              inputTypes: [TensorType(.float32, static: [1])], inputValues: [])
            let parameters = try XCTUnwrap(try activation.parameterValues(c), d.opType)
            let f = activation.function(parameters), g = form(parameters).function
            for x in xs { XCTAssertEqual(f(x), g(x), "\(d.opType)(\(x))") }
            XCTAssertTrue(g(.nan).isNaN, "\(d.opType) keeps NaN")
        }
    }

    /// `activation`/`activation_params` of a fused node name the activation and its parameter values.
    func testFusedActivationReadsItsAttributes() throws {
        var fused = Node(opType: "FusedConv", domain: FusedOps.domain, inputs: ["x", "w"], outputs: ["y"])
        fused.setAttribute("activation", .string(Array("LeakyRelu".utf8)))
        fused.setAttribute("activation_params", .floats([0.2]))
        let c = OpContext(node: fused, opset: 1, inputTypes: [], inputValues: [])
        let activation = try XCTUnwrap(try FusedActivation(fusedNode: c))
        XCTAssertEqual(activation.opType, "LeakyRelu")
        XCTAssertEqual(activation.function(-1), -0.2)
        XCTAssertEqual(activation.piecewiseLinear, PiecewiseLinear(slope: 0.2))
        fused.setAttribute("activation", .string(Array("Exp".utf8)))
        fused.setAttribute("activation_params", .floats([]))
        XCTAssertThrowsError(try FusedActivation(fusedNode: OpContext(node: fused, opset: 1, inputTypes: [], inputValues: [])),
                             "Exp is not a fusable activation")
    }

    /// Lowering writes each activation as standard nodes valid at the opset (HardSwish below 14 and
    /// Clip below 11 have their own forms).
    func testLoweringIsValidAtEachOpset() throws {
        for d in Self.fusable {
            let activation = d.traits.activation!
            let c = OpContext(node: Node(opType: d.opType, inputs: ["x"], outputs: ["y"]), opset: max(d.sinceVersion, 13),
                              inputTypes: [TensorType(.float32, static: [1])], inputValues: [])
            let parameters = try XCTUnwrap(try activation.parameterValues(c))
            let fused = try XCTUnwrap(FusedActivation(opType: d.opType, parameters: parameters), d.opType)
            for opset in [10, 13, 17, 22] {
                var constants: [String] = []
                let nodes = try fused.lowered(ActivationLowering(
                    opType: d.opType, parameters: parameters, opset: opset, input: "x", output: "y", stem: "s",
                    freshName: { $0 }, addConstant: { name, _ in constants.append(name); return name }))
                XCTAssertEqual(nodes.last?.outputs, ["y"], "\(d.opType) at \(opset)")
                for node in nodes {
                    let form = OpRegistry.standard.descriptor(domain: "", opType: node.opType, opset: opset)
                    // An op newer than the opset may only appear when the model already used it there.
                    if opset < (form?.sinceVersion ?? 0) { XCTAssertEqual(node.opType, d.opType, "\(d.opType) lowers to \(node.opType) at \(opset)") }
                }
                if d.opType == "HardSwish" { XCTAssertEqual(nodes.map(\.opType), opset < 14 ? ["HardSigmoid", "Mul"] : ["HardSwish"]) }
                if d.opType == "Clip" { XCTAssertEqual(nodes[0].attributes.isEmpty, opset >= 11) }
            }
        }
    }

    /// Mish against its definition computed in double precision (x · tanh(ln(1 + eˣ))).
    func testMishMatchesItsDefinition() throws {
        let activation = try XCTUnwrap(OpRegistry.standard.descriptor(domain: "", opType: "Mish")?.traits.activation)
        let f = activation.function([])
        for x in stride(from: -30.0, through: 30.0, by: 0.37) {
            let expected = x * Foundation.tanh(Foundation.log1p(Foundation.exp(x)))
            XCTAssertEqual(Double(f(Float(x))), expected, accuracy: 1e-6 + 1e-6 * abs(expected), "Mish(\(x))")
        }
    }
}
