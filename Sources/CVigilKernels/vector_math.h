// Vectorized elementary functions and the epilogue activation on 8 floats (AVX2 + FMA), shared by
// Vigil's kernels (not part of the public headers). Accuracy: exp within 2 ulp (Cephes' polynomial),
// sigmoid and tanh within a few ulp, erf within 1.5e-7 absolute (Abramowitz and Stegun 7.1.26, used
// only inside Gelu, where it is multiplied by x / 2). NaN propagates; infinities give the limits.
#ifndef VIGIL_VECTOR_MATH_H
#define VIGIL_VECTOR_MATH_H

#include "vigil_activation.h"

#include <math.h>

/// Forced inlining in optimized builds only: unoptimized builds give every inlined copy of the vector
/// math its own stack slots (the AVX-512 GEMM's tile function took a 67 MB frame at -O0 and overflowed
/// the main thread's stack); there the helpers are ordinary calls.
#ifndef VIGIL_ALWAYS_INLINE
#if defined(__OPTIMIZE__)
#define VIGIL_ALWAYS_INLINE __attribute__((always_inline))
#else
#define VIGIL_ALWAYS_INLINE
#endif
#endif

#if defined(__x86_64__)
#include <immintrin.h>

#define AVX2_FN __attribute__((target("avx2,fma"))) static inline VIGIL_ALWAYS_INLINE

/// exp(x): x = n ln 2 + r, |r| <= ln 2 / 2, exp(r) by a degree-6 polynomial, 2^n built in the exponent.
/// Beyond 88.72 the result is +inf (as expf); below -87.3 it is clamped to 1.2e-38 (expf: a denormal or
/// 0), which sigmoid-like ratios do not tell apart. NaN passes through.
AVX2_FN __m256 v8_exp(__m256 input) {
    const __m256 hi = _mm256_set1_ps(88.72283935546875f), lo = _mm256_set1_ps(-87.3365478515625f);
    __m256 x = _mm256_max_ps(lo, _mm256_min_ps(hi, input));  // min/max return their second operand for NaN: NaN stays
    __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.9875691500e-4f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
    p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
    // 2^n for n in [-126, 127]: (n + 127) << 23. n = -127 (x near -87.3) would be a zero exponent; split it.
    __m256i e = _mm256_cvtps_epi32(n);
    __m256i e1 = _mm256_srai_epi32(e, 1), e2 = _mm256_sub_epi32(e, e1);
    __m256 s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(e1, _mm256_set1_epi32(127)), 23));
    __m256 s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(e2, _mm256_set1_epi32(127)), 23));
    __m256 y = _mm256_mul_ps(_mm256_mul_ps(p, s1), s2);
    return _mm256_blendv_ps(y, _mm256_set1_ps(__builtin_inff()), _mm256_cmp_ps(input, _mm256_set1_ps(88.72283935546875f), _CMP_GT_OQ));
}

/// 1 / d for d >= 1 (or +inf, or NaN): the reciprocal estimate refined by one Newton step (within 2 ulp;
/// a division is several times slower), 0 for +inf.
AVX2_FN __m256 v8_recip(__m256 d) {
    __m256 r = _mm256_rcp_ps(d);
    r = _mm256_mul_ps(r, _mm256_fnmadd_ps(d, r, _mm256_set1_ps(2.0f)));
    return _mm256_andnot_ps(_mm256_cmp_ps(d, _mm256_set1_ps(__builtin_inff()), _CMP_EQ_OQ), r);
}

/// 1 / (1 + exp(-x)).
AVX2_FN __m256 v8_sigmoid(__m256 x) {
    return v8_recip(_mm256_add_ps(_mm256_set1_ps(1.0f), v8_exp(_mm256_sub_ps(_mm256_setzero_ps(), x))));
}

/// tanh(x): an odd polynomial for |x| < 0.625 (Cephes' tanhf), else sign(x) (1 - 2 / (exp(2|x|) + 1)).
AVX2_FN __m256 v8_tanh(__m256 x) {
    const __m256 sign = _mm256_set1_ps(-0.0f), one = _mm256_set1_ps(1.0f);
    __m256 ax = _mm256_andnot_ps(sign, x);
    __m256 z = _mm256_mul_ps(x, x);
    __m256 p = _mm256_set1_ps(-5.70498872745e-3f);
    p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(2.06390887954e-2f));
    p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(-5.37397155531e-2f));
    p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(1.33314422036e-1f));
    p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(-3.33332819422e-1f));
    __m256 small = _mm256_fmadd_ps(_mm256_mul_ps(p, z), x, x);
    __m256 e = v8_exp(_mm256_add_ps(ax, ax));
    __m256 large = _mm256_sub_ps(one, _mm256_div_ps(_mm256_set1_ps(2.0f), _mm256_add_ps(e, one)));
    large = _mm256_or_ps(large, _mm256_and_ps(sign, x));
    return _mm256_blendv_ps(large, small, _mm256_cmp_ps(ax, _mm256_set1_ps(0.625f), _CMP_LT_OQ));
}

/// erf(x) = 1 - (a1 t + ... + a5 t^5) exp(-x^2), t = 1 / (1 + p |x|), with the sign of x (|error| < 1.5e-7).
AVX2_FN __m256 v8_erf(__m256 x) {
    const __m256 sign = _mm256_set1_ps(-0.0f), one = _mm256_set1_ps(1.0f);
    __m256 ax = _mm256_andnot_ps(sign, x);
    __m256 t = _mm256_div_ps(one, _mm256_fmadd_ps(_mm256_set1_ps(0.3275911f), ax, one));
    __m256 p = _mm256_set1_ps(1.061405429f);
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(-1.453152027f));
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(1.421413741f));
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(-0.284496736f));
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(0.254829592f));
    p = _mm256_mul_ps(p, t);
    __m256 y = _mm256_fnmadd_ps(p, v8_exp(_mm256_sub_ps(_mm256_setzero_ps(), _mm256_mul_ps(ax, ax))), one);
    return _mm256_or_ps(y, _mm256_and_ps(sign, x));
}

/// The activation on 8 values (`kind` is a constant in each specialized caller, or a switch).
AVX2_FN __m256 v8_activate(__m256 v, const vigil_act *act) {
    switch (act->kind) {
    case VIGIL_ACT_LINEAR: {
        // Comparisons with NaN are false: NaN is kept by both blends.
        v = _mm256_blendv_ps(v, _mm256_mul_ps(v, _mm256_set1_ps(act->a)), _mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_LT_OQ));
        __m256 low = _mm256_set1_ps(act->b), high = _mm256_set1_ps(act->c);
        v = _mm256_blendv_ps(v, low, _mm256_cmp_ps(v, low, _CMP_LT_OQ));
        return _mm256_blendv_ps(v, high, _mm256_cmp_ps(v, high, _CMP_GT_OQ));
    }
    case VIGIL_ACT_SIGMOID: return v8_sigmoid(v);
    case VIGIL_ACT_SWISH: return _mm256_mul_ps(v, v8_sigmoid(_mm256_mul_ps(v, _mm256_set1_ps(act->a))));
    case VIGIL_ACT_HARDSIGMOID: {
        __m256 g = _mm256_fmadd_ps(v, _mm256_set1_ps(act->a), _mm256_set1_ps(act->b));
        return _mm256_max_ps(_mm256_setzero_ps(), _mm256_min_ps(_mm256_set1_ps(1.0f), g));  // NaN stays (second operands)
    }
    case VIGIL_ACT_HARDSWISH: {
        __m256 g = _mm256_fmadd_ps(v, _mm256_set1_ps(1.0f / 6.0f), _mm256_set1_ps(0.5f));
        g = _mm256_max_ps(_mm256_setzero_ps(), _mm256_min_ps(_mm256_set1_ps(1.0f), g));
        return _mm256_mul_ps(v, g);
    }
    case VIGIL_ACT_TANH: return v8_tanh(v);
    case VIGIL_ACT_GELU: {
        __m256 e = v8_erf(_mm256_mul_ps(v, _mm256_set1_ps(0.70710678118654752f)));
        return _mm256_mul_ps(_mm256_mul_ps(v, _mm256_set1_ps(0.5f)), _mm256_add_ps(e, _mm256_set1_ps(1.0f)));
    }
    case VIGIL_ACT_GELU_TANH: {
        __m256 inner = _mm256_mul_ps(_mm256_mul_ps(v, _mm256_set1_ps(0.7978845608028654f)),
                                     _mm256_fmadd_ps(_mm256_mul_ps(v, v), _mm256_set1_ps(0.044715f), _mm256_set1_ps(1.0f)));
        return _mm256_mul_ps(_mm256_mul_ps(v, _mm256_set1_ps(0.5f)), _mm256_add_ps(v8_tanh(inner), _mm256_set1_ps(1.0f)));
    }
    default: return v;
    }
}

/// Lanes [0, n) set, for masked loads and stores of a partial vector (n in 0...8).
AVX2_FN __m256i v8_mask(int64_t n) {
    const __m256i index = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)n), index);
}

#define AVX512_FN __attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,avx2,fma"))) static inline VIGIL_ALWAYS_INLINE

/// The AVX-512 forms of the functions above (same polynomials; exp scales by 2^n with scalef, which gives
/// the same results lane for lane in about half the time of the AVX2 form's integer steps).
AVX512_FN __m512 v16_exp(__m512 input) {
    // As v8_exp, with 2^n applied by scalef, which also gives +inf beyond the float range (so no clamp
    // or blend is needed above; below, x is clamped as in v8_exp, and 2^-126 is exact).
    const __m512 hi = _mm512_set1_ps(89.0f), lo = _mm512_set1_ps(-87.3365478515625f);
    __m512 x = _mm512_max_ps(lo, _mm512_min_ps(hi, input));
    __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
    __m512 p = _mm512_set1_ps(1.9875691500e-4f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
    p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
    return _mm512_scalef_ps(p, n);
}

AVX512_FN __m512 v16_recip(__m512 d) {
    __m512 r = _mm512_rcp14_ps(d);
    r = _mm512_mul_ps(r, _mm512_fnmadd_ps(d, r, _mm512_set1_ps(2.0f)));
    return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(d, _mm512_set1_ps(__builtin_inff()), _CMP_EQ_OQ), r, _mm512_setzero_ps());
}

AVX512_FN __m512 v16_sigmoid(__m512 x) {
    return v16_recip(_mm512_add_ps(_mm512_set1_ps(1.0f), v16_exp(_mm512_sub_ps(_mm512_setzero_ps(), x))));
}

AVX512_FN __m512 v16_tanh(__m512 x) {
    const __m512 one = _mm512_set1_ps(1.0f);
    const __m512i sign = _mm512_set1_epi32((int)0x80000000);
    __m512 ax = _mm512_castsi512_ps(_mm512_andnot_si512(sign, _mm512_castps_si512(x)));
    __m512 z = _mm512_mul_ps(x, x);
    __m512 p = _mm512_set1_ps(-5.70498872745e-3f);
    p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(2.06390887954e-2f));
    p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(-5.37397155531e-2f));
    p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(1.33314422036e-1f));
    p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(-3.33332819422e-1f));
    __m512 small = _mm512_fmadd_ps(_mm512_mul_ps(p, z), x, x);
    __m512 e = v16_exp(_mm512_add_ps(ax, ax));
    __m512 large = _mm512_sub_ps(one, _mm512_div_ps(_mm512_set1_ps(2.0f), _mm512_add_ps(e, one)));
    large = _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(large), _mm512_and_si512(sign, _mm512_castps_si512(x))));
    return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(ax, _mm512_set1_ps(0.625f), _CMP_LT_OQ), large, small);
}

AVX512_FN __m512 v16_erf(__m512 x) {
    const __m512 one = _mm512_set1_ps(1.0f);
    const __m512i sign = _mm512_set1_epi32((int)0x80000000);
    __m512 ax = _mm512_castsi512_ps(_mm512_andnot_si512(sign, _mm512_castps_si512(x)));
    __m512 t = _mm512_div_ps(one, _mm512_fmadd_ps(_mm512_set1_ps(0.3275911f), ax, one));
    __m512 p = _mm512_set1_ps(1.061405429f);
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(-1.453152027f));
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(1.421413741f));
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(-0.284496736f));
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(0.254829592f));
    p = _mm512_mul_ps(p, t);
    __m512 y = _mm512_fnmadd_ps(p, v16_exp(_mm512_sub_ps(_mm512_setzero_ps(), _mm512_mul_ps(ax, ax))), one);
    return _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(y), _mm512_and_si512(sign, _mm512_castps_si512(x))));
}

/// The piecewise-linear activation (VIGIL_ACT_LINEAR: Relu, LeakyRelu, Clip): the slope below zero, then
/// the clamp; comparisons with NaN are false, so NaN is kept.
AVX512_FN __m512 v16_linear(__m512 v, const vigil_act *act) {
    v = _mm512_mask_mul_ps(v, _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_LT_OQ), v, _mm512_set1_ps(act->a));
    __m512 low = _mm512_set1_ps(act->b), high = _mm512_set1_ps(act->c);
    v = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(v, low, _CMP_LT_OQ), v, low);
    return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(v, high, _CMP_GT_OQ), v, high);
}

AVX512_FN __m512 v16_activate(__m512 v, const vigil_act *act) {
    switch (act->kind) {
    case VIGIL_ACT_LINEAR: return v16_linear(v, act);
    case VIGIL_ACT_SIGMOID: return v16_sigmoid(v);
    case VIGIL_ACT_SWISH: return _mm512_mul_ps(v, v16_sigmoid(_mm512_mul_ps(v, _mm512_set1_ps(act->a))));
    case VIGIL_ACT_HARDSIGMOID: {
        __m512 g = _mm512_fmadd_ps(v, _mm512_set1_ps(act->a), _mm512_set1_ps(act->b));
        return _mm512_max_ps(_mm512_setzero_ps(), _mm512_min_ps(_mm512_set1_ps(1.0f), g));
    }
    case VIGIL_ACT_HARDSWISH: {
        __m512 g = _mm512_fmadd_ps(v, _mm512_set1_ps(1.0f / 6.0f), _mm512_set1_ps(0.5f));
        g = _mm512_max_ps(_mm512_setzero_ps(), _mm512_min_ps(_mm512_set1_ps(1.0f), g));
        return _mm512_mul_ps(v, g);
    }
    case VIGIL_ACT_TANH: return v16_tanh(v);
    case VIGIL_ACT_GELU: {
        __m512 e = v16_erf(_mm512_mul_ps(v, _mm512_set1_ps(0.70710678118654752f)));
        return _mm512_mul_ps(_mm512_mul_ps(v, _mm512_set1_ps(0.5f)), _mm512_add_ps(e, _mm512_set1_ps(1.0f)));
    }
    case VIGIL_ACT_GELU_TANH: {
        __m512 inner = _mm512_mul_ps(_mm512_mul_ps(v, _mm512_set1_ps(0.7978845608028654f)),
                                     _mm512_fmadd_ps(_mm512_mul_ps(v, v), _mm512_set1_ps(0.044715f), _mm512_set1_ps(1.0f)));
        return _mm512_mul_ps(_mm512_mul_ps(v, _mm512_set1_ps(0.5f)), _mm512_add_ps(v16_tanh(inner), _mm512_set1_ps(1.0f)));
    }
    default: return v;
    }
}

/// Lanes [0, n) of 16 (n clamped to 0 ... 16).
static inline __mmask16 v16_mask(int64_t n) { return n >= 16 ? (__mmask16)0xFFFF : (n <= 0 ? (__mmask16)0 : (__mmask16)((1u << n) - 1)); }

#endif
#endif
