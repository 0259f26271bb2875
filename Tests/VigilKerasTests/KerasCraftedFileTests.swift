import Foundation
import VigilExecutor
import VigilHDF5
import VigilIR
import VigilKeras
import VigilTestSupport
import XCTest

/// Files written by VigilHDF5 itself: round trips, odd layouts, and the import benchmark.
final class KerasCraftedFileTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws { directory = try Repository.temporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    func testWrittenLegacyFileImportsAndRuns() throws {
        let path = directory.appendingPathComponent("mlp.h5").path
        try LegacyFileWriter.writeMLP(to: path, widths: [3, 4, 2])
        let model = try KerasImporter.importModel(at: path)
        XCTAssertEqual(model.graph.inputs.map(\.name), ["input_1"])
        XCTAssertEqual(model.graph.outputs.map(\.name), ["dense_2"])
        let session = try InferenceSession(model: model, options: .init(threads: 1))
        let x: [Float] = [1, -2, 0.5]
        let out = try XCTUnwrap(try session.run(["input_1": try Tensor(float32: x, shape: [1, 3])])["dense_2"])
        // The same MLP by hand.
        func dense(_ input: [Float], _ inputs: Int, _ units: Int, relu: Bool) -> [Float] {
            (0..<units).map { j in
                var sum = Float(j % 5) * 0.1
                for i in 0..<inputs { sum += input[i] * Float((i * units + j) % 7 - 3) / Float(inputs) }
                return relu ? max(sum, 0) : sum
            }
        }
        let expected = dense(dense(x, 3, 4, relu: true), 4, 2, relu: false)
        assertClose(out.doubleValues, expected.map(Double.init), atol: 1e-6, rtol: 1e-5, "mlp")
    }

    /// Older Keras 2 Sequential configs: no InputLayer (the first layer has the shape), or a bare list.
    func testOlderSequentialConfigs() throws {
        for (style, input) in [(LegacyFileWriter.Style.firstLayerShape, "dense_1_input"), (.bareList, "dense_1_input")] {
            let path = directory.appendingPathComponent("mlp-\(style).h5").path
            try LegacyFileWriter.writeMLP(to: path, widths: [3, 4, 2], style: style)
            let model = try KerasImporter.importModel(at: path)
            XCTAssertEqual(model.graph.inputs.map(\.name), [input], "\(style)")
            XCTAssertEqual(model.graph.outputs.map(\.name), ["dense_2"], "\(style)")
            XCTAssertEqual(model.graph.nodes.map(\.opType), ["MatMul", "Add", "Relu", "MatMul", "Add"], "\(style)")
        }
    }

    func testHDF5WithNothingKerasInIt() throws {
        let path = directory.appendingPathComponent("other.h5").path
        let file = try HDF5File.create(path: path)
        let root = try file.root()
        try root.writeDataset("data", shape: [2], values: [1, 2])
        root.close()
        file.close()
        XCTAssertThrowsError(try KerasImporter.importModel(at: path)) { error in
            let error = error as! KerasImportError
            XCTAssertEqual(error.kind, .noModelConfig)
            XCTAssertTrue(error.description.hasPrefix(path), error.description)
        }
    }

    func testWeightListedButAbsent() throws {
        // The config of a 3-4-2 MLP, with weights where dense_2's list names a bias that is not stored.
        let broken = directory.appendingPathComponent("broken.h5").path
        let json = try LegacyFileWriter.writeMLP(to: broken, widths: [3, 4, 2])
        let handle = try HDF5File.create(path: broken)
        let root = try handle.root()
        try root.setStringAttribute("model_config", json)
        let weights = try root.createGroup("model_weights")
        try weights.setFixedStringsAttribute("layer_names", ["dense_1", "dense_2"])
        let dense1 = try weights.createGroup("dense_1")
        try dense1.setFixedStringsAttribute("weight_names", ["dense_1/kernel:0", "dense_1/bias:0"])
        try dense1.writeDataset("dense_1/kernel:0", shape: [3, 4], values: Array(repeating: 0, count: 12))
        try dense1.writeDataset("dense_1/bias:0", shape: [4], values: Array(repeating: 0, count: 4))
        let dense2 = try weights.createGroup("dense_2")
        try dense2.setFixedStringsAttribute("weight_names", ["dense_2/kernel:0", "dense_2/bias:0"])
        try dense2.writeDataset("dense_2/kernel:0", shape: [4, 2], values: Array(repeating: 0, count: 8))
        for object in [dense1, dense2, weights, root] as [HDF5Object] { object.close() }
        handle.close()
        XCTAssertThrowsError(try KerasImporter.importModel(at: broken)) { error in
            let error = error as! KerasImportError
            XCTAssertEqual(error.kind, .missingWeights)
            XCTAssertEqual(error.layer, "dense_2")
            XCTAssertTrue(error.description.contains(broken) && error.description.contains("'dense_2'"), error.description)
        }
    }

    /// Reads a whole file with POSIX `read` into `buffer` (allocated and touched beforehand, so that
    /// only the reading is timed): the strictest baseline for "the time to read its bytes".
    func readAllBytes(_ path: String, into buffer: UnsafeMutableRawBufferPointer) throws {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw CocoaError(.fileReadNoSuchFile) }
        defer { close(fd) }
        let size = min(Int(lseek(fd, 0, SEEK_END)), buffer.count)
        lseek(fd, 0, SEEK_SET)
        var done = 0
        while done < size {
            let count = read(fd, buffer.baseAddress! + done, size - done)
            guard count > 0 else { throw CocoaError(.fileReadUnknown) }
            done += count
        }
    }

    /// Issue 4's benchmark: importing a ~100 MB `.h5` takes at most 2× reading its bytes.
    /// A benchmark harness, opt-in (it writes 100 MB): run through `bench/keras_import.sh`.
    func testBenchmarkImportOf100MBFile() throws {
        guard ProcessInfo.processInfo.environment["VIGIL_KERAS_BENCH"] != nil else {
            throw XCTSkip("set VIGIL_KERAS_BENCH=1 to run the import benchmark")
        }
        let path = directory.appendingPathComponent("large.h5").path
        try LegacyFileWriter.writeMLP(to: path, widths: Array(repeating: 2048, count: 7))
        let bytes = try FileManager.default.attributesOfItem(atPath: path)[.size] as! Int
        func seconds(_ body: () throws -> Void) rethrows -> Double {
            let start = DispatchTime.now().uptimeNanoseconds
            try body()
            return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes, alignment: 64)
        defer { buffer.deallocate() }
        buffer.initializeMemory(as: UInt8.self, repeating: 0)
        var reads: [Double] = [], imports: [Double] = []
        for _ in 0..<5 {
            reads.append(try seconds { try readAllBytes(path, into: buffer) })
            imports.append(try seconds { _ = try KerasImporter.importModel(at: path) })
        }
        let read = reads.min()!, load = imports.min()!
        print(String(format: "keras import benchmark: %.1f MB, read %.1f ms, import %.1f ms, ratio %.2f",
                     Double(bytes) / 1e6, read * 1e3, load * 1e3, load / read))
        XCTAssertGreaterThan(bytes, 100_000_000)
        // The 2× target is a benchmark figure reported by bench/keras_import.sh, not a timed assertion.
    }
}
