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

#if defined(__x86_64__)
#include <immintrin.h>

/// The epilogue's constants broadcast for eight lanes. Quantized outputs clamp once, to the
/// intersection of the activation's range and the output type's range (less the zero point), so
/// that the rounded value needs no integer clamp; a negative slope other than what that clamp
/// already gives (0 with low >= 0, or 1) is applied with a blend.
typedef struct {
    __m256 low, high, slope;
    __m256i zero_point;
    int blend, clamp;
} epilogue_avx2;

__attribute__((target("avx2,fma"))) static inline epilogue_avx2 epilogue_avx2_make(const epilogue *e) {
    epilogue_avx2 c;
    float low = -INFINITY, high = INFINITY;
    c.blend = 0;
    if (e->activation) {
        low = e->low;
        high = e->high;
        c.blend = !(e->slope == 1.0f || (e->slope == 0.0f && e->low >= 0.0f));
    }
    c.clamp = e->activation;
    if (e->output == VIGIL_I8_OUT_UINT8 || e->output == VIGIL_I8_OUT_INT8) {
        float lo = (float)(e->qmin - e->zero_point), hi = (float)(e->qmax - e->zero_point);
        if (high < lo) low = high = lo;
        else if (low > hi) low = high = hi;
        else { low = low > lo ? low : lo; high = high < hi ? high : hi; }
        c.clamp = 1;
    }
    c.low = _mm256_set1_ps(low);
    c.high = _mm256_set1_ps(high);
    c.slope = _mm256_set1_ps(e->slope);
    c.zero_point = _mm256_set1_epi32(e->zero_point);
    return c;
}

/// Accumulators plus row offsets (v) of eight channels or pixels: t = v * multiplier + bias, through
/// the activation and, for quantized outputs, the clamp; then the rounded value plus the zero point.
__attribute__((target("avx2,fma"))) static inline __m256 epilogue_avx2_float(const epilogue_avx2 *c, __m256i v, __m256 mul, __m256 bias) {
    __m256 t = _mm256_fmadd_ps(_mm256_cvtepi32_ps(v), mul, bias);
    if (c->blend) t = _mm256_blendv_ps(t, _mm256_mul_ps(t, c->slope), _mm256_cmp_ps(t, _mm256_setzero_ps(), _CMP_LT_OQ));
    if (c->clamp) t = _mm256_min_ps(_mm256_max_ps(t, c->low), c->high);
    return t;
}

__attribute__((target("avx2,fma"))) static inline __m256i epilogue_avx2_quantized(const epilogue_avx2 *c, __m256 t) {
    return _mm256_add_epi32(_mm256_cvtps_epi32(t), c->zero_point);  // MXCSR: round half to even
}
#endif

#endif
