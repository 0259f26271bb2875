// The activation Vigil's kernels apply to each output element as they write it (their epilogue), and
// the same functions over whole arrays. Vectorized with AVX2 + FMA (checked at run time); the scalar
// forms are the reference the vector forms are tested against.
#ifndef VIGIL_ACTIVATION_H
#define VIGIL_ACTIVATION_H

#include <stddef.h>
#include <stdint.h>

/// Activation kinds (`vigil_act.kind`).
enum {
    /// y = x.
    VIGIL_ACT_NONE = 0,
    /// y = clamp(x < 0 ? a * x : x, b, c), NaN unchanged (Relu: a = 1, b = 0; LeakyRelu: slope a; Clip: bounds b, c).
    VIGIL_ACT_LINEAR = 1,
    /// y = 1 / (1 + exp(-x)).
    VIGIL_ACT_SIGMOID = 2,
    /// y = x * sigmoid(a * x) (SiLU when a = 1).
    VIGIL_ACT_SWISH = 3,
    /// y = max(0, min(1, a * x + b)).
    VIGIL_ACT_HARDSIGMOID = 4,
    /// y = x * max(0, min(1, x / 6 + 1/2)).
    VIGIL_ACT_HARDSWISH = 5,
    /// y = tanh(x).
    VIGIL_ACT_TANH = 6,
    /// y = x / 2 * (1 + erf(x / sqrt(2))).
    VIGIL_ACT_GELU = 7,
    /// y = x / 2 * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 x^3))).
    VIGIL_ACT_GELU_TANH = 8,
};

/// An activation and its parameters (see the kinds above).
typedef struct {
    int32_t kind;
    float a, b, c;
} vigil_act;

/// 1 when the vectorized kernels run on this CPU (x86-64 with AVX2 and FMA), else 0.
int vigil_vector_available(void);
/// 1 when this CPU has AVX-512F (and the AVX-512 kernels may be used), else 0; `vigil_set_avx512(0)`
/// makes the kernels use their AVX2 forms (tests run both).
int vigil_avx512_available(void);
void vigil_set_avx512(int enabled);
int vigil_avx512_enabled(void);

/// Makes the calling thread flush subnormal floats to zero, in results and operands (MXCSR FTZ and DAZ on
/// x86-64; nothing elsewhere), and returns the previous state for `vigil_restore_float_mode`.
uint32_t vigil_flush_subnormals(void);
void vigil_restore_float_mode(uint32_t state);

/// A spin-wait hint (`pause` on x86-64: the waiting thread yields the core's shared resources and
/// power for some tens of cycles; nothing elsewhere).
void vigil_spin_pause(void);

/// The core's single-precision FMA throughput in GFLOP/s (2 per multiply-add), measured in thread CPU
/// time with the widest vectors the kernels use (AVX-512 when enabled, else AVX2; a few ms); 0 when
/// the vectorized kernels do not run here.
double vigil_measure_fma_peak(void);

/// y[i] = act(x[i]) for i < n (x may equal y), vectorized.
void vigil_activate(const float *x, float *y, int64_t n, const vigil_act *act);

/// The scalar form of one activation (the reference the vectorized forms follow).
float vigil_activate_scalar(float x, const vigil_act *act);

#endif
