import Foundation
import VigilIR
import VigilONNX
import VigilTestSupport
import XCTest

/// Tensors stored in the typed protobuf fields and in raw_data decode to the values numpy holds
/// (Fixtures/onnx/typed_fields_all_dtypes/values.json, written by the generator).
final class TypedFieldTests: XCTestCase {
    func testEveryDTypeDecodesToNumpysValues() throws {
        let folder = Repository.onnxFixtures.appendingPathComponent("typed_fields_all_dtypes")
        let model = try ONNXReader.readModel(at: folder.appendingPathComponent("model.onnx").path)
        let json = try Data(contentsOf: folder.appendingPathComponent("values.json"))
        let reference = try XCTUnwrap(try JSONSerialization.jsonObject(with: json) as? [String: [String: Any]])
        XCTAssertGreaterThanOrEqual(reference.count, 20)
        for (name, facts) in reference.sorted(by: { $0.key < $1.key }) {
            let tensor = try XCTUnwrap(model.graph.initializer(name), name)
            XCTAssertEqual(tensor.dtype.rawValue, facts["dtype"] as? String, name)
            XCTAssertEqual(tensor.shape, facts["shape"] as? [Int], name)
            let values = try XCTUnwrap(facts["values"] as? [Any], name)
            if tensor.dtype == .string {
                XCTAssertEqual(tensor.strings?.map { String(decoding: $0, as: UTF8.self) }, values as? [String], name)
            } else if tensor.dtype == .int64 || tensor.dtype == .uint64 {
                // Compare exactly: JSON integers beyond 2^53 must not go through Double.
                let expected = values.map { "\($0)" }
                let actual = tensor.dtype == .int64 ? tensor.scalars(as: Int64.self).map { "\($0)" } : tensor.scalars(as: UInt64.self).map { "\($0)" }
                XCTAssertEqual(actual, expected, name)
            } else {
                let expected = values.map { ($0 as? NSNumber)?.doubleValue ?? .nan }
                assertClose(tensor.doubleValues, expected, atol: 0, rtol: 0, name)
            }
        }
    }

    func testTypedAndRawEncodingsAgree() throws {
        let model = try ONNXReader.readModel(at: Repository.onnxFixtures.appendingPathComponent("typed_fields_all_dtypes/model.onnx").path)
        var pairs = 0
        for (name, tensor) in model.graph.initializers where name.hasSuffix("_raw") {
            let typed = try XCTUnwrap(model.graph.initializer(String(name.dropLast(4))), name)
            XCTAssertEqual(typed, tensor, name)
            pairs += 1
        }
        XCTAssertGreaterThanOrEqual(pairs, 10)
    }

    func testTestDataTensorsMatchTheirDeclaredInputs() throws {
        for entry in try FixtureManifest.load().models where entry.has_reference {
            let model = try ONNXReader.readModel(at: entry.url.path)
            for (index, input) in model.graph.runtimeInputs.enumerated() {
                let (name, tensor) = try ONNXReader.readTensor(at: entry.testDataSet.appendingPathComponent("input_\(index).pb").path)
                XCTAssertEqual(name, input.name, entry.name)
                guard case .tensor(let dtype, let shape)? = input.type else { continue }
                XCTAssertEqual(tensor.dtype, dtype, entry.name)
                XCTAssertEqual(tensor.shape.count, shape?.rank, entry.name)
            }
        }
    }
}
