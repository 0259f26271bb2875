import VigilIR
import XCTest

final class TensorTests: XCTestCase {
    func testONNXCodesRoundTrip() {
        for dtype in DType.allCases {
            XCTAssertEqual(DType(onnxCode: dtype.onnxCode), dtype)
        }
        XCTAssertNil(DType(onnxCode: 0))
        XCTAssertNil(DType(onnxCode: 999))
        // The codes are fixed by the ONNX spec (TensorProto.DataType).
        XCTAssertEqual(DType.float32.onnxCode, 1)
        XCTAssertEqual(DType.int64.onnxCode, 7)
        XCTAssertEqual(DType.float16.onnxCode, 10)
        XCTAssertEqual(DType.bfloat16.onnxCode, 16)
    }

    func testStorageSizes() {
        XCTAssertEqual(DType.float32.storageBytes(count: 6), 24)
        XCTAssertEqual(DType.int4.storageBytes(count: 3), 2)
        XCTAssertEqual(DType.uint2.storageBytes(count: 5), 2)
        XCTAssertNil(DType.string.storageBytes(count: 1))
        XCTAssertNil(DType.float64.storageBytes(count: Int.max / 4))
        XCTAssertNil(checkedElementCount([1 << 40, 1 << 40]))
        XCTAssertNil(checkedElementCount([-1, 4]))
        XCTAssertEqual(checkedElementCount([]), 1)
    }

    func testDataMustFitShape() throws {
        XCTAssertThrowsError(try Tensor(float32: [1, 2, 3], shape: [2, 2])) { error in
            XCTAssertEqual(error as? Tensor.LayoutError, .byteCountMismatch(expected: 16, actual: 12))
        }
        XCTAssertThrowsError(try Tensor(dtype: .string, shape: [2], contents: .strings([[65]])))
        XCTAssertThrowsError(try Tensor(dtype: .float32, shape: [1], contents: .strings([[65]])))
        let tensor = try Tensor(float32: [1, 2, 3, 4], shape: [2, 2])
        XCTAssertEqual(tensor.scalars(as: Float.self), [1, 2, 3, 4])
        XCTAssertEqual(tensor.byteCount, 16)
    }

    func testEqualityComparesBytesNotProvenance() throws {
        var a = try Tensor(float32: [1, 2, 3], shape: [3])
        let b = try Tensor(float32: [1, 2, 3], shape: [3])
        a.externalSource = ExternalDataSource(location: "w.bin", offset: 0, length: 12)
        XCTAssertEqual(a, b)
        XCTAssertNotEqual(a, try Tensor(float32: [1, 2, 4], shape: [3]))
        XCTAssertNotEqual(a, try Tensor(float32: [1, 2, 3], shape: [3, 1]))
    }

    func testShapesKeepSymbols() {
        let shape: Shape = [.symbolic("N"), .fixed(3), .unknown]
        XCTAssertEqual(shape.description, "[N, 3, ?]")
        XCTAssertEqual(shape.symbols, ["N"])
        XCTAssertNil(shape.staticSizes)
        XCTAssertEqual(Shape(static: [2, 3]).staticSizes, [2, 3])
    }
}
