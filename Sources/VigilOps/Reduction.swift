import VigilIR

/// ReduceX and ArgMax/ArgMin.
public enum Reduction {
    /// The reductions, by ONNX name.
    public static let reduceOps: [String] = [
        "ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2",
        "ReduceSumSquare", "ReduceLogSumExp", "ReduceLogSum",
    ]

    static var descriptors: [OpDescriptor] {
        let reduce: [AttributeSpec] = [.optional("axes", .ints), .int("keepdims", 1), .int("noop_with_empty_axes", 0)]
        let arg: [AttributeSpec] = [.int("axis", 0), .int("keepdims", 1), .int("select_last_index", 0)]
        return reduceOps.map { OpDescriptor($0, inputs: 1...2, since: 1, attributes: reduce, infer: inferReduce) } + [
            OpDescriptor("ArgMax", inputs: 1...1, since: 1, attributes: arg, infer: inferArg),
            OpDescriptor("ArgMin", inputs: 1...1, since: 1, attributes: arg, infer: inferArg),
        ]
    }

    /// Resolved reduction axes: sorted, normalized, unique. Empty means "no reduction" only when
    /// `noop_with_empty_axes` is set; otherwise absent axes reduce everything.
    public struct ReduceAttributes: Sendable {
        public var axes: [Int]
        public var keepDims: Bool

        public init(_ c: OpContext) throws(OpError) {
            let allowed = c.opType == "ReduceMax" || c.opType == "ReduceMin" ? TypeSets.numeric.union([.bool]) : TypeSets.numeric
            let x = try c.requireType(0, in: allowed)
            keepDims = try c.int("keepdims") != 0
            let axesFromInput = c.opType == "ReduceSum" ? c.opset >= 13 : c.opset >= 18
            var given: [Int]?
            if axesFromInput {
                given = try c.intsInput(1)
                if c.hasAttribute("axes") { throw c.error("takes axes as an input from this opset on", subject: "axes") }
            } else {
                if c.node.inputs.count > 1 { throw c.error("takes axes as an attribute before this opset") }
                given = try c.ints("axes")
            }
            let noop = try c.int("noop_with_empty_axes") != 0
            if let list = given, !list.isEmpty {
                var normalized: [Int] = []
                for a in list { normalized.append(try c.axis(a, rank: x.rank, what: "axis")) }
                guard Set(normalized).count == normalized.count else { throw c.error("axes \(list) repeat an axis", subject: "axes") }
                axes = normalized.sorted()
            } else {
                axes = noop ? [] : Array(0..<x.rank)
            }
        }

        /// The reduced shape.
        public func outputShape(_ input: Shape) -> Shape {
            var dims: [Dim] = []
            for (i, d) in input.dims.enumerated() {
                if axes.contains(i) { if keepDims { dims.append(.fixed(1)) } } else { dims.append(d) }
            }
            return Shape(dims)
        }
    }

    static func inferReduce(_ c: OpContext) throws(OpError) -> [InferredOutput] {
        let x = try c.input(0)
        let attrs = try ReduceAttributes(c)
        return [InferredOutput(TensorType(x.dtype, attrs.outputShape(x.shape)))]
    }

    static func inferArg(_ c: OpContext) throws(OpError) -> [InferredOutput] {
        let x = try c.requireType(0, in: TypeSets.numeric)
        let axis = try c.axis(try c.int("axis"), rank: x.rank)
        let keep = try c.int("keepdims") != 0
        var dims = x.shape.dims
        if keep { dims[axis] = .fixed(1) } else { dims.remove(at: axis) }
        return [InferredOutput(TensorType(.int64, Shape(dims)))]
    }
}
