// Integer GEMM for quantized networks (see include/vigil_int8_kernels.h).
//
// Weights are packed once into panels of 16 output channels; activations are packed per block of up to
// 96 pixels (a convolution's taps gathered through offsets, or rows of a matrix). A block is computed
// panel by panel: the micro-kernel fills 16 x 4 int32 tiles for the whole block, the epilogue converts
// them pixel by pixel (vectorized) and writes each channel's pixels in order.
#include "int8_common.h"

#include <math.h>
#include <string.h>

#define MR VIGIL_I8_MR
#define NR VIGIL_I8_NR
#define NC VIGIL_I8_NC

static inline int64_t quads(int64_t k) { return (k + 3) / 4; }
static inline int64_t panels_of(int64_t m) { return (m + MR - 1) / MR; }

size_t vigil_i8_packed_weight_bytes(int variant, int64_t m, int64_t k) {
    if (variant == VIGIL_I8_PORTABLE) return (size_t)m * (size_t)k * sizeof(int16_t);
    return (size_t)panels_of(m) * (size_t)quads(k) * MR * 4;
}

size_t vigil_i8_block_bytes(int variant, int64_t k) {
    if (variant == VIGIL_I8_PORTABLE) return (size_t)NC * (size_t)k * sizeof(int16_t);
    return (size_t)(NC / NR) * (size_t)quads(k) * NR * 4;
}

int32_t vigil_i8_activation_shift(int variant, int source_signed, int32_t zero_point) {
    // The stored value s relates to the real value x as x = s + d.
    int32_t d = 0;
    if (variant == VIGIL_I8_AVX2 && !source_signed) d = 128;     // uint8 stored as x - 128
    if (variant == VIGIL_I8_AVXVNNI && source_signed) d = -128;  // int8 stored as x + 128
    if (variant == VIGIL_I8_PORTABLE) return 0;                   // stored as x - zero_point already
    return d - zero_point;
}

int vigil_i8_pack_weights(int variant, const int16_t *w, int64_t m, int64_t k, void *packed, int32_t *row_sums) {
    int lo = variant == VIGIL_I8_AVX2 ? -127 : (variant == VIGIL_I8_AVXVNNI ? -128 : -32768);
    int hi = variant == VIGIL_I8_PORTABLE ? 32767 : 127;
    for (int64_t i = 0; i < m * k; i++) {
        if (w[i] < lo || w[i] > hi) return 0;
    }
    for (int64_t r = 0; r < m; r++) {
        int32_t sum = 0;
        for (int64_t c = 0; c < k; c++) sum += w[r * k + c];
        row_sums[r] = sum;
    }
    if (variant == VIGIL_I8_PORTABLE) {
        memcpy(packed, w, (size_t)(m * k) * sizeof(int16_t));
        return 1;
    }
    int8_t *dst = (int8_t *)packed;
    int64_t k4 = quads(k);
    for (int64_t p = 0; p < panels_of(m); p++) {
        for (int64_t q = 0; q < k4; q++) {
            int8_t *d = dst + (p * k4 + q) * MR * 4;
            for (int64_t i = 0; i < MR; i++) {
                for (int64_t t = 0; t < 4; t++) {
                    int64_t row = p * MR + i, col = q * 4 + t;
                    d[i * 4 + t] = (int8_t)(row < m && col < k ? w[row * k + col] : 0);
                }
            }
        }
    }
    return 1;
}

/// The byte of pixel `i` at reduction row `c`.
static inline uint8_t source_byte(const vigil_i8_source *s, const int64_t *pixel_offsets, int64_t i, int64_t c) {
    return s->data[pixel_offsets[i] + (s->row_offsets ? s->row_offsets[c] : c)];
}

void vigil_i8_pack_block(int variant, const vigil_i8_source *s, const int64_t *pixel_offsets, int64_t count, int64_t k,
                         void *packed) {
    if (variant == VIGIL_I8_PORTABLE) {
        int16_t *d = (int16_t *)packed;
        for (int64_t i = 0; i < count; i++) {
            for (int64_t c = 0; c < k; c++) {
                uint8_t b = source_byte(s, pixel_offsets, i, c);
                d[i * k + c] = (int16_t)((s->is_signed ? (int32_t)(int8_t)b : (int32_t)b) - s->zero_point);
            }
        }
        return;
    }
    // AVX2 stores int8, AVX-VNNI uint8: flipping the top bit converts between them (x -/+ 128).
    const uint8_t flip = (variant == VIGIL_I8_AVX2) != (s->is_signed != 0) ? 0x80 : 0;
    int64_t k4 = quads(k);
    uint8_t *dst = (uint8_t *)packed;
    for (int64_t t = 0; t * NR < count; t++) {
        uint8_t *d = dst + t * k4 * NR * 4;
        int64_t valid = count - t * NR < NR ? count - t * NR : NR;
        for (int64_t q = 0; q < k4; q++) {
            for (int64_t j = 0; j < NR; j++) {
                for (int64_t u = 0; u < 4; u++) {
                    int64_t c = q * 4 + u;
                    // Padding (past the block or past K) meets zero weights; any value would do.
                    d[(q * NR + j) * 4 + u] = j < valid && c < k ? (uint8_t)(source_byte(s, pixel_offsets, t * NR + j, c) ^ flip) : 0;
                }
            }
        }
    }
}

static epilogue gemm_epilogue(const vigil_i8_gemm *g) {
    epilogue e = {g->row_offset, g->multiplier, g->float_bias, g->activation, g->slope, g->low, g->high, g->output,
                  g->output_zero_point, g->output == VIGIL_I8_OUT_INT8 ? -128 : 0, g->output == VIGIL_I8_OUT_INT8 ? 127 : 255};
    return e;
}

/// Output element offsets of pixels [p0, p0 + count).
static void output_offsets(const vigil_i8_gemm *g, int64_t p0, int64_t count, int64_t *out) {
    int64_t image = p0 / g->pixels_per_image, r = p0 - image * g->pixels_per_image;
    for (int64_t j = 0; j < count; j++) {
        out[j] = image * g->image_stride + r * g->pixel_stride;
        if (++r == g->pixels_per_image) { r = 0; image++; }
    }
}

/// The portable variant: int16 dot products (the compiler vectorizes them with pmaddwd).
static void compute_portable(const vigil_i8_gemm *g, const int16_t *x, int64_t p0, int64_t count, int64_t panel_begin,
                             int64_t panel_end) {
    epilogue e = gemm_epilogue(g);
    int64_t out[NC];
    output_offsets(g, p0, count, out);
    const int16_t *w = (const int16_t *)g->packed_w;
    int64_t m_end = panel_end * MR < g->m ? panel_end * MR : g->m;
    for (int64_t m = panel_begin * MR; m < m_end; m++) {
        const int16_t *wr = w + m * g->k;
        for (int64_t j = 0; j < count; j++) {
            const int16_t *xr = x + j * g->k;
            int32_t acc = 0;
            for (int64_t c = 0; c < g->k; c++) acc += (int32_t)wr[c] * (int32_t)xr[c];
            store_one(&e, m, acc, g->y, out[j] + m * g->channel_stride);
        }
    }
}

#if defined(__x86_64__)
#include <immintrin.h>

#define AVX2 __attribute__((target("avx2,fma")))
#define VNNI __attribute__((target("avx2,fma,avxvnni")))

int vigil_i8_variant_available(int variant) {
    __builtin_cpu_init();
    switch (variant) {
    case VIGIL_I8_PORTABLE: return 1;
    case VIGIL_I8_AVX2: return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case VIGIL_I8_AVXVNNI: return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("avxvnni");
    default: return 0;
    }
}

// Long function: an unrolled SIMD micro-kernel (eight accumulators, two weight vectors, four pixels).
/// acc[j][0..16) = sum over k of w[..16][k] * x[j][k] for the 4 pixels of a tile, AVX2: |x| (unsigned)
/// times the weight with x's sign, pairs added by vpmaddubsw (at most 32512: exact) and vpmaddwd.
AVX2 static void micro_avx2(int64_t k4, const int8_t *w, const int8_t *x, int32_t *acc) {
    const __m256i ones = _mm256_set1_epi16(1);
    __m256i c00 = _mm256_setzero_si256(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
    for (int64_t q = 0; q < k4; q++) {
        __m256i w0 = _mm256_loadu_si256((const __m256i *)w), w1 = _mm256_loadu_si256((const __m256i *)(w + 32));
        __m256i b, a;
        b = _mm256_set1_epi32(*(const int32_t *)(x + 0)); a = _mm256_abs_epi8(b);
        c00 = _mm256_add_epi32(c00, _mm256_madd_epi16(_mm256_maddubs_epi16(a, _mm256_sign_epi8(w0, b)), ones));
        c01 = _mm256_add_epi32(c01, _mm256_madd_epi16(_mm256_maddubs_epi16(a, _mm256_sign_epi8(w1, b)), ones));
        b = _mm256_set1_epi32(*(const int32_t *)(x + 4)); a = _mm256_abs_epi8(b);
        c10 = _mm256_add_epi32(c10, _mm256_madd_epi16(_mm256_maddubs_epi16(a, _mm256_sign_epi8(w0, b)), ones));
        c11 = _mm256_add_epi32(c11, _mm256_madd_epi16(_mm256_maddubs_epi16(a, _mm256_sign_epi8(w1, b)), ones));
        b = _mm256_set1_epi32(*(const int32_t *)(x + 8)); a = _mm256_abs_epi8(b);
        c20 = _mm256_add_epi32(c20, _mm256_madd_epi16(_mm256_maddubs_epi16(a, _mm256_sign_epi8(w0, b)), ones));
        c21 = _mm256_add_epi32(c21, _mm256_madd_epi16(_mm256_maddubs_epi16(a, _mm256_sign_epi8(w1, b)), ones));
        b = _mm256_set1_epi32(*(const int32_t *)(x + 12)); a = _mm256_abs_epi8(b);
        c30 = _mm256_add_epi32(c30, _mm256_madd_epi16(_mm256_maddubs_epi16(a, _mm256_sign_epi8(w0, b)), ones));
        c31 = _mm256_add_epi32(c31, _mm256_madd_epi16(_mm256_maddubs_epi16(a, _mm256_sign_epi8(w1, b)), ones));
        w += MR * 4;
        x += NR * 4;
    }
    _mm256_storeu_si256((__m256i *)(acc + 0), c00); _mm256_storeu_si256((__m256i *)(acc + 8), c01);
    _mm256_storeu_si256((__m256i *)(acc + 16), c10); _mm256_storeu_si256((__m256i *)(acc + 24), c11);
    _mm256_storeu_si256((__m256i *)(acc + 32), c20); _mm256_storeu_si256((__m256i *)(acc + 40), c21);
    _mm256_storeu_si256((__m256i *)(acc + 48), c30); _mm256_storeu_si256((__m256i *)(acc + 56), c31);
}

/// The same tile with AVX-VNNI: vpdpbusd adds four uint8 x int8 products into int32 without saturation.
VNNI static void micro_vnni(int64_t k4, const int8_t *w, const int8_t *x, int32_t *acc) {
    __m256i c00 = _mm256_setzero_si256(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
    for (int64_t q = 0; q < k4; q++) {
        __m256i w0 = _mm256_loadu_si256((const __m256i *)w), w1 = _mm256_loadu_si256((const __m256i *)(w + 32));
        __m256i b = _mm256_set1_epi32(*(const int32_t *)(x + 0));
        c00 = _mm256_dpbusd_avx_epi32(c00, b, w0); c01 = _mm256_dpbusd_avx_epi32(c01, b, w1);
        b = _mm256_set1_epi32(*(const int32_t *)(x + 4));
        c10 = _mm256_dpbusd_avx_epi32(c10, b, w0); c11 = _mm256_dpbusd_avx_epi32(c11, b, w1);
        b = _mm256_set1_epi32(*(const int32_t *)(x + 8));
        c20 = _mm256_dpbusd_avx_epi32(c20, b, w0); c21 = _mm256_dpbusd_avx_epi32(c21, b, w1);
        b = _mm256_set1_epi32(*(const int32_t *)(x + 12));
        c30 = _mm256_dpbusd_avx_epi32(c30, b, w0); c31 = _mm256_dpbusd_avx_epi32(c31, b, w1);
        w += MR * 4;
        x += NR * 4;
    }
    _mm256_storeu_si256((__m256i *)(acc + 0), c00); _mm256_storeu_si256((__m256i *)(acc + 8), c01);
    _mm256_storeu_si256((__m256i *)(acc + 16), c10); _mm256_storeu_si256((__m256i *)(acc + 24), c11);
    _mm256_storeu_si256((__m256i *)(acc + 32), c20); _mm256_storeu_si256((__m256i *)(acc + 40), c21);
    _mm256_storeu_si256((__m256i *)(acc + 48), c30); _mm256_storeu_si256((__m256i *)(acc + 56), c31);
}

/// Eight channels of one pixel through the epilogue (v: accumulators plus row offsets), as floats or
/// as saturated integers in int32 lanes.
AVX2 static inline __m256i epilogue8(const epilogue *e, int64_t m, __m256i v, __m256 *as_float) {
    __m256 t = _mm256_cvtepi32_ps(v);
    t = _mm256_fmadd_ps(t, _mm256_loadu_ps(e->multiplier + m), e->float_bias ? _mm256_loadu_ps(e->float_bias + m) : _mm256_setzero_ps());
    if (e->activation) {
        __m256 negative = _mm256_cmp_ps(t, _mm256_setzero_ps(), _CMP_LT_OQ);
        t = _mm256_blendv_ps(t, _mm256_mul_ps(t, _mm256_set1_ps(e->slope)), negative);
        t = _mm256_min_ps(_mm256_max_ps(t, _mm256_set1_ps(e->low)), _mm256_set1_ps(e->high));
    }
    *as_float = t;
    if (e->output == VIGIL_I8_OUT_FLOAT) return _mm256_setzero_si256();
    float lo = (float)(e->qmin - e->zero_point) - 1.0f, hi = (float)(e->qmax - e->zero_point) + 1.0f;
    t = _mm256_min_ps(_mm256_max_ps(t, _mm256_set1_ps(lo)), _mm256_set1_ps(hi));
    __m256i q = _mm256_add_epi32(_mm256_cvtps_epi32(t), _mm256_set1_epi32(e->zero_point));  // MXCSR: round half to even
    return _mm256_min_epi32(_mm256_max_epi32(q, _mm256_set1_epi32(e->qmin)), _mm256_set1_epi32(e->qmax));
}

/// Converts a panel's accumulators (acc[j][0..16) for `count` pixels) in place: int32 results, float
/// bit patterns or saturated integers, ready to be stored. Row offsets and parameters are padded to whole panels.
AVX2 static void convert_panel(const epilogue *e, int64_t m0, int32_t *acc, int64_t count) {
    __m256i off0 = _mm256_loadu_si256((const __m256i *)(e->row_offset + m0));
    __m256i off1 = _mm256_loadu_si256((const __m256i *)(e->row_offset + m0 + 8));
    for (int64_t j = 0; j < count; j++) {
        int32_t *a = acc + j * MR;
        __m256i v0 = _mm256_add_epi32(_mm256_loadu_si256((const __m256i *)a), off0);
        __m256i v1 = _mm256_add_epi32(_mm256_loadu_si256((const __m256i *)(a + 8)), off1);
        if (e->output == VIGIL_I8_OUT_INT32) {
            _mm256_storeu_si256((__m256i *)a, v0);
            _mm256_storeu_si256((__m256i *)(a + 8), v1);
            continue;
        }
        __m256 f0, f1;
        __m256i q0 = epilogue8(e, m0, v0, &f0), q1 = epilogue8(e, m0 + 8, v1, &f1);
        if (e->output == VIGIL_I8_OUT_FLOAT) {
            _mm256_storeu_ps((float *)a, f0);
            _mm256_storeu_ps((float *)(a + 8), f1);
        } else {
            _mm256_storeu_si256((__m256i *)a, q0);
            _mm256_storeu_si256((__m256i *)(a + 8), q1);
        }
    }
}

/// Writes a converted panel channel by channel (each channel's pixels in order).
static void store_panel(const vigil_i8_gemm *g, const int32_t *acc, int64_t m0, int64_t count, const int64_t *out) {
    int64_t rows = g->m - m0 < MR ? g->m - m0 : MR;
    for (int64_t i = 0; i < rows; i++) {
        int64_t base = (m0 + i) * g->channel_stride;
        const int32_t *a = acc + i;
        switch (g->output) {
        case VIGIL_I8_OUT_UINT8:
        case VIGIL_I8_OUT_INT8: {
            uint8_t *y = (uint8_t *)g->y + base;
            for (int64_t j = 0; j < count; j++) y[out[j]] = (uint8_t)a[j * MR];
            break;
        }
        default: {
            int32_t *y = (int32_t *)g->y + base;  // int32 or float bit patterns
            for (int64_t j = 0; j < count; j++) y[out[j]] = a[j * MR];
        }
        }
    }
}

void vigil_i8_compute(const vigil_i8_gemm *g, const void *packed_block, int64_t p0, int64_t count, int64_t panel_begin,
                      int64_t panel_end) {
    if (g->variant == VIGIL_I8_PORTABLE) {
        compute_portable(g, (const int16_t *)packed_block, p0, count, panel_begin, panel_end);
        return;
    }
    epilogue e = gemm_epilogue(g);
    int64_t out[NC];
    int32_t acc[NC * MR] __attribute__((aligned(32)));
    output_offsets(g, p0, count, out);
    int64_t k4 = quads(g->k);
    for (int64_t p = panel_begin; p < panel_end; p++) {
        const int8_t *w = (const int8_t *)g->packed_w + p * k4 * MR * 4;
        for (int64_t t = 0; t * NR < count; t++) {
            const int8_t *x = (const int8_t *)packed_block + t * k4 * NR * 4;
            if (g->variant == VIGIL_I8_AVXVNNI) micro_vnni(k4, w, x, acc + t * NR * MR); else micro_avx2(k4, w, x, acc + t * NR * MR);
        }
        convert_panel(&e, p * MR, acc, count);
        store_panel(g, acc, p * MR, count, out);
    }
}

#else

int vigil_i8_variant_available(int variant) { return variant == VIGIL_I8_PORTABLE; }

void vigil_i8_compute(const vigil_i8_gemm *g, const void *packed_block, int64_t p0, int64_t count, int64_t panel_begin,
                      int64_t panel_end) {
    compute_portable(g, (const int16_t *)packed_block, p0, count, panel_begin, panel_end);
}

#endif

int vigil_i8_best_variant(void) {
    if (vigil_i8_variant_available(VIGIL_I8_AVXVNNI)) return VIGIL_I8_AVXVNNI;
    if (vigil_i8_variant_available(VIGIL_I8_AVX2)) return VIGIL_I8_AVX2;
    return VIGIL_I8_PORTABLE;
}
