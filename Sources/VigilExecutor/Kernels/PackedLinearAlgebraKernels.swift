import VigilBLAS
import VigilIR
import VigilOps

/// MatMul and Gemm on Vigil's packed GEMM (`PackedGEMM`), on CPUs with AVX2 + FMA: right operands are
/// packed block by block as the kernel runs (constant transposed weights once, when the plan is built),
/// and so are the rows of the left operand. Gemm's C becomes a per-column or per-row bias of the epilogue (or is copied into the
/// output first, scaled by beta, when it has another shape), and FusedGemm's activation runs in the
/// epilogue. Work is cut into row panels and column panels across the executor's threads.
extension LinearAlgebraKernels {
    /// Whether MatMul and Gemm use the packed GEMM (tests turn it off to check the OpenBLAS path).
    nonisolated(unsafe) static var usePackedGEMM = VectorActivation.isAvailable

    /// How an m × n product over k is cut into tasks: whole row panels (6 rows) by whole column panels (16
    /// columns), one, two or four tasks per thread. Each task packs the rows of A it covers once per column
    /// block of the kernel (384 columns), so cutting the columns into c chunks packs A c times; and each
    /// task reads (or, when `packsRight`, packs) the whole of B's columns it covers, so cutting the rows into
    /// r chunks reads B r times. The grid is the one with the least of that repeated work, counted against
    /// the products (a packed float costs about 60 multiply-adds; a prepacked weight read again from the
    /// cache a sixth of a packed float), with a small premium on fewer tasks (a thread slowed by other work
    /// holds the rest up). ConvNeXt's 196 × 384 products over 1,536 cut into 8 column chunks packed their
    /// 1.2 MB of rows 8 times and ran no faster on 2 threads than on one; ViT's MLP cut by rows streamed all
    /// the weights in every task (1.7× the CPU time of one thread).
    struct GEMMGrid {
        let m: Int, n: Int, rowChunks: Int, columnChunks: Int

        init(m: Int, n: Int, k: Int = 1, threads: Int, packsRight: Bool = true) {
            (self.m, self.n) = (m, n)
            let rowPanels = (m + PackedGEMM.rowPanel - 1) / PackedGEMM.rowPanel
            let columnPanels = (n + PackedGEMM.columnPanel - 1) / PackedGEMM.columnPanel
            guard threads > 1 else { (rowChunks, columnChunks) = (1, 1); return }
            let columnBlock = 384
            let products = Double(m) * Double(n) * Double(k) / 60
            let rightWeight = packsRight ? 1.0 : 1.0 / 6
            var best: (cost: Double, rows: Int, columns: Int)?
            for tasks in [threads, 2 * threads, 4 * threads] {
                for rows in 1...min(rowPanels, tasks) where tasks % rows == 0 && tasks / rows <= columnPanels {
                    let columns = tasks / rows
                    let widest = (columnPanels + columns - 1) / columns * PackedGEMM.columnPanel
                    let leftPacks = Double(columns * ((widest + columnBlock - 1) / columnBlock))
                    let work = products + leftPacks * Double(m) * Double(k) + Double(rows) * rightWeight * Double(n) * Double(k)
                    let cost = work * (1 + 0.15 * Double(threads) / Double(tasks))
                    if best == nil || cost < best!.cost { best = (cost, rows, columns) }
                }
            }
            if let best {
                (rowChunks, columnChunks) = (best.rows, best.columns)
            } else if n >= m {
                // Too few panels for a task per thread: as many as there are.
                let columns = min(columnPanels, 4 * threads)
                (rowChunks, columnChunks) = (min(rowPanels, max(1, (4 * threads + columns - 1) / columns)), columns)
            } else {
                let rows = min(rowPanels, 4 * threads)
                (rowChunks, columnChunks) = (rows, min(columnPanels, max(1, (4 * threads + rows - 1) / rows)))
            }
        }

        var count: Int { rowChunks * columnChunks }

        subscript(t: Int) -> (rows: Range<Int>, columns: Range<Int>) {
            let (r, c) = (t / columnChunks, t % columnChunks)
            let rowPanels = (m + PackedGEMM.rowPanel - 1) / PackedGEMM.rowPanel
            let columnPanels = (n + PackedGEMM.columnPanel - 1) / PackedGEMM.columnPanel
            let rows = min(m, rowPanels * r / rowChunks * PackedGEMM.rowPanel)..<min(m, rowPanels * (r + 1) / rowChunks * PackedGEMM.rowPanel)
            let columns = min(n, columnPanels * c / columnChunks * PackedGEMM.columnPanel)
                ..< min(n, columnPanels * (c + 1) / columnChunks * PackedGEMM.columnPanel)
            return (rows, columns)
        }
    }

    /// numpy MatMul over `batch` products of m × k by k × n (A entries `offsetsA`, B entries `offsetsB`, in
    /// matrices); a B shared by every entry with a contiguous A folds the entries into the rows. B is read
    /// where it is, packed block by block as the kernel runs (no second copy of the weights); with at most
    /// four rows its runs are read in place.
    static func packedMatMul(_ k: KernelContext, m: Int, n: Int, kk: Int, offsetsA: [Int], offsetsB: [Int]) -> Kernel {
        let batch = offsetsA.count
        let sharedB = offsetsB.allSatisfy { $0 == 0 }, contiguousA = offsetsA == Array(0..<batch)
        let fold = sharedB && contiguousA
        let (rows, products) = fold ? (batch * m, 1) : (m, batch)
        let packBlocks = rows > 4
        let grid = GEMMGrid(m: rows, n: n, k: kk, threads: k.parallelism, packsRight: packBlocks)
        let workspace = PackedGEMM.workspaceCount(k: kk), slots = min(k.parallelism, grid.count * products)
        return Kernel(scratchBytes: slots * workspace * 4) { io, par in
            let x = io.input(0, as: Float.self), w = io.input(1, as: Float.self), y = io.output(0, as: Float.self)
            let scratch = io.scratch!.assumingMemoryBound(to: Float.self)
            par.forEachTask(products * grid.count) { task, slot in
                let (product, part) = (task / grid.count, task % grid.count)
                let (rowRange, columnRange) = grid[part]
                guard !rowRange.isEmpty, !columnRange.isEmpty else { return }
                let right = PackedGEMM.Source.strided(w + offsetsB[product] * kk * n, rowStride: n, columnStride: 1, imageStride: 0,
                                                      packBlocks: packBlocks)
                PackedGEMM.compute(
                    m: rows, n: n, k: kk, a: .strided(x + offsetsA[product] * m * kk, rowStride: kk, columnStride: 1), b: right,
                    c: y + product * m * n, layout: .init(rowStride: n, columnsPerImage: n), epilogue: .init(), rows: rowRange,
                    columns: columnRange, workspace: scratch + slot * workspace)
            }
        }
    }

    /// Gemm (or FusedGemm with `activation`) on the packed GEMM.
    static func packedGemm(_ k: KernelContext, attrs: LinearAlgebra.GemmAttributes, activation: FusedActivation?) -> Kernel {
        let out = k.outputShape(0), (m, n) = (out[0], out[1])
        let kk = attrs.transA ? k.inputShape(0)[0] : k.inputShape(0)[1]
        let (bRows, bColumns) = attrs.transB ? (1, kk) : (n, 1)
        // Constant weights stored transposed (a Linear layer's [n, k]) are packed once; others are read where
        // they are, as MatMul's.
        let packedB = attrs.transB
            ? k.withConstantFloats(1) { PackedMatrix(right: $0, k: kk, n: n, rowStride: bRows, columnStride: bColumns, alpha: attrs.alpha) } : nil
        let bias = GemmBias(k, attrs: attrs, m: m, n: n)
        var inKernel = VectorActivation.none
        var after = activation
        if let vector = VectorActivation(activation?.vectorForm) { (inKernel, after) = (vector, nil) }
        let epilogue = FusedKernels.Epilogue(activation: after, residualInput: nil, count: m * n)
        let grid = GEMMGrid(m: m, n: n, k: kk, threads: k.parallelism, packsRight: packedB == nil && m > 4)
        let workspace = PackedGEMM.workspaceCount(k: kk), slots = min(k.parallelism, grid.count)
        return Kernel(scratchBytes: (slots * workspace + bias.scratchFloats) * 4) { io, par in
            let x = io.input(0, as: Float.self), w = io.input(1, as: Float.self), y = io.output(0, as: Float.self)
            let scratch = io.scratch!.assumingMemoryBound(to: Float.self)
            let terms = bias.prepare(io, y: y, scratch: scratch + slots * workspace)
            let left = PackedGEMM.RowSource.strided(x, rowStride: attrs.transA ? 1 : kk, columnStride: attrs.transA ? m : 1,
                                                    alpha: packedB == nil ? attrs.alpha : 1)
            let right: PackedGEMM.Source = packedB.map { .packed($0) }
                ?? .strided(w, rowStride: bRows, columnStride: bColumns, imageStride: 0, packBlocks: m > 4)
            let epilogueTerms = PackedGEMM.Epilogue(rowBias: terms.rows, columnBias: terms.columns, activation: inKernel, accumulate: terms.accumulate)
            par.forEachTask(grid.count) { task, slot in
                let (rowRange, columnRange) = grid[task]
                guard !rowRange.isEmpty, !columnRange.isEmpty else { return }
                PackedGEMM.compute(m: m, n: n, k: kk, a: left, b: right, c: y, layout: .init(rowStride: n, columnsPerImage: n),
                                   epilogue: epilogueTerms, rows: rowRange, columns: columnRange, workspace: scratch + slot * workspace)
            }
            epilogue.apply(io, par)
        }
    }

    /// How Gemm's `beta · C` enters the packed GEMM: as a per-column bias (C of n elements), a per-row bias
    /// (C of shape [m, 1]), or copied into the output before the product is added to it (any other shape).
    struct GemmBias {
        enum Form { case none, columns, rows, copied }
        let form: Form, beta: Float, count: Int
        let indexer: BroadcastIndexer?

        init(_ k: KernelContext, attrs: LinearAlgebra.GemmAttributes, m: Int, n: Int) {
            beta = attrs.beta
            guard k.op.hasInput(2), attrs.beta != 0 else { (form, count, indexer) = (.none, 0, nil); return }
            let c = k.inputShape(2)
            let elements = c.reduce(1, *)
            if elements == n && c.last == n && n > 1 || (elements == 1 && n == 1) {
                (form, count, indexer) = (.columns, n, nil)
            } else if c == [m, 1] && m > 1 {
                (form, count, indexer) = (.rows, m, nil)
            } else {
                (form, count, indexer) = (.copied, m * n, BroadcastIndexer(output: [m, n], inputs: [c]))
            }
        }

        /// Floats of scratch the bias needs (a scaled copy when beta is not 1).
        var scratchFloats: Int { (form == .columns || form == .rows) && beta != 1 ? count : 0 }

        /// The epilogue's biases for one run (filling the output first for `.copied`).
        func prepare(_ io: KernelIO, y: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>)
            -> (rows: UnsafePointer<Float>?, columns: UnsafePointer<Float>?, accumulate: Bool)
        {
            switch form {
            case .none: return (nil, nil, false)
            case .copied:
                broadcastCopy(indexer!, io.inputs[2]!, io.outputs[0], elementSize: 4)
                if beta != 1 { for i in 0..<count { y[i] *= beta } }
                return (nil, nil, true)
            case .columns, .rows:
                var values = io.input(2, as: Float.self)
                if beta != 1 {
                    for i in 0..<count { scratch[i] = beta * values[i] }
                    values = UnsafePointer(scratch)
                }
                return form == .rows ? (values, nil, false) : (nil, values, false)
            }
        }
    }
}
