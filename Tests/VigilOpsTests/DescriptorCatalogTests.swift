import VigilIR
import VigilOps
import VigilVerifier
import XCTest

/// Every descriptor agrees with the ONNX operator catalog of the pinned onnx release (an independent
/// table generated from `onnx.defs`): the op exists, its arity fits what the schemas allow, and each
/// attribute it reads exists in a schema of its opset range with the same kind and default.
final class DescriptorCatalogTests: XCTestCase {
    /// The catalog schemas in force over a descriptor's opset range.
    static func schemas(for d: OpDescriptor) -> [ONNXOpCatalog.Schema] {
        let latest = ONNXOpCatalog.latestOpset
        let upper = min(d.versions.upperBound, latest)
        guard d.versions.lowerBound <= upper else { return [] }
        var found: [Int: ONNXOpCatalog.Schema] = [:]
        for opset in d.versions.lowerBound...upper {
            if let schema = ONNXOpCatalog.schema(domain: d.domain, opType: d.opType, opset: opset) { found[schema.sinceVersion] = schema }
        }
        return found.keys.sorted().map { found[$0]! }
    }

    func testDefaultDomainDescriptorsExistInTheCatalogWithFittingArity() {
        let standard = OpRegistry.standard.all.filter { $0.domain.isEmpty }
        XCTAssertGreaterThan(standard.count, 90)
        for d in standard {
            let schemas = Self.schemas(for: d)
            guard !schemas.isEmpty else {
                XCTFail("\(d.opType) (opsets \(d.versions)) has no schema in onnx's catalog")
                continue
            }
            let minIn = schemas.map(\.inputs.lowerBound).min()!, maxIn = schemas.map(\.inputs.upperBound).max()!
            let minOut = schemas.map(\.outputs.lowerBound).min()!, maxOut = schemas.map(\.outputs.upperBound).max()!
            let unbounded = 2_147_483_647
            XCTAssertGreaterThanOrEqual(d.inputs.lowerBound, minIn, "\(d.opType): fewest inputs")
            XCTAssertTrue(d.inputs.upperBound <= maxIn || (maxIn == unbounded && d.inputs.upperBound == .max), "\(d.opType): most inputs \(d.inputs) vs \(minIn)…\(maxIn)")
            XCTAssertGreaterThanOrEqual(d.outputs.lowerBound, minOut, "\(d.opType): fewest outputs")
            XCTAssertTrue(d.outputs.upperBound <= maxOut || (maxOut == unbounded && d.outputs.upperBound == .max), "\(d.opType): most outputs")
        }
    }

    func testAttributesAndDefaultsAgreeWithTheCatalog() {
        for d in OpRegistry.standard.all where d.domain.isEmpty {
            let schemas = Self.schemas(for: d)
            for (name, spec) in d.attributes.sorted(by: { $0.key < $1.key }) {
                let catalog = schemas.compactMap { $0.attributes[name] }
                guard let first = catalog.first else {
                    XCTFail("\(d.opType) reads attribute '\(name)', which no schema of opsets \(d.versions) has")
                    continue
                }
                XCTAssertTrue(catalog.allSatisfy { $0.kind == spec.kind.rawValue }, "\(d.opType).\(name): kind \(spec.kind.rawValue) vs \(first.kind)")
                let defaults = Set(catalog.compactMap(\.defaultText))
                guard let value = spec.defaultValue else {
                    XCTAssertTrue(defaults.isEmpty || spec.required, "\(d.opType).\(name): the catalog has default \(defaults) but the descriptor none")
                    continue
                }
                XCTAssertEqual(defaults.count, 1, "\(d.opType).\(name): the catalog's defaults over opsets \(d.versions) are \(defaults)")
                if let text = defaults.first {
                    XCTAssertTrue(Self.matches(value, text), "\(d.opType).\(name): default \(value) vs the catalog's \(text)")
                }
            }
        }
    }

    /// Whether an attribute value equals the catalog's default text.
    static func matches(_ value: AttributeValue, _ text: String) -> Bool {
        switch value {
        case .int(let v): return Int64(text) == v
        case .float(let v): return Float(text) == v
        case .string(let bytes): return String(decoding: bytes, as: UTF8.self) == text
        case .ints(let v): return text.split(separator: ";").compactMap { Int64($0) } == v
        case .floats(let v): return text.split(separator: ";").compactMap { Float($0) } == v
        default: return false
        }
    }

    /// Ops are implemented through the newest opset the verifier's catalog knows, no further.
    func testNewestKnownOpsetIsTheCatalogs() {
        XCTAssertEqual(OpDescriptor.newestKnownOpset, ONNXOpCatalog.latestOpset)
        let node = Node(opType: "Relu", inputs: ["x"], outputs: ["y"])
        let c = OpContext(node: node, opset: ONNXOpCatalog.latestOpset + 1, inputTypes: [TensorType(.float32, static: [2])], inputValues: [])
        XCTAssertThrowsError(try OpRegistry.standard.infer(c)) { XCTAssertEqual(($0 as? OpError)?.kind, .unsupported) }
    }

    /// Forms of one op do not overlap, so a node's opset picks exactly one.
    func testOpsetFormsDoNotOverlap() {
        var forms: [String: [ClosedRange<Int>]] = [:]
        for d in OpRegistry.standard.all { forms[d.qualifiedName, default: []].append(d.versions) }
        for (name, ranges) in forms where ranges.count > 1 {
            for (i, a) in ranges.enumerated() {
                for b in ranges[(i + 1)...] { XCTAssertFalse(a.overlaps(b), "\(name): \(a) and \(b)") }
            }
        }
        XCTAssertEqual(OpRegistry.standard.descriptor(domain: "", opType: "Softmax", opset: 11)?.attributes["axis"]?.defaultValue, .int(1))
        XCTAssertEqual(OpRegistry.standard.descriptor(domain: "", opType: "Softmax", opset: 13)?.attributes["axis"]?.defaultValue, .int(-1))
    }

    /// Attributes are read through the descriptor: the node's value, else the declared default, and
    /// an undeclared attribute is an error naming it.
    func testAttributeReadsUseDeclaredDefaults() throws {
        let node = Node(opType: "LeakyRelu", inputs: ["x"], outputs: ["y"])
        let c = OpContext(node: node, opset: 16, inputTypes: [TensorType(.float32, static: [2])], inputValues: [])
        XCTAssertEqual(try c.float("alpha"), 0.01)
        var given = node
        given.setAttribute("alpha", .float(0.3))
        XCTAssertEqual(try OpContext(node: given, opset: 16, inputTypes: c.inputTypes, inputValues: []).float("alpha"), 0.3)
        XCTAssertThrowsError(try c.float("beta")) { error in
            XCTAssertEqual((error as? OpError)?.kind, .unsupported)
            XCTAssertTrue("\(error)".contains("'beta'"), "\(error)")
        }
    }
}
