import Foundation
import VigilIR
import VigilONNX
import VigilTestSupport
import XCTest

/// A model whose weights exceed 2 GiB through external data loads without reading them into memory.
final class LargeExternalDataTests: XCTestCase {
    func testWeightsOverTwoGiBAreMappedNotRead() throws {
        let directory = try Repository.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        // A sparse 2.4 GiB weights file: it costs no disk blocks and no memory until touched.
        let elements = 200_000_000  // 800 MB of float32 per tensor, three tensors
        let weights = directory.appendingPathComponent("weights.bin")
        XCTAssertTrue(FileManager.default.createFile(atPath: weights.path, contents: nil))
        let handle = try FileHandle(forWritingTo: weights)
        try handle.truncate(atOffset: UInt64(elements * 4 * 3))
        try handle.close()

        var graph = Graph(name: "big")
        var wire = ProtoWire()
        wire.int(ONNXField.Model.irVersion, 8)
        wire.message(ONNXField.Model.opsetImport) { $0.int(ONNXField.Opset.version, 13) }
        wire.message(ONNXField.Model.graph) { g in
            for index in 0..<3 {
                g.message(ONNXField.Graph.initializer) { t in
                    t.int(ONNXField.Tensor.dims, Int64(elements))
                    t.int(ONNXField.Tensor.dataType, 1)
                    t.string(ONNXField.Tensor.name, "w\(index)")
                    for (key, value) in [("location", "weights.bin"), ("offset", "\(index * elements * 4)"), ("length", "\(elements * 4)")] {
                        t.message(ONNXField.Tensor.externalData) {
                            $0.string(ONNXField.Entry.key, key)
                            $0.string(ONNXField.Entry.value, value)
                        }
                    }
                    t.int(ONNXField.Tensor.dataLocation, 1)
                }
            }
        }
        graph.name = "unused"
        let path = directory.appendingPathComponent("model.onnx")
        try Data(wire.bytes).write(to: path)

        let before = residentBytes()
        let model = try ONNXReader.readModel(at: path.path)
        let after = residentBytes()
        XCTAssertEqual(model.parameterCount, 3 * elements)
        XCTAssertEqual(model.parameterBytesByDType[.float32], 3 * elements * 4)
        XCTAssertLessThan(after - before, 64 << 20, "loading mapped 2.4 GB but resident memory grew by \(after - before) bytes")
        // The last element of the last tensor is readable (the sparse file reads as zeros).
        let last = try XCTUnwrap(model.graph.initializer("w2")?.buffer)
        XCTAssertEqual(last.bytes.load(fromByteOffset: last.count - 4, as: Float.self), 0)
    }

    /// VmRSS of this process.
    private func residentBytes() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kib = Int(line.split(separator: " ").dropFirst().first ?? "")
        else { return 0 }
        return kib * 1024
    }
}
