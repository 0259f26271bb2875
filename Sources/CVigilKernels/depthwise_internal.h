// The depthwise window kernel's AVX-512 form, which vigil_depthwise_compute (depthwise.c) dispatches to
// (not part of the public headers).
#ifndef VIGIL_DEPTHWISE_INTERNAL_H
#define VIGIL_DEPTHWISE_INTERNAL_H

#include "vigil_depthwise.h"

/// Whether the AVX-512 kernel computes this window (the CPU has it, Vigil uses it, and the window's
/// strides, dilations and size are ones it takes).
int vigil_depthwise_avx512_takes(const vigil_depthwise *p);

/// Output planes [plane_begin, plane_end) on the AVX-512 kernel, reading the input in place (no workspace).
void vigil_depthwise_avx512(const vigil_depthwise *p, const float *x, const float *weights, const float *bias, const float *residual,
                            float *y, int64_t plane_begin, int64_t plane_end);

#endif
