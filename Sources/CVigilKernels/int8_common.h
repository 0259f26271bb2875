// Shared by Vigil's integer kernels (not part of the public header): the epilogue that turns an int32
// accumulator into the output value.
#ifndef VIGIL_INT8_COMMON_H
#define VIGIL_INT8_COMMON_H

#include "vigil_int8_kernels.h"

#include <math.h>

/// The epilogue's per-channel parameters, shared by the GEMM and the depthwise convolution.
typedef struct {
    const int32_t *row_offset;
    const float *multiplier, *float_bias;
    int32_t activation;
    float slope, low, high;
    int32_t output, zero_point, qmin, qmax;
} epilogue;

/// One value through the epilogue, stored at element `index` of y.
static inline void store_one(const epilogue *e, int64_t m, int32_t acc, void *y, int64_t index) {
    int32_t v = acc + e->row_offset[m];
    if (e->output == VIGIL_I8_OUT_INT32) {
        ((int32_t *)y)[index] = v;
        return;
    }
    float t = (float)v * e->multiplier[m] + (e->float_bias ? e->float_bias[m] : 0.0f);
    if (e->activation) {
        t = t < 0.0f ? t * e->slope : t;
        t = t < e->low ? e->low : (t > e->high ? e->high : t);
    }
    if (e->output == VIGIL_I8_OUT_FLOAT) {
        ((float *)y)[index] = t;
        return;
    }
    // Clamped before rounding so that huge values cannot overflow the conversion.
    float lo = (float)(e->qmin - e->zero_point) - 1.0f, hi = (float)(e->qmax - e->zero_point) + 1.0f;
    t = t < lo ? lo : (t > hi ? hi : t);
    int32_t q = (int32_t)nearbyintf(t) + e->zero_point;
    q = q < e->qmin ? e->qmin : (q > e->qmax ? e->qmax : q);
    if (e->output == VIGIL_I8_OUT_UINT8) ((uint8_t *)y)[index] = (uint8_t)q; else ((int8_t *)y)[index] = (int8_t)q;
}

#endif
