import CVigilKernels

/// Vectorized elementwise arithmetic and reductions over contiguous runs (`include/vigil_elementwise.h`).
public enum VectorMath {
    public enum BinaryOp: Int32, Sendable {
        case add = 0, subtract, multiply, divide, max, min
    }

    /// `y[i] = a[i · aStep] op b[i · bStep]` for `count` elements, each step 0 (a broadcast scalar) or 1.
    /// `y` may be `a` or `b`. Max and Min return NaN when either operand is NaN.
    public static func binary(_ op: BinaryOp, _ a: UnsafePointer<Float>, aStep: Int, _ b: UnsafePointer<Float>, bStep: Int,
                              _ y: UnsafeMutablePointer<Float>, count: Int) {
        vigil_binary(op.rawValue, a, Int64(aStep), b, Int64(bStep), y, Int64(count))
    }

    /// `y[r] = scale · Σ x[r·n ..< r·n + n]` for `rows` runs.
    public static func rowSums(_ x: UnsafePointer<Float>, rows: Int, length n: Int, scale: Float, _ y: UnsafeMutablePointer<Float>) {
        vigil_row_reduce(x, Int64(rows), Int64(n), 0, scale, y)
    }

    /// Softmax (or log-softmax) of each of `rows` contiguous runs of `length` floats; `y` may be `x`.
    public static func softmaxRows(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, rows: Int, length: Int, log: Bool) {
        vigil_softmax_rows(x, y, Int64(rows), Int64(length), log ? 1 : 0)
    }

    /// `y = x · scale[c] + shift[c]` (one fused multiply-add per value) over `planes` of `size` floats, plane p
    /// being channel `p % channels`; `y` may be `x`.
    public static func scaleShiftPlanes(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, planes: Range<Int>, size: Int,
                                        channels: Int, scale: UnsafePointer<Float>, shift: UnsafePointer<Float>) {
        vigil_scale_shift_planes(x, y, Int64(planes.lowerBound), Int64(planes.upperBound), Int64(size), Int64(channels), scale, shift)
    }

    /// Layer normalization of `rows` contiguous runs of `length` floats with per-element `scale` and `bias`,
    /// writing each run's mean and 1/σ when asked; `y` may be `x`.
    public static func layerNormRows(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, rows: Int, length: Int,
                                     scale: UnsafePointer<Float>, bias: UnsafePointer<Float>?, epsilon: Float,
                                     mean: UnsafeMutablePointer<Float>?, inverseStd: UnsafeMutablePointer<Float>?) {
        vigil_layernorm_rows(x, y, Int64(rows), Int64(length), scale, bias, epsilon, mean, inverseStd)
    }

    /// `dst[j · dstStride + i] = src[i · srcStride + j]` for `rows × columns` 4-byte elements.
    public static func transpose(_ src: UnsafeRawPointer, stride srcStride: Int, _ dst: UnsafeMutableRawPointer, stride dstStride: Int,
                                 rows: Int, columns: Int) {
        vigil_transpose(src, Int64(srcStride), dst, Int64(dstStride), Int64(rows), Int64(columns))
    }
}
