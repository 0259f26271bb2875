import VigilBLAS
import VigilIR
import VigilOps

/// MatMul (numpy semantics: batched, broadcast, 1-D promotion) and Gemm (also serving FusedGemm), on
/// float32: on Vigil's packed GEMM when the CPU has AVX2 + FMA (`PackedLinearAlgebraKernels.swift`),
/// else via BLAS.
enum LinearAlgebraKernels {
    static var builders: [String: KernelBuilder] { ["MatMul": { k in try buildMatMul(k) }, "Gemm": { k in try buildGemm(k, activation: nil) }] }

    /// 2 · (output elements) · K floating-point operations.
    static func counted(_ kernel: Kernel, output: [Int], k: Int) -> Kernel {
        var counted = kernel
        counted.flops = 2 * output.reduce(1, *) * k
        return counted
    }

    static func buildMatMul(_ k: KernelContext) throws(OpError) -> Kernel {
        try k.requireDTypes([.float32])
        var a = k.inputShape(0), b = k.inputShape(1)
        if a.count == 1 { a = [1] + a }
        if b.count == 1 { b = b + [1] }
        let m = a[a.count - 2], kk = a[a.count - 1], n = b[b.count - 1]
        let batchA = Array(a.dropLast(2)), batchB = Array(b.dropLast(2))
        let rank = max(batchA.count, batchB.count)
        let pa = Array(repeating: 1, count: rank - batchA.count) + batchA
        let pb = Array(repeating: 1, count: rank - batchB.count) + batchB
        let batch = zip(pa, pb).map { max($0, $1) }
        let batchCount = batch.reduce(1, *)
        // Offsets (in matrices) of each batch entry in A and B.
        var offsetsA: [Int] = [], offsetsB: [Int] = []
        let stridesA = contiguousStrides(pa), stridesB = contiguousStrides(pb)
        for index in 0..<batchCount {
            var rem = index, oa = 0, ob = 0
            for d in stride(from: rank - 1, through: 0, by: -1) {
                let i = rem % batch[d]
                rem /= batch[d]
                if pa[d] != 1 { oa += i * stridesA[d] }
                if pb[d] != 1 { ob += i * stridesB[d] }
            }
            offsetsA.append(oa)
            offsetsB.append(ob)
        }
        if usePackedGEMM {
            return counted(packedMatMul(k, m: m, n: n, kk: kk, offsetsA: offsetsA, offsetsB: offsetsB), output: k.outputShape(0), k: kk)
        }
        // When B is shared by every batch entry and A is contiguous, fold the batch into M.
        let foldBatch = pb.allSatisfy { $0 == 1 } && offsetsA == Array(0..<batchCount)
        return counted(Kernel { io, _ in
            let x = io.input(0, as: Float.self), w = io.input(1, as: Float.self), y = io.output(0, as: Float.self)
            if foldBatch {
                BLAS.sgemm(m: m * batchCount, n: n, k: kk, a: x, lda: kk, b: w, ldb: n, c: y, ldc: n)
                return
            }
            for i in 0..<batchCount {
                BLAS.sgemm(m: m, n: n, k: kk, a: x + offsetsA[i] * m * kk, lda: kk, b: w + offsetsB[i] * kk * n, ldb: n,
                           c: y + i * m * n, ldc: n)
            }
        }, output: k.outputShape(0), k: kk)
    }

    /// Gemm, or FusedGemm with `activation` applied to the output.
    static func buildGemm(_ k: KernelContext, activation: FusedActivation?) throws(OpError) -> Kernel {
        try k.requireDTypes([.float32])
        let attrs = try LinearAlgebra.GemmAttributes(k.op)
        let a = k.inputShape(0), out = k.outputShape(0)
        let m = out[0], n = out[1]
        let kk = attrs.transA ? a[0] : a[1]
        if usePackedGEMM { return counted(packedGemm(k, attrs: attrs, activation: activation), output: out, k: kk) }
        let hasC = k.op.hasInput(2) && attrs.beta != 0
        let cIndexer = hasC ? BroadcastIndexer(output: out, inputs: [k.inputShape(2)]) : nil
        let epilogue = FusedKernels.Epilogue(activation: activation, residualInput: nil, count: m * n)
        // GEMMs too small for OpenBLAS's threads (a dense layer at batch 1) are split by output columns
        // across the executor's threads, each block a single-threaded GEMM (or GEMV).
        let work = m * n * kk
        let blocks = work < BLAS.parallelThreshold && work >= 1 << 16 ? max(1, min(k.parallelism, n / 32)) : 1
        return counted(Kernel { io, par in
            let x = io.input(0, as: Float.self), w = io.input(1, as: Float.self), y = io.output(0, as: Float.self)
            if let cIndexer {
                broadcastCopy(cIndexer, io.inputs[2]!, io.outputs[0], elementSize: 4)
            }
            if blocks > 1 { BLAS.prepareConcurrentSmallGEMMs() }
            par.forEachTask(blocks) { block, _ in
                let first = n * block / blocks, count = n * (block + 1) / blocks - first
                BLAS.sgemm(transA: attrs.transA, transB: attrs.transB, m: m, n: count, k: kk, alpha: attrs.alpha,
                           a: x, lda: attrs.transA ? m : kk, b: attrs.transB ? w + first * kk : w + first, ldb: attrs.transB ? kk : n,
                           beta: hasC ? attrs.beta : 0, c: y + first, ldc: n)
            }
            epilogue.apply(io, par)
        }, output: out, k: kk)
    }
}
