import Foundation
import VigilIR
import VigilONNX
import VigilTestSupport
import XCTest

/// Broken and hostile files must fail with one clear line naming the file and the cause, never crash,
/// and never allocate according to what a tiny file claims.
final class HostileInputTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws { directory = try Repository.temporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    /// A minimal model whose graph holds the given initializers (each a TensorProto builder).
    private func modelBytes(initializers: [(inout ProtoWire) -> Void]) -> [UInt8] {
        var wire = ProtoWire()
        wire.int(ONNXField.Model.irVersion, 8)
        wire.message(ONNXField.Model.opsetImport) { $0.int(ONNXField.Opset.version, 13) }
        wire.message(ONNXField.Model.graph) { graph in
            graph.string(ONNXField.Graph.name, "g")
            for initializer in initializers { graph.message(ONNXField.Graph.initializer, initializer) }
        }
        return wire.bytes
    }

    private func externalTensor(location: String, offset: String? = nil, length: String? = nil, dims: [Int64] = [4]) -> (inout ProtoWire) -> Void {
        { tensor in
            for dim in dims { tensor.int(ONNXField.Tensor.dims, dim) }
            tensor.int(ONNXField.Tensor.dataType, 1)
            tensor.string(ONNXField.Tensor.name, "w")
            var entries = [("location", location)]
            if let offset { entries.append(("offset", offset)) }
            if let length { entries.append(("length", length)) }
            for (key, value) in entries {
                tensor.message(ONNXField.Tensor.externalData) {
                    $0.string(ONNXField.Entry.key, key)
                    $0.string(ONNXField.Entry.value, value)
                }
            }
            tensor.int(ONNXField.Tensor.dataLocation, 1)
        }
    }

    @discardableResult
    private func write(_ bytes: [UInt8], _ name: String = "model.onnx", in folder: URL? = nil) throws -> String {
        let url = (folder ?? directory).appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url.path
    }

    /// Reading must throw an ONNXError whose one-line message starts with the file and contains `cause`.
    private func assertRejected(_ path: String, _ cause: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try ONNXReader.readModel(at: path), file: file, line: line) { error in
            guard let error = error as? ONNXError else { return XCTFail("not an ONNXError: \(error)", file: file, line: line) }
            let message = "\(error)"
            XCTAssertTrue(message.hasPrefix(path + ": "), message, file: file, line: line)
            XCTAssertTrue(message.contains(cause), "'\(message)' should mention '\(cause)'", file: file, line: line)
            XCTAssertFalse(message.contains("\n"), message, file: file, line: line)
        }
    }

    private func externalFile(_ name: String, bytes: Int, in folder: URL? = nil) throws {
        try Data(repeating: 7, count: bytes).write(to: (folder ?? directory).appendingPathComponent(name))
    }

    // MARK: Protobuf-level damage

    func testTruncatedFilesAreRejected() throws {
        let original = try Data(contentsOf: Repository.onnxFixtures.appendingPathComponent("cnn_embedding/model.onnx"))
        var rejected = 0
        for cut in stride(from: 1, to: original.count, by: max(1, original.count / 97)) {
            let path = try write(Array(original.prefix(cut)), "cut.onnx")
            XCTAssertThrowsError(try ONNXReader.readModel(at: path)) { error in
                XCTAssertTrue("\(error)".hasPrefix(path + ": "), "\(error)")
                rejected += 1
            }
        }
        XCTAssertGreaterThan(rejected, 90)
        assertRejected(try write(Array(original.prefix(original.count - 3)), "cut.onnx"), "truncated")
    }

    func testRandomBytesAreRejected() throws {
        var generator = SplitMix64(seed: 42)
        for index in 0..<300 {
            let count = Int(generator.next() % 4096) + 1
            let bytes = (0..<count).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            let path = try write(bytes, "random\(index).bin")
            XCTAssertThrowsError(try ONNXReader.readModel(at: path), "random file \(index)") { error in
                XCTAssertTrue("\(error)".hasPrefix(path + ": "), "\(error)")
            }
        }
    }

    func testWrongWireTypeIsRejected() throws {
        var wire = ProtoWire()
        wire.int(ONNXField.Model.irVersion, 8)
        wire.int(ONNXField.Model.graph, 5)  // graph must be length-delimited, not a varint
        assertRejected(try write(wire.bytes), "wrong wire type")
        var packed = ProtoWire()
        packed.int(ONNXField.Model.irVersion, 8)
        packed.message(ONNXField.Model.graph) { graph in
            graph.message(ONNXField.Graph.initializer) { tensor in
                tensor.int(ONNXField.Tensor.dataType, 1)
                tensor.bytes(ONNXField.Tensor.floatData, [1, 2, 3])  // packed floats must be a multiple of 4 bytes
            }
        }
        assertRejected(try write(packed.bytes, "packed.onnx"), "truncated or corrupt")
    }

    func testEmptyFileAndFolderAreRejected() throws {
        assertRejected(try write([], "empty.onnx"), "empty")
        assertRejected(directory.path, "not a regular file")
        assertRejected(directory.appendingPathComponent("absent.onnx").path, "cannot open")
    }

    func testDeeplyNestedSubgraphsAreRejected() throws {
        func nested(_ depth: Int) -> ProtoWire {
            var graph = ProtoWire()
            graph.message(ONNXField.Graph.node) { node in
                node.string(ONNXField.Node.opType, "If")
                if depth > 0 {
                    node.message(ONNXField.Node.attribute) { attribute in
                        attribute.string(ONNXField.Attribute.name, "then_branch")
                        attribute.int(ONNXField.Attribute.type, 5)
                        attribute.bytes(ONNXField.Attribute.g, nested(depth - 1).bytes)
                    }
                }
            }
            return graph
        }
        var wire = ProtoWire()
        wire.int(ONNXField.Model.irVersion, 8)
        wire.bytes(ONNXField.Model.graph, nested(5000).bytes)
        assertRejected(try write(wire.bytes), "nested deeper")
    }

    func testUnknownDataTypeIsReportedByCode() throws {
        let bytes = modelBytes(initializers: [{ tensor in
            tensor.int(ONNXField.Tensor.dataType, 77)
            tensor.string(ONNXField.Tensor.name, "w")
        }])
        assertRejected(try write(bytes), "initializer 'w' has unknown data type code 77")
    }

    func testAttributesMustDeclareTheirType() throws {
        func model(_ attribute: @escaping (inout ProtoWire) -> Void) -> [UInt8] {
            var wire = ProtoWire()
            wire.int(ONNXField.Model.irVersion, 8)
            wire.message(ONNXField.Model.opsetImport) { $0.int(ONNXField.Opset.version, 13) }
            wire.message(ONNXField.Model.graph) { graph in
                graph.message(ONNXField.Graph.node) { node in
                    node.string(ONNXField.Node.input, "x")
                    node.string(ONNXField.Node.output, "y")
                    node.string(ONNXField.Node.name, "act")
                    node.string(ONNXField.Node.opType, "LeakyRelu")
                    node.message(ONNXField.Node.attribute, attribute)
                }
            }
            return wire.bytes
        }
        let untyped = try write(model { $0.string(ONNXField.Attribute.name, "alpha"); $0.int(ONNXField.Attribute.i, 2) }, "untyped.onnx")
        assertRejected(untyped, "attribute 'alpha' of node 'act' (LeakyRelu) in graph has no type (its value looks like INT)")
        let mismatched = try write(model {
            $0.string(ONNXField.Attribute.name, "alpha")
            $0.int(ONNXField.Attribute.type, 1)  // FLOAT
            $0.int(ONNXField.Attribute.i, 2)
        }, "mismatched.onnx")
        assertRejected(mismatched, "is declared FLOAT but holds its value in field 'i'")
    }

    // MARK: Size claims

    func testTensorClaimingTwoToTheFortyElementsInATinyFile() throws {
        let raw = modelBytes(initializers: [{ tensor in
            tensor.int(ONNXField.Tensor.dims, 1 << 20)
            tensor.int(ONNXField.Tensor.dims, 1 << 20)
            tensor.int(ONNXField.Tensor.dataType, 1)
            tensor.string(ONNXField.Tensor.name, "huge")
            tensor.bytes(ONNXField.Tensor.rawData, [UInt8](repeating: 0, count: 16))
        }])
        XCTAssertLessThan(raw.count, 1024)
        assertRejected(try write(raw, "raw.onnx"), "initializer 'huge' has 16 bytes of raw_data but float32[1048576, 1048576] needs 4398046511104")
        let typed = modelBytes(initializers: [{ tensor in
            tensor.int(ONNXField.Tensor.dims, 1 << 40)
            tensor.int(ONNXField.Tensor.dataType, 1)
            tensor.string(ONNXField.Tensor.name, "huge")
            tensor.bytes(ONNXField.Tensor.floatData, [UInt8](repeating: 0, count: 16))
        }])
        assertRejected(try write(typed, "typed.onnx"), "has 4 values in float_data but float32[1099511627776] needs 1099511627776")
        let overflow = modelBytes(initializers: [{ tensor in
            tensor.int(ONNXField.Tensor.dims, 1 << 62)
            tensor.int(ONNXField.Tensor.dims, 1 << 62)
            tensor.int(ONNXField.Tensor.dataType, 1)
            tensor.string(ONNXField.Tensor.name, "huge")
        }])
        assertRejected(try write(overflow, "overflow.onnx"), "impossible element count")
        try externalFile("w.bin", bytes: 64)
        let external = modelBytes(initializers: [externalTensor(location: "w.bin", dims: [1 << 40])])
        assertRejected(try write(external, "external.onnx"), "holds 64 bytes for it but float32[1099511627776] needs 4398046511104")
    }

    /// Reading from a caller's memory must not touch it: large `raw_data` source pages are only
    /// dropped from Vigil's own file mappings (found by fuzzing: they were zeroed in the caller's buffer).
    func testReadingFromMemoryLeavesTheBytesIntact() throws {
        let count = 1 << 17  // 512 KiB of float32, spanning many pages
        var values = [UInt8](repeating: 0, count: count * 4)
        for i in 0..<values.count { values[i] = UInt8(truncatingIfNeeded: i * 7 + 1) }
        let raw = modelBytes(initializers: [{ tensor in
            tensor.int(ONNXField.Tensor.dims, Int64(count))
            tensor.int(ONNXField.Tensor.dataType, 1)
            tensor.string(ONNXField.Tensor.name, "big")
            tensor.bytes(ONNXField.Tensor.rawData, values)
        }])
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: raw.count, alignment: 4096)
        defer { buffer.deallocate() }
        buffer.copyBytes(from: raw)
        let model = try ONNXReader.readModel(bytes: UnsafeRawBufferPointer(buffer), reportAs: "memory", baseDirectory: nil)
        XCTAssertTrue(Array(buffer) == raw, "the caller's bytes changed")
        let tensor = try XCTUnwrap(model.graph.initializers.first { $0.name == "big" }?.tensor)
        XCTAssertTrue(Array(tensor.buffer!.bytes) == values, "the tensor does not hold the raw_data")
    }

    // MARK: External data containment

    func testExternalDataPathTricksAreRejected() throws {
        let model = directory.appendingPathComponent("model")
        try FileManager.default.createDirectory(at: model, withIntermediateDirectories: true)
        try externalFile("secret.bin", bytes: 16)  // outside the model's folder
        try externalFile("inside.bin", bytes: 16, in: model)

        func check(_ location: String, _ cause: String, line: UInt = #line) throws {
            let path = try write(modelBytes(initializers: [externalTensor(location: location)]), in: model)
            assertRejected(path, cause, line: line)
        }
        try check("../secret.bin", "contains '..'")
        try check("sub/../../secret.bin", "contains '..'")
        try check("..\\secret.bin", "contains '..'")
        try check(directory.appendingPathComponent("secret.bin").path, "is an absolute path")
        try check("C:\\secret.bin", "is an absolute path")
        try check("", "without a location")
        try check("missing.bin", "cannot resolve")

        try FileManager.default.createSymbolicLink(atPath: model.appendingPathComponent("link.bin").path, withDestinationPath: "../secret.bin")
        try check("link.bin", "outside the model's folder")
        try FileManager.default.createSymbolicLink(atPath: model.appendingPathComponent("escape").path, withDestinationPath: directory.path)
        try check("escape/secret.bin", "outside the model's folder")

        try FileManager.default.linkItem(atPath: model.appendingPathComponent("inside.bin").path, toPath: model.appendingPathComponent("hard.bin").path)
        try check("hard.bin", "hard links")
    }

    func testExternalDataOffsetsAndLengthsMustFit() throws {
        try externalFile("w.bin", bytes: 32)
        func check(offset: String?, length: String?, _ cause: String, line: UInt = #line) throws {
            let path = try write(modelBytes(initializers: [externalTensor(location: "w.bin", offset: offset, length: length)]))
            assertRejected(path, cause, line: line)
        }
        try check(offset: "33", length: nil, "offset 33 is past the end of 'w.bin' (32 bytes)")
        try check(offset: "24", length: "16", "offset 24 + length 16 is past the end")
        try check(offset: "-8", length: nil, "negative offset")
        try check(offset: "0", length: "-16", "negative length")
        try check(offset: "zero", length: nil, "offset 'zero' is not a byte count")
        try check(offset: "0", length: "8", "holds 8 bytes for it but float32[4] needs 16")
        try check(offset: nil, length: nil, "holds 32 bytes for it but float32[4] needs 16")
        // The same file and an in-range slice load, and the tensor sees the file's bytes.
        let path = try write(modelBytes(initializers: [externalTensor(location: "w.bin", offset: "16", length: "16")]))
        let tensor = try XCTUnwrap(try ONNXReader.readModel(at: path).graph.initializer("w"))
        XCTAssertEqual(tensor.buffer.map { Array($0.bytes) }, [UInt8](repeating: 7, count: 16))
        XCTAssertEqual(tensor.externalSource, ExternalDataSource(location: "w.bin", offset: 16, length: 16))
    }

    func testExternalDataNeedsAFolderWhenReadFromMemory() throws {
        let bytes = modelBytes(initializers: [externalTensor(location: "w.bin")])
        XCTAssertThrowsError(try bytes.withUnsafeBytes { try ONNXReader.readModel(bytes: $0, reportAs: "memory.onnx", baseDirectory: nil) }) { error in
            XCTAssertEqual("\(error)", "memory.onnx: initializer 'w': external data 'w.bin' needs the model's folder, but the model was read from memory")
        }
    }
}

/// A small deterministic generator (SplitMix64) so the random inputs repeat.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
