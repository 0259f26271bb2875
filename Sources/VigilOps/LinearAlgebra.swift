import VigilIR

/// MatMul (numpy semantics, batched and broadcast) and Gemm.
public enum LinearAlgebra {
    static var descriptors: [OpDescriptor] { [OpDescriptor("MatMul", inputs: 2...2, since: 1, infer: inferMatMul), gemm] }

    static let gemm = OpDescriptor(
        "Gemm", inputs: 2...3, since: 7,
        attributes: [.float("alpha", 1), .float("beta", 1), .int("transA", 0), .int("transB", 0)], infer: inferGemm)

    /// The output shape of a numpy matmul of `a` and `b`, with a located error on mismatch.
    public static func matMulShape(_ c: OpContext, _ a: Shape, _ b: Shape) throws(OpError) -> Shape {
        guard a.rank >= 1, b.rank >= 1 else { throw c.error("MatMul inputs must have rank ≥ 1, got \(a) and \(b)") }
        let a2 = a.rank == 1 ? Shape([.fixed(1)] + a.dims) : a
        let b2 = b.rank == 1 ? Shape(b.dims + [.fixed(1)]) : b
        let k1 = a2.dims[a2.rank - 1], k2 = b2.dims[b2.rank - 2]
        if let x = k1.value, let y = k2.value, x != y {
            throw c.error("inner dimensions differ: \(a) × \(b) (\(x) vs \(y))")
        }
        let batchA = Shape(Array(a2.dims.dropLast(2))), batchB = Shape(Array(b2.dims.dropLast(2)))
        guard case .success(let batch) = broadcastShapes([batchA, batchB]) else {
            throw c.error("batch dimensions cannot broadcast: \(a) × \(b)")
        }
        var dims = batch.dims
        if a.rank != 1 { dims.append(a2.dims[a2.rank - 2]) }
        if b.rank != 1 { dims.append(b2.dims[b2.rank - 1]) }
        return Shape(dims)
    }

    static func inferMatMul(_ c: OpContext) throws(OpError) -> [InferredOutput] {
        let a = try c.requireType(0, in: TypeSets.numeric)
        let b = try c.requireType(1, in: TypeSets.numeric)
        _ = try c.sameType([0, 1])
        return [InferredOutput(TensorType(a.dtype, try matMulShape(c, a.shape, b.shape)))]
    }

    /// Parsed Gemm attributes.
    public struct GemmAttributes: Sendable {
        public var alpha: Float
        public var beta: Float
        public var transA: Bool
        public var transB: Bool

        public init(_ c: OpContext) throws(OpError) {
            alpha = try c.float("alpha")
            beta = try c.float("beta")
            transA = try c.int("transA") != 0
            transB = try c.int("transB") != 0
        }
    }

    static func inferGemm(_ c: OpContext) throws(OpError) -> [InferredOutput] {
        let a = try c.requireRank(0, 2...2)
        let b = try c.requireRank(1, 2...2)
        let dtype = try c.sameType([0, 1, 2])
        guard TypeSets.numeric.contains(dtype) else { throw c.error("unsupported type \(dtype)") }
        let attrs = try GemmAttributes(c)
        let m = attrs.transA ? a.shape.dims[1] : a.shape.dims[0]
        let k1 = attrs.transA ? a.shape.dims[0] : a.shape.dims[1]
        let k2 = attrs.transB ? b.shape.dims[1] : b.shape.dims[0]
        let n = attrs.transB ? b.shape.dims[0] : b.shape.dims[1]
        if let x = k1.value, let y = k2.value, x != y {
            throw c.error("inner dimensions differ: A \(a.shape)\(attrs.transA ? "ᵀ" : "") × B \(b.shape)\(attrs.transB ? "ᵀ" : "") (\(x) vs \(y))")
        }
        let output = Shape([m, n])
        if c.hasInput(2) {
            let cType = try c.input(2)
            guard cType.rank <= 2, case .success(let merged) = broadcastShapes([cType.shape, output]),
                  merged.rank == 2, broadcastDims(merged.dims[0], m) == m || m.value == nil,
                  broadcastDims(merged.dims[1], n) == n || n.value == nil
            else {
                throw c.error("C \(cType.shape) cannot broadcast to [M, N] = \(output)", subject: c.inputLabel(2))
            }
        }
        return [InferredOutput(TensorType(dtype, output))]
    }
}
