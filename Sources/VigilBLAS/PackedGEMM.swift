import CVigilKernels

/// Vigil's packed GEMM, `C = act(A·B + bias + residual)`, vectorized along the columns of C
/// (`include/vigil_gemm.h`): constant operands are packed once (``PackedMatrix``), the others per block
/// as the kernel runs. Convolutions use it with A = the weights and B = the columns of the (padded) input,
/// read straight from it; MatMul and Gemm with B = the constant weights.
public enum PackedGEMM {
    /// Rows of an A panel (work is split into whole panels) and columns of a B panel.
    public static let rowPanel = Int(VIGIL_GEMM_MR), columnPanel = Int(VIGIL_GEMM_NR)

    /// Floats of per-thread workspace for a reduction of length `k`.
    public static func workspaceCount(k: Int) -> Int { vigil_gemm_workspace_count(Int64(k)) }

    /// Where the columns of B come from.
    public enum Source: @unchecked Sendable {
        /// Prepacked (columns 0..<n of one image).
        case packed(PackedMatrix)
        /// Element (p, j) of image i at `base[i · imageStride + p · rowStride + j · columnStride]`. Runs of 16
        /// columns are read in place (when `columnStride` is 1) unless `packBlocks`: then each block is packed
        /// first, which is faster when many row panels reuse it and rows are far apart (a weight matrix).
        case strided(UnsafePointer<Float>, rowStride: Int, columnStride: Int, imageStride: Int, packBlocks: Bool = false)
        /// The columns of a 2-D convolution over a padded input (``ConvolutionColumns``).
        case convolution(UnsafePointer<Float>, ConvolutionColumns)
        /// The same columns, packed beforehand by ``packColumns(k:n:b:columnsPerImage:columns:into:)`` (so that
        /// threads that split the rows do not each pack them).
        case packedConvolution(UnsafePointer<Float>, ConvolutionColumns, packed: UnsafePointer<Float>)
    }

    /// Floats that ``packColumns(k:n:b:columnsPerImage:columns:into:)`` fills for a `k × n` operand.
    public static func packedColumnsCount(k: Int, n: Int) -> Int { vigil_gemm_packed_b_count(Int64(k), Int64(n)) }

    /// Packs columns `columns` (starting at a multiple of ``columnPanel``) of B, a `k × n` operand read from a
    /// strided matrix or a convolution's columns, into `packed` (``packedColumnsCount(k:n:)`` floats).
    /// Disjoint column ranges may be packed on different threads.
    public static func packColumns(k: Int, n: Int, b: Source, columnsPerImage: Int, columns: Range<Int>,
                                   into packed: UnsafeMutablePointer<Float>) {
        guard !columns.isEmpty else { return }
        switch b {
        case .packed, .packedConvolution: preconditionFailure("packColumns: B is packed already")
        case .strided, .convolution: break
        }
        var p = vigil_gemm_problem()
        (p.k, p.n, p.cols_per_image) = (Int64(k), Int64(n), Int64(max(1, columnsPerImage)))
        withSource(b, &p) { vigil_gemm_pack_b_columns(&$0, Int64(columns.lowerBound), Int64(columns.upperBound), packed) }
    }

    /// Where the rows of A come from.
    public enum RowSource: @unchecked Sendable {
        case packed(PackedMatrix)
        /// Element (i, p) at `base[i · rowStride + p · columnStride]` times `alpha`, packed per call.
        case strided(UnsafePointer<Float>, rowStride: Int, columnStride: Int, alpha: Float = 1)
    }

    /// Output layout: element (i, j) of image `n` at `c[n · imageStride + i · rowStride + q · columnStride]`,
    /// j = n · columnsPerImage + q. The residual, when given, has the same layout.
    public struct OutputLayout: Sendable {
        public var rowStride: Int, columnStride: Int, imageStride: Int, columnsPerImage: Int
        public init(rowStride: Int, columnStride: Int = 1, imageStride: Int = 0, columnsPerImage: Int) {
            (self.rowStride, self.columnStride, self.imageStride, self.columnsPerImage) = (rowStride, columnStride, imageStride, columnsPerImage)
        }
    }

    /// The epilogue: per-row and per-column biases, a residual laid out like C, an activation, and whether
    /// to add what C already holds.
    public struct Epilogue: @unchecked Sendable {
        public var rowBias: UnsafePointer<Float>?, columnBias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?
        public var activation: VectorActivation
        public var accumulate: Bool
        public init(rowBias: UnsafePointer<Float>? = nil, columnBias: UnsafePointer<Float>? = nil, residual: UnsafePointer<Float>? = nil,
                    activation: VectorActivation = .none, accumulate: Bool = false) {
            (self.rowBias, self.columnBias, self.residual, self.activation, self.accumulate) = (rowBias, columnBias, residual, activation, accumulate)
        }
    }

    /// Computes rows `rows` (starting at a multiple of ``rowPanel``) and columns `columns` (starting at a
    /// multiple of ``columnPanel`` when B is packed) of `C = act(A·B + …)`, an `m × n` product over `k`.
    public static func compute(
        m: Int, n: Int, k: Int, a: RowSource, b: Source, c: UnsafeMutablePointer<Float>, layout: OutputLayout,
        epilogue: Epilogue, rows: Range<Int>, columns: Range<Int>, workspace: UnsafeMutablePointer<Float>
    ) {
        var p = vigil_gemm_problem()
        (p.m, p.n, p.k) = (Int64(m), Int64(n), Int64(k))
        switch a {
        case .packed(let matrix): p.a_packed = UnsafePointer(matrix.storage)
        case .strided(let base, let rs, let cs, let alpha): (p.a, p.a_rs, p.a_cs, p.a_alpha) = (base, Int64(rs), Int64(cs), alpha)
        }
        (p.c, p.c_rs, p.c_cs, p.c_image, p.cols_per_image) = (c, Int64(layout.rowStride), Int64(layout.columnStride),
                                                              Int64(layout.imageStride), Int64(max(1, layout.columnsPerImage)))
        p.accumulate = epilogue.accumulate ? 1 : 0
        (p.bias_rows, p.bias_cols, p.residual) = (epilogue.rowBias, epilogue.columnBias, epilogue.residual)
        p.act = epilogue.activation.cValue
        withSource(b, &p) {
            vigil_gemm_compute(&$0, Int64(columns.lowerBound), Int64(columns.upperBound), Int64(rows.lowerBound), Int64(rows.upperBound), workspace)
        }
    }

    /// Calls `body` with `p`'s B fields set from `b` (a convolution's geometry passed by pointer, valid
    /// during the call).
    private static func withSource(_ b: Source, _ p: inout vigil_gemm_problem, _ body: (inout vigil_gemm_problem) -> Void) {
        switch b {
        case .packed(let matrix):
            p.b_packed = UnsafePointer(matrix.storage)
            body(&p)
        case .strided(let base, let rs, let cs, let image, let packBlocks):
            (p.b, p.b_rs, p.b_cs, p.b_image, p.b_always_pack) = (base, Int64(rs), Int64(cs), Int64(image), packBlocks ? 1 : 0)
            body(&p)
        case .convolution(let base, let columnsSource), .packedConvolution(let base, let columnsSource, _):
            p.b = base
            if case .packedConvolution(_, _, let packed) = b { p.b_packed = packed }
            withExtendedLifetime(columnsSource) {
                var conv = columnsSource.cValue
                withUnsafePointer(to: &conv) { pointer in
                    p.conv = pointer
                    body(&p)
                }
            }
        }
    }
}

/// A constant GEMM operand packed once: as A (rows in panels of 6) or as B (columns in panels of 16).
public final class PackedMatrix: @unchecked Sendable {
    public let rows: Int, columns: Int
    let storage: UnsafeMutablePointer<Float>

    /// Packs an `m × k` left operand, element (i, p) at `base[i · rowStride + p · columnStride]`, times `alpha`.
    public init(left base: UnsafePointer<Float>, m: Int, k: Int, rowStride: Int, columnStride: Int = 1, alpha: Float = 1) {
        (rows, columns) = (m, k)
        storage = .allocate(capacity: max(1, vigil_gemm_packed_a_count(Int64(m), Int64(k))))
        vigil_gemm_pack_a(base, Int64(rowStride), Int64(columnStride), Int64(m), Int64(k), alpha, storage)
    }

    /// Packs a `k × n` right operand, element (p, j) at `base[p · rowStride + j · columnStride]`, times `alpha`.
    public init(right base: UnsafePointer<Float>, k: Int, n: Int, rowStride: Int, columnStride: Int = 1, alpha: Float = 1) {
        (rows, columns) = (k, n)
        storage = .allocate(capacity: max(1, vigil_gemm_packed_b_count(Int64(k), Int64(n))))
        vigil_gemm_pack_b(base, Int64(rowStride), Int64(columnStride), Int64(k), Int64(n), alpha, storage)
    }

    deinit { storage.deallocate() }
}

/// The columns of a 2-D convolution as a GEMM operand: row p = (channel, kh, kw) of one group, column =
/// (image, output pixel), read from a padded input whose planes are `paddedWidth` wide and
/// `channelStride` apart.
public final class ConvolutionColumns: @unchecked Sendable {
    let rowOffsets: UnsafeMutablePointer<Int64>
    let reduction: Int
    let paddedWidth: Int, imageStride: Int, outputWidth: Int, strides: (Int, Int)

    public init(channels: Int, kernel: (height: Int, width: Int), dilations: (height: Int, width: Int), paddedWidth: Int,
                channelStride: Int, imageStride: Int, outputWidth: Int, strides: (height: Int, width: Int)) {
        reduction = channels * kernel.height * kernel.width
        rowOffsets = .allocate(capacity: max(1, reduction))
        var row = 0
        for c in 0..<channels {
            for kh in 0..<kernel.height {
                for kw in 0..<kernel.width {
                    rowOffsets[row] = Int64(c * channelStride + kh * dilations.height * paddedWidth + kw * dilations.width)
                    row += 1
                }
            }
        }
        (self.paddedWidth, self.imageStride, self.outputWidth, self.strides) = (paddedWidth, imageStride, outputWidth, (strides.height, strides.width))
    }

    deinit { rowOffsets.deallocate() }

    var cValue: vigil_gemm_conv {
        vigil_gemm_conv(row_offsets: UnsafePointer(rowOffsets), in_w: Int64(paddedWidth), in_image_stride: Int64(imageStride),
                        out_w: Int64(outputWidth), stride_h: Int64(strides.0), stride_w: Int64(strides.1))
    }
}
