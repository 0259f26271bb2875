import Foundation
import VigilRuntime
import XCTest

/// `TypedTensor` interop with arrays and buffer pointers, and which paths copy.
final class TypedTensorTests: XCTestCase {
    func testArraysRoundTrip() throws {
        let values: [Float] = [1, -2, 3.5, 0, 7, 8]
        let tensor = try TypedTensor<Float>(shape: [2, 3], scalars: values)
        XCTAssertEqual(tensor.shape, [2, 3])
        XCTAssertEqual(tensor.count, 6)
        XCTAssertEqual(tensor.scalars, values)
        XCTAssertEqual([Float](tensor), values)
        XCTAssertEqual(tensor[1, 2], 8)
        XCTAssertEqual(tensor[0, 1], -2)
        XCTAssertEqual(tensor.tensor.dtype, .float32)
        XCTAssertEqual(tensor.description, "float32[2, 3]")
        let ints = try TypedTensor<Int64>(shape: [3], scalars: [1, -1, .max])
        XCTAssertEqual(try ints.tensor.typed(as: Int64.self).scalars, [1, -1, .max])
    }

    func testFillingInPlaceAndReadingInPlace() throws {
        let tensor = try TypedTensor<Double>(shape: [4]) { buffer in
            for i in buffer.indices { buffer[i] = Double(i) * 0.5 }
        }
        XCTAssertEqual(tensor.withUnsafeBufferPointer { $0.reduce(0, +) }, 3)
        let before = tensor.tensor.buffer!.baseAddress
        let wrapped = try TypedTensor<Double>(tensor.tensor)
        XCTAssertEqual(wrapped.tensor.buffer!.baseAddress, before, "wrapping does not copy")
        XCTAssertEqual(try TypedTensor<UInt8>(shape: [2, 2], repeating: 9).scalars, [9, 9, 9, 9])
    }

    /// Caller-owned memory is used in place and released once, after the last tensor using it.
    func testUnsafeNoCopyReleasesOnce() throws {
        final class Counter: @unchecked Sendable { var released = 0 }
        let counter = Counter()
        let memory = UnsafeMutableBufferPointer<Float>.allocate(capacity: 4)
        _ = memory.initialize(from: [1, 2, 3, 4])
        do {
            let tensor = try TypedTensor<Float>(shape: [2, 2], unsafeNoCopy: UnsafeBufferPointer(memory)) { buffer in
                counter.released += 1
                UnsafeMutableBufferPointer(mutating: buffer).deallocate()
            }
            XCTAssertEqual(tensor.tensor.buffer!.baseAddress, UnsafeRawPointer(memory.baseAddress!))
            XCTAssertEqual(tensor.scalars, [1, 2, 3, 4])
            var graph = Graph(name: "identity")
            graph.inputs = [ValueInfo(name: "x", type: .tensor(.float32, Shape(static: [2, 2])))]
            graph.outputs = [ValueInfo(name: "y", type: .tensor(.float32, Shape(static: [2, 2])))]
            _ = try graph.addNode(Node(opType: "Identity", inputs: ["x"], outputs: ["y"]))
            let network = try Network(model: Model(irVersion: 8, opsetImports: [OpsetImport(domain: "", version: 17)], graph: graph))
            let output = try network.run(tensor.tensor)["y"]!
            XCTAssertEqual(try output.typed(as: Float.self).scalars, [1, 2, 3, 4])
            XCTAssertEqual(counter.released, 0)
        }
        XCTAssertEqual(counter.released, 1)
    }

    func testMismatchesAreTypedErrors() throws {
        XCTAssertThrowsError(try TypedTensor<Float>(shape: [2, 2], scalars: [1, 2, 3])) { error in
            XCTAssertEqual((error as? VigilError)?.kind, .invalidTensor)
        }
        XCTAssertThrowsError(try TypedTensor<Float>(shape: [-1], repeating: 0))
        XCTAssertThrowsError(try TypedTensor<Float>(try Tensor(int64: [1], shape: [1]))) { error in
            XCTAssertEqual((error as? VigilError)?.cause, "the tensor is int64, not float32 (Float)")
        }
        let memory = [Float](repeating: 0, count: 3)
        try memory.withUnsafeBufferPointer { buffer in
            XCTAssertThrowsError(try TypedTensor<Float>(shape: [2, 2], unsafeNoCopy: buffer, deallocator: nil))
        }
    }

    /// Bool tensors are one byte per element and must hold 0 or 1 to be read as `Bool`.
    func testBoolBytesAreChecked() throws {
        let good = try Tensor(.bool, shape: [3], scalars: [UInt8(0), 1, 1])
        XCTAssertEqual(try good.typed(as: Bool.self).scalars, [false, true, true])
        let bad = try Tensor(.bool, shape: [2], scalars: [UInt8(0), 2])
        XCTAssertThrowsError(try bad.typed(as: Bool.self))
    }

    func testEmptyTensors() throws {
        let empty = try TypedTensor<Float>(shape: [0, 3], scalars: [])
        XCTAssertEqual(empty.count, 0)
        XCTAssertEqual(empty.scalars, [])
        let borrowed = try TypedTensor<Float>(shape: [0], unsafeNoCopy: UnsafeBufferPointer(start: nil, count: 0), deallocator: nil)
        XCTAssertEqual(borrowed.scalars, [])
    }
}
