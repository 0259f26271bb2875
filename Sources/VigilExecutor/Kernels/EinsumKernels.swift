import VigilBLAS
import VigilIR
import VigilOps

/// Einsum. Two float32 operands whose labels split into batch, row, column and contracted labels
/// (the matmul-like contractions exporters write: `bhqd,bhkd->bhqk`, `bij,bjk->bik`, …) run as
/// permutes and one GEMM per batch; everything else (diagonals, broadcasting, one or three operands,
/// labels summed within one operand) runs the definition: a sum over the summed labels for each
/// output element.
enum EinsumKernels {
    static var builders: [String: KernelBuilder] { ["Einsum": { k in try buildEinsum(k) }] }

    static func buildEinsum(_ k: KernelContext) throws(OpError) -> Kernel {
        let shapes = k.node.inputs.indices.map { k.inputShape($0) }
        let equation = try Einsum.Equation(try k.op.string("equation"), ranks: shapes.map(\.count)) { k.error($0, subject: "equation") }
        var sizes: [Int: Int] = [:]
        for (labels, shape) in zip(equation.inputs, shapes) { for (l, d) in zip(labels, shape) { sizes[l] = max(sizes[l] ?? 1, d) } }
        if k.inputDType(0) == .float32, let plan = GEMMPlan(equation, shapes: shapes, sizes: sizes) { return plan.kernel() }
        switch k.inputDType(0) {
        case .float32: return definition(equation, shapes: shapes, sizes: sizes, Float.self)
        case .float64: return definition(equation, shapes: shapes, sizes: sizes, Double.self)
        case .int32: return definition(equation, shapes: shapes, sizes: sizes, Int32.self)
        case .int64: return definition(equation, shapes: shapes, sizes: sizes, Int64.self)
        case let other: throw k.error("the CPU kernel does not support \(other)", subject: k.op.inputLabel(0))
        }
    }

    /// The sum over the summed labels for every output element, with per-label strides (0 for a
    /// broadcast axis; a label repeated within an operand adds its axes' strides: a diagonal).
    static func definition<T: Numeric>(_ e: Einsum.Equation, shapes: [[Int]], sizes: [Int: Int], _: T.Type) -> Kernel {
        let labels = e.output + e.summed
        let extents = labels.map { sizes[$0]! }
        let strides: [[Int]] = zip(e.inputs, shapes).map { inputLabels, shape in
            let axisStrides = contiguousStrides(shape)
            return labels.map { label in
                var stride = 0
                for (axis, l) in inputLabels.enumerated() where l == label && shape[axis] > 1 { stride += axisStrides[axis] }
                return stride
            }
        }
        let outputAxes = e.output.count
        let outputCount = e.output.map { sizes[$0]! }.reduce(1, *), summedCount = e.summed.map { sizes[$0]! }.reduce(1, *)
        let operands = shapes.count
        return Kernel { io, _ in
            let y = io.output(0, as: T.self)
            let inputs = (0..<operands).map { io.input($0, as: T.self) }
            var index = [Int](repeating: 0, count: labels.count)
            var base = [Int](repeating: 0, count: operands)
            for o in 0..<outputCount {
                var sum = T.zero
                var offsets = base
                for _ in 0..<summedCount {
                    var product = T(exactly: 1)!
                    for i in 0..<operands { product *= inputs[i][offsets[i]] }
                    sum += product
                    advance(&index, &offsets, axes: outputAxes..<labels.count, extents: extents, strides: strides)
                }
                y[o] = sum
                advance(&index, &base, axes: 0..<outputAxes, extents: extents, strides: strides)
            }
        }
    }

    /// Advances the odometer over `axes` (the last fastest), keeping each operand's offset in step;
    /// after its last position it wraps to all zeros (and the offsets to where they started).
    static func advance(_ index: inout [Int], _ offsets: inout [Int], axes: Range<Int>, extents: [Int], strides: [[Int]]) {
        for axis in axes.reversed() {
            index[axis] += 1
            for i in offsets.indices { offsets[i] += strides[i][axis] }
            if index[axis] < extents[axis] { return }
            for i in offsets.indices { offsets[i] -= strides[i][axis] * extents[axis] }
            index[axis] = 0
        }
    }
}

/// A two-operand contraction as GEMMs: A permuted to [batch, m, k], B to [batch, k, n], one GEMM per
/// batch into [batch, m, n], permuted to the output's order.
struct GEMMPlan {
    let permA: [Int], permB: [Int], permC: [Int]
    let shapeA: [Int], shapeB: [Int], shapeC: [Int]
    let batch: Int, m: Int, n: Int, k: Int

    init?(_ e: Einsum.Equation, shapes: [[Int]], sizes: [Int: Int]) {
        guard e.inputs.count == 2 else { return nil }
        let (a, b) = (e.inputs[0], e.inputs[1])
        guard Set(a).count == a.count, Set(b).count == b.count else { return nil }
        // No broadcasting: every axis has its label's full size.
        for (labels, shape) in zip(e.inputs, shapes) where zip(labels, shape).contains(where: { sizes[$0.0] != $0.1 }) { return nil }
        let out = Set(e.output), inA = Set(a), inB = Set(b)
        let batchLabels = e.output.filter { inA.contains($0) && inB.contains($0) }
        let mLabels = e.output.filter { inA.contains($0) && !inB.contains($0) }
        let nLabels = e.output.filter { inB.contains($0) && !inA.contains($0) }
        let kLabels = a.filter { inB.contains($0) && !out.contains($0) }
        // A label summed within one operand only would need a reduction first.
        guard a.allSatisfy({ out.contains($0) || inB.contains($0) }), b.allSatisfy({ out.contains($0) || inA.contains($0) }) else { return nil }
        let size = { (labels: [Int]) in labels.map { sizes[$0]! }.reduce(1, *) }
        (batch, m, n, k) = (size(batchLabels), size(mLabels), size(nLabels), size(kLabels))
        permA = (batchLabels + mLabels + kLabels).map { a.firstIndex(of: $0)! }
        permB = (batchLabels + kLabels + nLabels).map { b.firstIndex(of: $0)! }
        let produced = batchLabels + mLabels + nLabels
        permC = e.output.map { produced.firstIndex(of: $0)! }
        (shapeA, shapeB) = (shapes[0], shapes[1])
        shapeC = produced.map { sizes[$0]! }
    }

    func kernel() -> Kernel {
        let (a, b, c) = (batch * m * k, batch * k * n, batch * m * n)
        let identityA = permA == Array(permA.indices), identityB = permB == Array(permB.indices), identityC = permC == Array(permC.indices)
        return Kernel(scratchBytes: (a + b + c) * 4) { io, _ in
            let scratch = io.scratch!.assumingMemoryBound(to: Float.self)
            var pa = io.input(0, as: Float.self), pb = io.input(1, as: Float.self)
            if !identityA { ShapeKernels.permute(io.inputs[0]!, UnsafeMutableRawPointer(scratch), shape: shapeA, perm: permA, elementSize: 4); pa = UnsafePointer(scratch) }
            if !identityB { ShapeKernels.permute(io.inputs[1]!, UnsafeMutableRawPointer(scratch + a), shape: shapeB, perm: permB, elementSize: 4); pb = UnsafePointer(scratch + a) }
            let pc = identityC ? io.output(0, as: Float.self) : scratch + a + b
            for i in 0..<batch {
                BLAS.sgemm(m: m, n: n, k: k, a: pa + i * m * k, lda: k, b: pb + i * k * n, ldb: n, c: pc + i * m * n, ldc: n)
            }
            if !identityC { ShapeKernels.permute(UnsafeRawPointer(pc), io.outputs[0], shape: shapeC, perm: permC, elementSize: 4) }
        }
    }
}
