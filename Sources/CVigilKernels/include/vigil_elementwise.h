// Vectorized elementwise arithmetic and reductions over contiguous runs (AVX2, or AVX-512 when enabled;
// callers check `vigil_vector_available()`).
#ifndef VIGIL_ELEMENTWISE_H
#define VIGIL_ELEMENTWISE_H

#include <stddef.h>
#include <stdint.h>

/// Binary operations.
enum { VIGIL_ADD = 0, VIGIL_SUB = 1, VIGIL_MUL = 2, VIGIL_DIV = 3, VIGIL_MAX = 4, VIGIL_MIN = 5 };

/// y[i] = a[i * a_step] op b[i * b_step] for i < n, each step 0 (a broadcast scalar) or 1. Max and Min
/// return NaN when either operand is NaN. y may equal a or b.
void vigil_binary(int32_t op, const float *a, int64_t a_step, const float *b, int64_t b_step, float *y, int64_t n);

/// Reductions of `rows` contiguous runs of n floats: y[r] = scale * sum(x[r * n ..< r * n + n]), or
/// their maximum (`max` = 1; NaN when a run holds NaN, -inf for empty runs).
void vigil_row_reduce(const float *x, int64_t rows, int64_t n, int32_t max, float scale, float *y);

#endif
