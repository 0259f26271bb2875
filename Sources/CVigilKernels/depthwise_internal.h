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

/// Applies the activation (any kind) to n floats in place, on AVX-512.
void vigil_depthwise_activate(float *y, int64_t n, const vigil_act *act);

/// Whether the channels-in-lanes AVX-512 kernel computes this window (the CPU has it, Vigil uses it,
/// it is a convolution and its output rows are narrow; depthwise_lanes_avx512.c).
int vigil_depthwise_lanes_takes(const vigil_depthwise *p);

/// Floats of per-thread workspace the channels-in-lanes kernel needs (0 for windows it never takes).
size_t vigil_depthwise_lanes_workspace_count(const vigil_depthwise *p);

/// Output planes [plane_begin, plane_end) on the channels-in-lanes kernel, 16 planes at a time.
void vigil_depthwise_lanes(const vigil_depthwise *p, const float *x, const float *weights, const float *bias, const float *residual,
                           float *y, int64_t plane_begin, int64_t plane_end, float *workspace);

/// Whether the channels-in-lanes AVX2 kernel (8 channels per vector, depthwise_lanes_avx2.c) computes this
/// window: on AVX2 machines (and AVX-512 ones with AVX-512 off), convolutions where it was measured faster.
int vigil_depthwise_lanes8_takes(const vigil_depthwise *p);

/// Floats of per-thread workspace the AVX2 channels-in-lanes kernel needs (0 for windows it never takes).
size_t vigil_depthwise_lanes8_workspace_count(const vigil_depthwise *p);

/// Output planes [plane_begin, plane_end) on the AVX2 channels-in-lanes kernel, 8 planes at a time.
void vigil_depthwise_lanes8(const vigil_depthwise *p, const float *x, const float *weights, const float *bias, const float *residual,
                            float *y, int64_t plane_begin, int64_t plane_end, float *workspace);

#endif
