import VigilCodegen
import VigilIR
import XCTest

/// Model value names become idiomatic, unique Swift identifiers.
final class SwiftNamesTests: XCTestCase {
    func testLowerCamelCase() {
        let cases: [(String, String)] = [
            ("input.1", "input1"), ("0", "input0"), ("images:0", "images0"), ("conv_W", "convW"), ("X", "x"),
            ("RGBImage", "rgbImage"), ("out_float32_raw", "outFloat32Raw"), ("Conv", "conv"), ("a-b c", "aBC"),
            ("model/dense/BiasAdd:0", "modelDenseBiasAdd0"), ("", "input"), ("日本", "input"), ("_x", "x"), ("class", "class"),
            ("self", "selfValue"), ("Type", "type"), ("init", "initValue"), ("1st layer", "input1stLayer"),
        ]
        for (raw, expected) in cases {
            XCTAssertEqual(SwiftNames.lowerCamel(raw, role: "input"), expected, raw)
        }
    }

    func testEscapingAndIdentifiers() {
        XCTAssertEqual(SwiftNames.escaped("class"), "`class`")
        XCTAssertEqual(SwiftNames.escaped("default"), "`default`")
        XCTAssertEqual(SwiftNames.escaped("images0"), "images0")
        for good in ["Net", "_x", "Embedding2", "a_b"] { XCTAssertTrue(SwiftNames.isIdentifier(good), good) }
        for bad in ["", "1abc", "my-net", "class", "a b", "é", "Net!"] { XCTAssertFalse(SwiftNames.isIdentifier(bad), bad) }
    }

    func testCollisionsGetSuffixes() {
        var scope = IdentifierScope(reserved: ["modelFeeds"])
        XCTAssertEqual(["input.1", "input_1", "input1", "modelFeeds"].map { scope.claim(SwiftNames.lowerCamel($0, role: "input")) },
                       ["input1", "input1_2", "input1_3", "modelFeeds_2"])
    }

    func testPackageNames() {
        XCTAssertNil(PackageSpec.problem(withName: "Embedding"))
        XCTAssertNotNil(PackageSpec.problem(withName: "my-net"))
        XCTAssertNotNil(PackageSpec.problem(withName: "2net"))
        XCTAssertNotNil(PackageSpec.problem(withName: "struct"))
        XCTAssertNotNil(PackageSpec.problem(withName: "Foundation"))
        XCTAssertNotNil(PackageSpec.problem(withName: "VigilRuntime"))
        XCTAssertNotNil(PackageSpec.problem(withName: "Tensor"))
        XCTAssertNotNil(PackageSpec.problem(withName: "Network"))
    }

    /// The awkward-names fixture: every input and output gets a distinct identifier, dim parameters
    /// avoid the input names, and keywords stay keywords (escaped where used).
    func testAwkwardInterface() throws {
        let interface = ModelInterface(model: try awkwardModel())
        XCTAssertEqual(interface.inputs.map(\.property), ["input1", "input0", "images0", "input1_2", "class", "n"])
        XCTAssertEqual(interface.outputs.map(\.property), ["output0", "default", "output1", "selfValue", "outPut"])
        XCTAssertEqual(interface.dimParameters.map(\.parameter), ["n_2", "batchSize"])
        XCTAssertEqual(interface.dimParameters.map(\.symbol), ["N", "batch size"])
        XCTAssertEqual(interface.inputs.map(\.swiftType), ["TypedTensor<Float>", "TypedTensor<Float>", "TypedTensor<Float>", "TypedTensor<Float>", "TypedTensor<Int64>", "TypedTensor<Float>"])
        XCTAssertEqual(interface.inputs[4].dimParameters, ["n_2"])
        XCTAssertEqual(interface.inputs[5].dimParameters, [])
        XCTAssertTrue(interface.inputsFromArrays)
    }

    func testUnknownDimsAndUntypedValues() {
        var graph = Graph(name: "g")
        graph.inputs = [
            ValueInfo(name: "a", type: .tensor(.float32, Shape([.unknown, .fixed(3)]))),
            ValueInfo(name: "b", type: .tensor(.bfloat16, Shape(static: [2]))),
            ValueInfo(name: "c", type: nil),
        ]
        graph.outputs = [ValueInfo(name: "s", type: .tensor(.string, Shape(static: [1])))]
        let interface = ModelInterface(model: Model(irVersion: 8, opsetImports: [], graph: graph))
        XCTAssertEqual(interface.dimParameters.map(\.parameter), ["aDim0"])
        XCTAssertEqual(interface.inputs.map(\.swiftType), ["TypedTensor<Float>", "Tensor", "Tensor"])
        XCTAssertEqual(interface.outputs.map(\.swiftType), ["Tensor"])
        XCTAssertFalse(interface.inputsFromArrays)
    }
}
