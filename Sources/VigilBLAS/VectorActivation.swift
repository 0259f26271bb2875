import CVigilKernels

/// An activation Vigil's vectorized kernels apply as they write each output element (or over an array):
/// piecewise linear (Relu, LeakyRelu, Clip), sigmoid, swish (x · sigmoid(αx)), hard sigmoid, hard swish,
/// tanh and Gelu (erf or tanh form). NaN propagates; infinities give the function's limits.
public struct VectorActivation: Sendable, Equatable {
    /// The kinds of `vigil_act` (`include/vigil_activation.h`).
    public enum Kind: Int32, Sendable {
        case none = 0, linear, sigmoid, swish, hardSigmoid, hardSwish, tanh, gelu, geluTanh
    }

    public var kind: Kind
    /// Parameters: linear (slope, low, high), swish (α), hard sigmoid (α, β).
    public var a: Float, b: Float, c: Float

    public init(_ kind: Kind, _ a: Float = 0, _ b: Float = 0, _ c: Float = 0) {
        (self.kind, self.a, self.b, self.c) = (kind, a, b, c)
    }

    /// No activation.
    public static let none = VectorActivation(.none)

    /// `clamp(x < 0 ? slope·x : x, low, high)`.
    public static func linear(slope: Float, low: Float, high: Float) -> VectorActivation { VectorActivation(.linear, slope, low, high) }

    /// The C kernels' form.
    public var cValue: vigil_act { vigil_act(kind: kind.rawValue, a: a, b: b, c: c) }

    /// Whether this CPU runs the vectorized kernels (x86-64 with AVX2 and FMA, checked at run time).
    public static let isAvailable = vigil_vector_available() != 0

    /// `y[i] = f(x[i])` for `count` elements (`x` may equal `y`).
    public func apply(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        var act = cValue
        vigil_activate(x, y, Int64(count), &act)
    }

    /// The scalar form (the reference the vectorized one follows).
    public func scalar(_ x: Float) -> Float {
        var act = cValue
        return vigil_activate_scalar(x, &act)
    }
}

/// The CPU features the kernels dispatch on.
public enum KernelFeatures {
    /// Whether this CPU has AVX-512 (F, VL, BW, DQ).
    public static var avx512Available: Bool { vigil_avx512_available() != 0 }

    /// Runs `body` with subnormal floats flushed to zero on the calling thread (results and operands;
    /// x86-64 MXCSR FTZ and DAZ), then restores the thread's floating-point mode. Arithmetic on subnormal
    /// values is tens of times slower on x86 cores, and a sigmoid gate produces them routinely.
    public static func withSubnormalsFlushed<R>(_ body: () throws -> R) rethrows -> R {
        let state = vigil_flush_subnormals()
        defer { vigil_restore_float_mode(state) }
        return try body()
    }

    /// Makes the calling thread flush subnormal floats to zero and returns its previous floating-point mode
    /// (for ``restoreFloatMode(_:)``).
    public static func flushSubnormals() -> UInt32 { vigil_flush_subnormals() }

    /// A spin-wait hint for a thread polling memory another thread will write (x86-64's `pause`).
    public static func spinPause() { vigil_spin_pause() }

    /// Restores a thread's floating-point mode saved by ``flushSubnormals()``.
    public static func restoreFloatMode(_ state: UInt32) { vigil_restore_float_mode(state) }

    /// This core's single-precision FMA throughput in GFLOP/s, measured once (in thread CPU time, about
    /// 20 ms) with the instructions the kernels use; 0 on CPUs without AVX2 + FMA.
    public static let fmaPeakGFLOPs: Double = vigil_measure_fma_peak()

    /// Whether the kernels use their AVX-512 forms (default: when available). Tests turn it off to check
    /// the AVX2 forms on machines that have AVX-512.
    public static var useAVX512: Bool {
        get { vigil_avx512_enabled() != 0 }
        set { vigil_set_avx512(newValue ? 1 : 0) }
    }
}
