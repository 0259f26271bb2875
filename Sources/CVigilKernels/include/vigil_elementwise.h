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

/// Softmax over each of `rows` contiguous runs of n floats: y = exp(x - max) / sum, or with `log` the
/// log-softmax x - max - log(sum). y may equal x.
void vigil_softmax_rows(const float *x, float *y, int64_t rows, int64_t n, int32_t log);

/// Planes [plane_begin, plane_end) of `size` floats (plane p is channel p % channels):
/// y = x * scale[channel] + shift[channel], one fused multiply-add per value (x may equal y).
void vigil_scale_shift_planes(const float *x, float *y, int64_t plane_begin, int64_t plane_end, int64_t size, int64_t channels,
                              const float *scale, const float *shift);

/// Layer normalization of `rows` contiguous runs of n floats: y = (x - mean) / sqrt(var + eps) * scale + bias
/// (scale and bias of n floats; bias may be NULL), the mean and 1 / sqrt(var + eps) of each run written to
/// `mean` and `inv_std` when not NULL. y may equal x.
void vigil_layernorm_rows(const float *x, float *y, int64_t rows, int64_t n, const float *scale, const float *bias, float eps,
                          float *mean, float *inv_std);

/// dst[j * dst_stride + i] = src[i * src_stride + j] for i < rows, j < cols (4-byte elements), in 8 x 8 blocks.
void vigil_transpose(const void *src, int64_t src_stride, void *dst, int64_t dst_stride, int64_t rows, int64_t cols);

#endif
