// Softmax, layer normalization, per-channel scale and shift, and transposes over contiguous runs (see include/vigil_elementwise.h).
#include "vector_math.h"
#include "vigil_elementwise.h"

#include <math.h>
#include <string.h>

#if defined(__x86_64__)

#define AVX512 __attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,avx2,fma")))
#define AVX2 __attribute__((target("avx2,fma")))

AVX512 static void softmax_row512(const float *x, float *y, int64_t n, int32_t log) {
    __m512 top = _mm512_set1_ps(-__builtin_inff());
    __mmask16 nan = 0;
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512 v = _mm512_loadu_ps(x + i);
        top = _mm512_max_ps(top, v);
        nan |= _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
    }
    if (i < n) {
        __m512 v = _mm512_mask_loadu_ps(_mm512_set1_ps(-__builtin_inff()), v16_mask(n - i), x + i);
        top = _mm512_max_ps(top, v);
        nan |= _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
    }
    float m = _mm512_reduce_max_ps(top);
    // NaN anywhere: every output NaN (the row's last NaN, as the scalar form; scanned only when there is one).
    if (nan)
        for (int64_t j = 0; j < n; j++) if (x[j] != x[j]) m = x[j];
    __m512 mv = _mm512_set1_ps(m), sum = _mm512_setzero_ps();
    for (i = 0; i + 16 <= n; i += 16) {
        __m512 e = v16_exp(_mm512_sub_ps(_mm512_loadu_ps(x + i), mv));
        sum = _mm512_add_ps(sum, e);
        if (!log) _mm512_storeu_ps(y + i, e);
    }
    if (i < n) {
        __mmask16 k = v16_mask(n - i);
        __m512 e = _mm512_maskz_mov_ps(k, v16_exp(_mm512_sub_ps(_mm512_maskz_loadu_ps(k, x + i), mv)));
        sum = _mm512_add_ps(sum, e);
        if (!log) _mm512_mask_storeu_ps(y + i, k, e);
    }
    float s = _mm512_reduce_add_ps(sum);
    if (log) {
        __m512 shift = _mm512_set1_ps(m + logf(s));
        for (i = 0; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, _mm512_sub_ps(_mm512_loadu_ps(x + i), shift));
        if (i < n) _mm512_mask_storeu_ps(y + i, v16_mask(n - i), _mm512_sub_ps(_mm512_maskz_loadu_ps(v16_mask(n - i), x + i), shift));
        return;
    }
    __m512 inv = _mm512_set1_ps(1.0f / s);
    for (i = 0; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, _mm512_mul_ps(_mm512_loadu_ps(y + i), inv));
    if (i < n) _mm512_mask_storeu_ps(y + i, v16_mask(n - i), _mm512_mul_ps(_mm512_maskz_loadu_ps(v16_mask(n - i), y + i), inv));
}

AVX2 static void softmax_row256(const float *x, float *y, int64_t n, int32_t log) {
    // The maximum 8 lanes at a time; NaN anywhere: every output NaN (the row's last NaN, scanned for only
    // when there is one).
    __m256 top = _mm256_set1_ps(-__builtin_inff());
    int nan = 0;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i);
        top = _mm256_max_ps(top, v);
        nan |= _mm256_movemask_ps(_mm256_cmp_ps(v, v, _CMP_UNORD_Q));
    }
    float tops[8], m;
    _mm256_storeu_ps(tops, top);
    m = tops[0];
    for (int l = 1; l < 8; l++) m = tops[l] > m ? tops[l] : m;
    for (; i < n; i++) {
        if (x[i] != x[i]) nan = 1;
        else if (x[i] > m) m = x[i];
    }
    if (nan)
        for (int64_t j = 0; j < n; j++) if (x[j] != x[j]) m = x[j];
    __m256 mv = _mm256_set1_ps(m), sum = _mm256_setzero_ps();
    i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 e = v8_exp(_mm256_sub_ps(_mm256_loadu_ps(x + i), mv));
        sum = _mm256_add_ps(sum, e);
        if (!log) _mm256_storeu_ps(y + i, e);
    }
    float lanes[8], s = 0;
    _mm256_storeu_ps(lanes, sum);
    for (int l = 0; l < 8; l++) s += lanes[l];
    for (; i < n; i++) {
        float e = expf(x[i] - m);
        s += e;
        if (!log) y[i] = e;
    }
    if (log) {
        float shift = m + logf(s);
        for (int64_t j = 0; j < n; j++) y[j] = x[j] - shift;
        return;
    }
    __m256 inv = _mm256_set1_ps(1.0f / s);
    for (i = 0; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_loadu_ps(y + i), inv));
    for (; i < n; i++) y[i] *= 1.0f / s;
}

AVX512 static void layernorm_row512(const float *x, float *y, int64_t n, const float *scale, const float *bias, float eps, float *mean_out,
                                    float *inv_out) {
    __m512 sum = _mm512_setzero_ps();
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) sum = _mm512_add_ps(sum, _mm512_loadu_ps(x + i));
    if (i < n) sum = _mm512_add_ps(sum, _mm512_maskz_loadu_ps(v16_mask(n - i), x + i));
    float mean = _mm512_reduce_add_ps(sum) / (float)n;
    __m512 mv = _mm512_set1_ps(mean), sq = _mm512_setzero_ps();
    for (i = 0; i + 16 <= n; i += 16) {
        __m512 d = _mm512_sub_ps(_mm512_loadu_ps(x + i), mv);
        sq = _mm512_fmadd_ps(d, d, sq);
    }
    if (i < n) {
        __mmask16 k = v16_mask(n - i);
        __m512 d = _mm512_maskz_sub_ps(k, _mm512_maskz_loadu_ps(k, x + i), mv);
        sq = _mm512_fmadd_ps(d, d, sq);
    }
    float inv = 1.0f / sqrtf(_mm512_reduce_add_ps(sq) / (float)n + eps);
    if (mean_out) *mean_out = mean;
    if (inv_out) *inv_out = inv;
    __m512 iv = _mm512_set1_ps(inv);
    for (i = 0; i < n; i += 16) {
        __mmask16 k = v16_mask(n - i);
        __m512 v = _mm512_mul_ps(_mm512_mul_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(k, x + i), mv), iv), _mm512_maskz_loadu_ps(k, scale + i));
        if (bias) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(k, bias + i));
        _mm512_mask_storeu_ps(y + i, k, v);
    }
}

/// An 8 x 8 block of floats: rows of src (stride ls) to columns of dst (stride ld).
AVX2 static inline void transpose8x8(const float *src, int64_t ls, float *dst, int64_t ld) {
    __m256 r0 = _mm256_loadu_ps(src), r1 = _mm256_loadu_ps(src + ls), r2 = _mm256_loadu_ps(src + 2 * ls), r3 = _mm256_loadu_ps(src + 3 * ls);
    __m256 r4 = _mm256_loadu_ps(src + 4 * ls), r5 = _mm256_loadu_ps(src + 5 * ls), r6 = _mm256_loadu_ps(src + 6 * ls), r7 = _mm256_loadu_ps(src + 7 * ls);
    __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1), t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
    __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5), t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
    __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xEE), s2 = _mm256_shuffle_ps(t1, t3, 0x44), s3 = _mm256_shuffle_ps(t1, t3, 0xEE);
    __m256 s4 = _mm256_shuffle_ps(t4, t6, 0x44), s5 = _mm256_shuffle_ps(t4, t6, 0xEE), s6 = _mm256_shuffle_ps(t5, t7, 0x44), s7 = _mm256_shuffle_ps(t5, t7, 0xEE);
    _mm256_storeu_ps(dst, _mm256_permute2f128_ps(s0, s4, 0x20));
    _mm256_storeu_ps(dst + ld, _mm256_permute2f128_ps(s1, s5, 0x20));
    _mm256_storeu_ps(dst + 2 * ld, _mm256_permute2f128_ps(s2, s6, 0x20));
    _mm256_storeu_ps(dst + 3 * ld, _mm256_permute2f128_ps(s3, s7, 0x20));
    _mm256_storeu_ps(dst + 4 * ld, _mm256_permute2f128_ps(s0, s4, 0x31));
    _mm256_storeu_ps(dst + 5 * ld, _mm256_permute2f128_ps(s1, s5, 0x31));
    _mm256_storeu_ps(dst + 6 * ld, _mm256_permute2f128_ps(s2, s6, 0x31));
    _mm256_storeu_ps(dst + 7 * ld, _mm256_permute2f128_ps(s3, s7, 0x31));
}

AVX2 static void transpose_avx2(const float *s, int64_t ls, float *d, int64_t ld, int64_t rows, int64_t cols) {
    // Blocks of 32 x 32 (in 8 x 8 pieces) so that both sides stay in L1.
    for (int64_t i0 = 0; i0 < rows; i0 += 32) {
        for (int64_t j0 = 0; j0 < cols; j0 += 32) {
            int64_t i1 = i0 + 32 < rows ? i0 + 32 : rows, j1 = j0 + 32 < cols ? j0 + 32 : cols;
            for (int64_t i = i0; i < i1; i += 8) {
                for (int64_t j = j0; j < j1; j += 8) {
                    if (i + 8 <= i1 && j + 8 <= j1) {
                        transpose8x8(s + i * ls + j, ls, d + j * ld + i, ld);
                    } else {
                        for (int64_t ii = i; ii < i + 8 && ii < i1; ii++)
                            for (int64_t jj = j; jj < j + 8 && jj < j1; jj++) d[jj * ld + ii] = s[ii * ls + jj];
                    }
                }
            }
        }
    }
}

/// y = x * a + b over n floats (one fused multiply-add each); the tail with masked loads and stores.
AVX512 static void scale_shift512(const float *x, float *y, int64_t n, float a, float b) {
    const __m512 av = _mm512_set1_ps(a), bv = _mm512_set1_ps(b);
    for (int64_t i = 0; i < n; i += 16) {
        __mmask16 k = v16_mask(n - i);
        _mm512_mask_storeu_ps(y + i, k, _mm512_fmadd_ps(_mm512_maskz_loadu_ps(k, x + i), av, bv));
    }
}

/// The same with 8-lane vectors and a scalar tail.
AVX2 static void scale_shift256(const float *x, float *y, int64_t n, float a, float b) {
    const __m256 av = _mm256_set1_ps(a), bv = _mm256_set1_ps(b);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_fmadd_ps(_mm256_loadu_ps(x + i), av, bv));
    for (; i < n; i++) y[i] = fmaf(x[i], a, b);
}

#endif

void vigil_softmax_rows(const float *x, float *y, int64_t rows, int64_t n, int32_t log) {
    for (int64_t r = 0; r < rows; r++) {
#if defined(__x86_64__)
        if (vigil_avx512_enabled()) { softmax_row512(x + r * n, y + r * n, n, log); continue; }
        if (vigil_vector_available()) { softmax_row256(x + r * n, y + r * n, n, log); continue; }
#endif
        const float *xr = x + r * n;
        float *yr = y + r * n, m = -__builtin_inff(), s = 0;
        for (int64_t j = 0; j < n; j++) m = xr[j] != xr[j] || xr[j] > m ? xr[j] : m;
        for (int64_t j = 0; j < n; j++) s += expf(xr[j] - m);
        for (int64_t j = 0; j < n; j++) yr[j] = log ? xr[j] - m - logf(s) : expf(xr[j] - m) / s;
    }
}

void vigil_layernorm_rows(const float *x, float *y, int64_t rows, int64_t n, const float *scale, const float *bias, float eps,
                          float *mean, float *inv_std) {
    for (int64_t r = 0; r < rows; r++) {
#if defined(__x86_64__)
        if (vigil_avx512_enabled()) {
            layernorm_row512(x + r * n, y + r * n, n, scale, bias, eps, mean ? mean + r : 0, inv_std ? inv_std + r : 0);
            continue;
        }
#endif
        const float *xr = x + r * n;
        float *yr = y + r * n, sum = 0, sq = 0;
        for (int64_t j = 0; j < n; j++) sum += xr[j];
        float mu = sum / (float)n;
        for (int64_t j = 0; j < n; j++) { float d = xr[j] - mu; sq += d * d; }
        float inv = 1.0f / sqrtf(sq / (float)n + eps);
        if (mean) mean[r] = mu;
        if (inv_std) inv_std[r] = inv;
        for (int64_t j = 0; j < n; j++) yr[j] = (xr[j] - mu) * inv * scale[j] + (bias ? bias[j] : 0.0f);
    }
}

void vigil_transpose(const void *src, int64_t src_stride, void *dst, int64_t dst_stride, int64_t rows, int64_t cols) {
#if defined(__x86_64__)
    if (vigil_vector_available()) { transpose_avx2((const float *)src, src_stride, (float *)dst, dst_stride, rows, cols); return; }
#endif
    const uint32_t *s = (const uint32_t *)src;
    uint32_t *d = (uint32_t *)dst;
    for (int64_t i = 0; i < rows; i++)
        for (int64_t j = 0; j < cols; j++) d[j * dst_stride + i] = s[i * src_stride + j];
}

void vigil_scale_shift_planes(const float *x, float *y, int64_t plane_begin, int64_t plane_end, int64_t size, int64_t channels,
                              const float *scale, const float *shift) {
    for (int64_t p = plane_begin; p < plane_end; p++) {
        int64_t ch = p % channels;
        const float *src = x + p * size;
        float *dst = y + p * size;
#if defined(__x86_64__)
        if (vigil_avx512_enabled()) { scale_shift512(src, dst, size, scale[ch], shift[ch]); continue; }
        if (vigil_vector_available()) { scale_shift256(src, dst, size, scale[ch], shift[ch]); continue; }
#endif
        for (int64_t i = 0; i < size; i++) dst[i] = fmaf(src[i], scale[ch], shift[ch]);
    }
}
