import VigilExecutor
import VigilIR
import VigilTestSupport
import XCTest

/// Data-movement ops against index-by-index references.
final class ShapeOpTests: XCTestCase {
    func testTranspose() throws {
        let x = randomTensor([2, 3, 4, 5], seed: 1)
        let v = x.scalars(as: Float.self)
        for perm in [[0, 2, 3, 1], [3, 2, 1, 0], [1, 0, 2, 3]] {
            let out = perm.map { x.shape[$0] }
            // y[i₀, i₁, …] = x[j] where j[perm[k]] = i[k].
            let expected = allIndices(out).map { index -> Float in
                var source = [Int](repeating: 0, count: 4)
                for k in 0..<4 { source[perm[k]] = index[k] }
                return v[flatIndex(source, x.shape)]
            }
            expectClose(try runNode("Transpose", [.input(x)], attributes: ["perm": ints(perm)])[0], floatTensor(expected, out), atol: 0, rtol: 0, "\(perm)")
        }
        // Default: reversed axes.
        let y = try runNode("Transpose", [.input(floatTensor([1, 2, 3, 4, 5, 6], [2, 3]))])[0]
        XCTAssertEqual(y, floatTensor([1, 4, 2, 5, 3, 6], [3, 2]))
    }

    /// The vectorized transposes: shapes that coalesce to a matrix transpose (NCHW ↔ NHWC, a batch of
    /// matrices, strips of 32 rows with a remainder), to the attention head split, or to a copy; on 1 and 2
    /// threads, with NaN (bits kept).
    func testCoalescedTransposes() throws {
        let cases: [([Int], [Int])] = [
            ([2, 37, 9, 11], [0, 2, 3, 1]), ([1, 9, 11, 37], [0, 3, 1, 2]), ([3, 70, 45], [0, 2, 1]), ([1, 13, 3, 10], [0, 2, 1, 3]),
            ([2, 13, 3, 10], [0, 2, 1, 3]), ([1, 1, 40, 33], [2, 3, 0, 1]), ([4, 1, 5], [1, 0, 2]), ([33, 64], [1, 0]),
        ]
        for (index, (shape, perm)) in cases.enumerated() {
            var v = randomTensor(shape, seed: UInt64(40 + index)).scalars(as: Float.self)
            v[v.count / 3] = .nan
            let x = floatTensor(v, shape)
            let out = perm.map { shape[$0] }
            let expected = allIndices(out).map { index -> Float in
                var source = [Int](repeating: 0, count: shape.count)
                for k in 0..<shape.count { source[perm[k]] = index[k] }
                return v[flatIndex(source, shape)]
            }
            for threads in [1, 2] {
                let y = try runNode("Transpose", [.input(x)], attributes: ["perm": ints(perm)], threads: threads)[0]
                XCTAssertEqual(y.shape, out, "\(shape) \(perm)")
                XCTAssertEqual(y.scalars(as: Float.self).map(\.bitPattern), expected.map(\.bitPattern), "\(shape) \(perm) threads \(threads)")
            }
        }
    }

    func testSliceWithStepsAndNegatives() throws {
        let x = randomTensor([5, 6, 4], seed: 2)
        let v = x.scalars(as: Float.self)
        // axes [0, 1, 2]: 1..<5 step 2 → {1, 3}; -1 down to (exclusive) -5 step -2 → {5, 3}; INT_MAX-clamped 0..<∞ step 3 → {0, 3}.
        let y = try runNode("Slice", [.input(x), .constant(int64Tensor([1, -1, 0])), .constant(int64Tensor([5, -5, Int(Int32.max)])),
                                      .constant(int64Tensor([0, 1, 2])), .constant(int64Tensor([2, -2, 3]))], opset: 13)[0]
        var expected: [Float] = []
        for i in [1, 3] { for j in [5, 3] { for k in [0, 3] { expected.append(v[flatIndex([i, j, k], x.shape)]) } } }
        XCTAssertEqual(y, floatTensor(expected, [2, 2, 2]))
    }

    /// Slices and pads whose trailing axes are whole (a channel range of NCHW planes, as ShuffleNet splits
    /// its channels; a pad of the leading axes only) are copied as runs; against the index rule.
    func testSliceAndPadAsContiguousRuns() throws {
        let x = randomTensor([2, 6, 5, 7], seed: 12)
        let v = x.scalars(as: Float.self)
        for (start, end) in [(0, 3), (3, 6), (1, 5)] {
            let y = try runNode("Slice", [.input(x), .constant(int64Tensor([start])), .constant(int64Tensor([end])), .constant(int64Tensor([1]))],
                                opset: 13)[0]
            let shape = [2, end - start, 5, 7]
            XCTAssertEqual(y, floatTensor(allIndices(shape).map { i in v[flatIndex([i[0], i[1] + start, i[2], i[3]], x.shape)] }, shape))
        }
        // Channels 1 and 3 of rows 2..<5: whole rows (runs of 7) from an axis-2 range.
        let rows = try runNode("Slice", [.input(x), .constant(int64Tensor([1, 2])), .constant(int64Tensor([5, 5])),
                                         .constant(int64Tensor([1, 2])), .constant(int64Tensor([2, 1]))], opset: 13)[0]
        XCTAssertEqual(rows, floatTensor(allIndices([2, 2, 3, 7]).map { i in v[flatIndex([i[0], 1 + 2 * i[1], i[2] + 2, i[3]], x.shape)] },
                                         [2, 2, 3, 7]))
        let padded = try runNode("Pad", [.input(x), .constant(int64Tensor([0, 1, 0, 0, 1, 2, 0, 0])), .constant(floatTensor([-3], []))],
                                 opset: 13)[0]
        XCTAssertEqual(padded, floatTensor(allIndices([3, 9, 5, 7]).map { i in
            i[0] < 2 && (1..<7).contains(i[1]) ? v[flatIndex([i[0], i[1] - 1, i[2], i[3]], x.shape)] : -3
        }, [3, 9, 5, 7]))
    }

    func testGatherNegativeIndices() throws {
        let x = randomTensor([3, 4, 2], seed: 3)
        let v = x.scalars(as: Float.self)
        let indices = int64Tensor([3, -1, 0, 1], [2, 2])
        let y = try runNode("Gather", [.input(x), .constant(indices)], attributes: ["axis": .int(1)])[0]
        var expected: [Float] = []
        for i in 0..<3 { for j in [3, 3, 0, 1] { for k in 0..<2 { expected.append(v[flatIndex([i, j, k], x.shape)]) } } }
        XCTAssertEqual(y, floatTensor(expected, [3, 2, 2, 2]))
        // Out-of-range indices are an error naming the node.
        XCTAssertThrowsError(try runNode("Gather", [.input(x), .input(int64Tensor([4]))], attributes: ["axis": .int(1)])) { error in
            XCTAssertTrue("\(error)".contains("'node' (Gather)"), "\(error)")
        }
    }

    func testConcatAndSplit() throws {
        let a = randomTensor([2, 3, 2], seed: 4), b = randomTensor([2, 1, 2], seed: 5)
        let y = try runNode("Concat", [.input(a), .input(b)], attributes: ["axis": .int(-2)])[0]
        let av = a.scalars(as: Float.self), bv = b.scalars(as: Float.self)
        let expected = allIndices([2, 4, 2]).map { i in i[1] < 3 ? av[flatIndex(i, [2, 3, 2])] : bv[flatIndex([i[0], 0, i[2]], [2, 1, 2])] }
        XCTAssertEqual(y, floatTensor(expected, [2, 4, 2]))
        let parts = try runNode("Split", [.input(y), .constant(int64Tensor([3, 1]))], attributes: ["axis": .int(1)], outputs: 2, opset: 13)
        XCTAssertEqual(parts[0], a)
        XCTAssertEqual(parts[1], b)
    }

    /// A Concat large enough to be split across threads (at 64-byte boundaries that fall inside the
    /// inputs' chunks): every element where the naive placement puts it, on 1, 2 and 3 threads.
    func testLargeConcatSplitAcrossThreads() throws {
        let shapes = [[2, 13, 37, 41], [2, 50, 37, 41], [2, 7, 37, 41]]
        let inputs = shapes.enumerated().map { randomTensor($1, seed: 40 + UInt64($0)) }
        let values = inputs.map { $0.scalars(as: Float.self) }
        let plane = 37 * 41, channels = 70
        var expected = [Float](repeating: .nan, count: 2 * channels * plane)
        for n in 0..<2 {
            var first = 0
            for (i, shape) in shapes.enumerated() {
                for c in 0..<shape[1] {
                    for q in 0..<plane { expected[(n * channels + first + c) * plane + q] = values[i][(n * shape[1] + c) * plane + q] }
                }
                first += shape[1]
            }
        }
        for threads in [1, 2, 3] {
            let y = try runNode("Concat", inputs.map { .input($0) }, attributes: ["axis": .int(1)], threads: threads)[0]
            XCTAssertEqual(y, floatTensor(expected, [2, channels, 37, 41]), "threads \(threads)")
        }
    }

    func testPadModes() throws {
        let x = floatTensor([1, 2, 3, 4, 5, 6], [2, 3])
        let pads = int64Tensor([1, 2, 0, 1])  // begin (rows 1, cols 2), end (rows 0, cols 1)
        func run(_ mode: String) throws -> [Float] {
            try runNode("Pad", [.input(x), .constant(pads), .constant(floatTensor([9], []))],
                        attributes: ["mode": .string(Array(mode.utf8))], opset: 13)[0].scalars(as: Float.self)
        }
        // Rows -1, 0, 1 by columns -2 … 3, read by each mode's rule.
        func expected(_ source: (Int, Int) -> Float) -> [Float] {
            var out: [Float] = []
            for r in -1...1 { for c in -2...3 { out.append(source(r, c)) } }
            return out
        }
        let v: [Float] = [1, 2, 3, 4, 5, 6]
        XCTAssertEqual(try run("constant"), expected { r, c in (0..<2).contains(r) && (0..<3).contains(c) ? v[r * 3 + c] : 9 })
        XCTAssertEqual(try run("edge"), expected { r, c in v[min(max(r, 0), 1) * 3 + min(max(c, 0), 2)] })
        // Reflect mirrors without repeating the edge: index -1 → 1, -2 → 2, 3 → 1.
        let reflect = { (i: Int, n: Int) -> Int in i < 0 ? -i : (i >= n ? 2 * (n - 1) - i : i) }
        XCTAssertEqual(try run("reflect"), expected { r, c in v[reflect(r, 2) * 3 + reflect(c, 3)] })
    }

    func testReshapeFamilyAndShapeMath() throws {
        // Shape → Gather → Unsqueeze → Concat → Reshape: computed at plan time from the static input shape.
        var graph = Graph(name: "shape_math")
        graph.inputs = [ValueInfo(name: "x", type: .tensor(.float32, Shape([.symbolic("N"), .fixed(3), .fixed(4)])))]
        graph.outputs = [ValueInfo(name: "y", type: nil), ValueInfo(name: "s", type: nil)]
        graph.setInitializer("zero", int64Tensor([0], []))
        graph.setInitializer("minus1", int64Tensor([-1]))
        graph.setInitializer("axes", int64Tensor([0]))
        try graph.addNode(Node(name: "shape", opType: "Shape", inputs: ["x"], outputs: ["shape"]))
        try graph.addNode(Node(name: "batch", opType: "Gather", inputs: ["shape", "zero"], outputs: ["n"]))
        try graph.addNode(Node(name: "unsq", opType: "Unsqueeze", inputs: ["n", "axes"], outputs: ["n1"]))
        try graph.addNode(Node(name: "cat", opType: "Concat", inputs: ["n1", "minus1"], outputs: ["target"],
                               attributes: [Attribute(name: "axis", value: .int(0))]))
        try graph.addNode(Node(name: "reshape", opType: "Reshape", inputs: ["x", "target"], outputs: ["flat"]))
        try graph.addNode(Node(name: "neg", opType: "Neg", inputs: ["flat"], outputs: ["y"]))
        try graph.addNode(Node(name: "size", opType: "Size", inputs: ["x"], outputs: ["s"]))
        let model = Model(irVersion: 8, opsetImports: [OpsetImport(domain: "", version: 13)], graph: graph)
        let session = try InferenceSession(model: model, options: .init(threads: 1))
        for n in [1, 3] {
            let x = randomTensor([n, 3, 4], seed: UInt64(n))
            let out = try session.run(["x": x])
            XCTAssertEqual(out["y"], floatTensor(x.scalars(as: Float.self).map { -$0 }, [n, 12]))
            XCTAssertEqual(out["s"], int64Tensor([n * 12], []))
        }
    }

    func testExpandTileRangeConstantOfShape() throws {
        let x = floatTensor([1, 2, 3], [3, 1])
        XCTAssertEqual(try runNode("Expand", [.input(x), .constant(int64Tensor([2, 3, 2]))])[0],
                       floatTensor([1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3], [2, 3, 2]))
        XCTAssertEqual(try runNode("Tile", [.input(floatTensor([1, 2], [1, 2])), .constant(int64Tensor([2, 2]))])[0],
                       floatTensor([1, 2, 1, 2, 1, 2, 1, 2], [2, 4]))
        XCTAssertEqual(try runNode("Range", [.constant(floatTensor([1], [])), .constant(floatTensor([2.2], [])), .constant(floatTensor([0.5], []))])[0],
                       floatTensor([1, 1.5, 2], [3]))
        // Bounds known only at run time: the session specializes its plan on the (small) input values.
        let (model, _) = singleNodeModel("Range", [.input(floatTensor([1], [])), .constant(floatTensor([2.2], [])), .constant(floatTensor([0.5], []))])
        let session = try InferenceSession(model: model, options: .init(threads: 1))
        XCTAssertEqual(try session.run(["in0": floatTensor([1], [])])["out0"], floatTensor([1, 1.5, 2], [3]))
        XCTAssertEqual(try session.run(["in0": floatTensor([0], [])])["out0"], floatTensor([0, 0.5, 1, 1.5, 2], [5]))
        XCTAssertEqual(try runNode("Range", [.constant(int64Tensor([10], [])), .constant(int64Tensor([4], [])), .constant(int64Tensor([-3], []))])[0],
                       int64Tensor([10, 7]))
        let fill = try Tensor(int64: [7], shape: [1])
        XCTAssertEqual(try runNode("ConstantOfShape", [.constant(int64Tensor([2, 2]))], attributes: ["value": .tensor(fill)])[0],
                       int64Tensor([7, 7, 7, 7], [2, 2]))
    }

    func testDepthToSpaceAndBack() throws {
        let x = randomTensor([1, 8, 2, 3], seed: 9)
        let v = x.scalars(as: Float.self)
        let b = 2
        for mode in ["DCR", "CRD"] {
            let y = try runNode("DepthToSpace", [.input(x)], attributes: ["blocksize": .int(2), "mode": .string(Array(mode.utf8))])[0]
            // Output (c, h·b + i, w·b + j) reads channel (i·b + j)·C' + c for DCR, c·b² + i·b + j for CRD.
            let expected = allIndices([1, 2, 4, 6]).map { idx -> Float in
                let (c, h, w) = (idx[1], idx[2], idx[3])
                let (i, j) = (h % b, w % b)
                let source = mode == "DCR" ? (i * b + j) * 2 + c : c * b * b + i * b + j
                return v[flatIndex([0, source, h / b, w / b], x.shape)]
            }
            XCTAssertEqual(y, floatTensor(expected, [1, 2, 4, 6]), mode)
            if mode == "DCR" {
                XCTAssertEqual(try runNode("SpaceToDepth", [.input(y)], attributes: ["blocksize": .int(2)])[0], x, "SpaceToDepth inverts DCR")
            }
        }
    }

    func testCast() throws {
        let x = floatTensor([1.7, -2.7, 0, 3e9], [4])
        XCTAssertEqual(try runNode("Cast", [.input(x)], attributes: ["to": .int(Int64(DType.int32.onnxCode))])[0].scalars(as: Int32.self),
                       [1, -2, 0, Int32(truncatingIfNeeded: Int64(3e9))])
        XCTAssertEqual(try runNode("Cast", [.input(x)], attributes: ["to": .int(Int64(DType.bool.onnxCode))])[0].scalars(as: UInt8.self), [1, 1, 0, 1])
        XCTAssertEqual(try runNode("Cast", [.input(int64Tensor([5, -3]))], attributes: ["to": .int(1)])[0], floatTensor([5, -3], [2]))
    }
}
