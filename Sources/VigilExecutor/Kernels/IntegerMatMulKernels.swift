import VigilBLAS
import VigilIR
import VigilOps

/// QLinearMatMul, MatMulInteger and QMatMul: numpy matmul semantics (batched, broadcast, 1-D
/// promotion); a b shared by every batch entry (a weight matrix) makes one GEMM over all of a's rows.
extension IntegerKernels {
    /// A matmul's sizes and its batch entries (offsets in matrices).
    struct MatMulSetup {
        let m: Int, k: Int, n: Int, transB: Bool
        let offsetsA: [Int], offsetsB: [Int]
        /// Distinct b matrices (packed once each).
        let bMatrices: Int
        let aSigned: Bool, bSigned: Bool, output: OutputKind
        /// Rows of one GEMM: every row of a when b is shared, else m per batch entry.
        var rowsPerGEMM: Int { bMatrices == 1 && offsetsA == Array(0..<offsetsA.count) ? offsetsA.count * m : m }
        var gemms: Int { rowsPerGEMM == m ? offsetsA.count : 1 }
    }

    static func matMulSetup(_ k: KernelContext, _ o: QuantizedOperands) throws(OpError) -> MatMulSetup {
        var a = k.inputShape(o.a), b = k.inputShape(o.b)
        let transB = o.isFused ? try k.op.int("transB") != 0 : false
        if a.count == 1 { a = [1] + a }
        if b.count == 1 { b = b + [1] }
        let batchA = Array(a.dropLast(2)), batchB = Array(b.dropLast(2))
        let rank = max(batchA.count, batchB.count)
        let pa = Array(repeating: 1, count: rank - batchA.count) + batchA, pb = Array(repeating: 1, count: rank - batchB.count) + batchB
        let batch = zip(pa, pb).map { max($0, $1) }
        let stridesA = contiguousStrides(pa), stridesB = contiguousStrides(pb)
        var offsetsA: [Int] = [], offsetsB: [Int] = []
        for index in 0..<batch.reduce(1, *) {
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
        return MatMulSetup(m: a[a.count - 2], k: a[a.count - 1], n: transB ? b[0] : b[b.count - 1], transB: transB, offsetsA: offsetsA,
                           offsetsB: offsetsB, bMatrices: pb.reduce(1, *), aSigned: k.inputDType(o.a) == .int8,
                           bSigned: k.inputDType(o.b) == .int8, output: OutputKind(k.outputTypes[0].dtype))
    }

    /// Packed weights and epilogues, one per distinct b matrix.
    final class MatMulEngine: @unchecked Sendable {
        let packed: [Int8PackedWeights]
        let epilogues: [Int8Epilogue]
        let aZero: Int32
        let aZeroRows: [Int32]?

        init(packed: [Int8PackedWeights], epilogues: [Int8Epilogue], aZero: Int32, aZeroRows: [Int32]?) {
            (self.packed, self.epilogues, self.aZero, self.aZeroRows) = (packed, epilogues, aZero, aZeroRows)
        }
    }

    static func matMulEngine(_ s: MatMulSetup, _ p: Parameters, b: UnsafeRawPointer, activation: PiecewiseLinear?) -> MatMulEngine {
        var packed: [Int8PackedWeights] = [], epilogues: [Int8Epilogue] = []
        // Per-row zero points of a are subtracted while packing, which only the portable variant does.
        let portable = p.aZeroRows != nil
        for i in 0..<s.bMatrices {
            let matrix = b + i * s.k * s.n
            let w = pack(matrix, signed: s.bSigned, rows: 0..<s.n, k: s.k, zeros: p.bZeros, transposedColumns: s.transB ? nil : s.n,
                         portable: portable)
            packed.append(w)
            let shift = portable ? 0 : w.activationShift(isSigned: s.aSigned, zeroPoint: p.aZero)
            epilogues.append(epilogue(p, range: 0..<s.n, rowSums: w.rowSums, shift: shift, output: s.output, activation: activation))
        }
        return MatMulEngine(packed: packed, epilogues: epilogues, aZero: p.aZero, aZeroRows: p.aZeroRows)
    }

    static func buildMatMul(_ k: KernelContext, _ o: QuantizedOperands) throws(OpError) -> Kernel {
        let s = try matMulSetup(k, o)
        let activation = try activation(k, o)
        let op = k.op
        var prepared: MatMulEngine?
        if let p = parameters(o, op, channels: s.n, read: constantReader(op)), let b = op.value(o.b)?.buffer {
            prepared = withExtendedLifetime(b) { matMulEngine(s, p, b: b.baseAddress, activation: activation) }
        }
        let panels = (s.n + Int8PackedWeights.panelRows - 1) / Int8PackedWeights.panelRows
        let split = ConvolutionKernels.TaskGrid(pixels: s.rowsPerGEMM, panels: panels, threads: k.parallelism)
        let slots = min(k.parallelism, max(split.count, 1))
        let slotBytes = (blockBytesForAnyVariant(reduction: s.k) + Int8PackedWeights.pixelBlock * 8 + 63) / 64 * 64
        return Kernel(scratchBytes: slots * slotBytes) { io, par throws(OpError) in
            let engine: MatMulEngine
            if let prepared {
                engine = prepared
            } else {
                guard let p = parameters(o, op, channels: s.n, read: runReader(io, op)) else { throw op.error("cannot read the quantization parameters") }
                engine = matMulEngine(s, p, b: io.inputs[o.b]!, activation: activation)
            }
            let elementSize = s.output == .int32 || s.output == .float ? 4 : 1
            let layout = Int8OutputLayout(pixelsPerImage: s.rowsPerGEMM, imageStride: 0, pixelStride: s.n, channelStride: 1)
            for g in 0..<s.gemms {
                let a = io.input(o.a, as: UInt8.self) + s.offsetsA[g] * s.m * s.k
                let bIndex = s.bMatrices == 1 ? 0 : s.offsetsB[g]
                let y = io.outputs[0] + g * s.rowsPerGEMM * s.n * elementSize
                par.forEachTask(split.count) { t, slot in
                    runMatMulTask(s, engine, a: a, weights: engine.packed[bIndex], epilogue: engine.epilogues[bIndex], y: y, layout: layout,
                                  task: split[t], block: io.scratch! + slot * slotBytes, slotBytes: slotBytes)
                }
            }
        }
    }

    /// One task of a matmul: its rows, 96 at a time (one at a time with per-row zero points of a).
    static func runMatMulTask(_ s: MatMulSetup, _ engine: MatMulEngine, a: UnsafePointer<UInt8>, weights: Int8PackedWeights, epilogue: Int8Epilogue,
                              y: UnsafeMutableRawPointer, layout: Int8OutputLayout, task: (pixels: Range<Int>, panels: Range<Int>),
                              block: UnsafeMutableRawPointer, slotBytes: Int) {
        guard !task.pixels.isEmpty, !task.panels.isEmpty else { return }
        let offsets = (block + slotBytes - Int8PackedWeights.pixelBlock * 8).assumingMemoryBound(to: Int64.self)
        var first = task.pixels.lowerBound
        while first < task.pixels.upperBound {
            var count = min(Int8PackedWeights.pixelBlock, task.pixels.upperBound - first)
            var zero = engine.aZero
            if let rows = engine.aZeroRows {
                count = 1
                zero = rows[first % s.m]
            }
            for j in 0..<count { offsets[j] = Int64((first + j) * s.k) }
            weights.pack(Int8Source(data: a, isSigned: s.aSigned, zeroPoint: zero), pixelOffsets: offsets, count: count, into: block)
            weights.compute(block: block, firstPixel: first, count: count, panels: task.panels, epilogue: epilogue, output: y, layout: layout)
            first += count
        }
    }
}
