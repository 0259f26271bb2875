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
/// Reduction quads per K block of the compute loop.
#define KCQ 512

static inline int64_t quads(int64_t k) { return (k + 3) / 4; }
/// Whether a variant multiplies uint8 activations (vpdpbusd) rather than int8 ones.
static inline int is_vnni(int variant) { return variant == VIGIL_I8_AVXVNNI || variant == VIGIL_I8_AVX512VNNI; }
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
    if (is_vnni(variant) && source_signed) d = -128;             // int8 stored as x + 128
    if (variant == VIGIL_I8_PORTABLE) return 0;                   // stored as x - zero_point already
    return d - zero_point;
}

int vigil_i8_pack_weights(int variant, const int16_t *w, int64_t m, int64_t k, void *packed, int32_t *row_sums) {
    int lo = variant == VIGIL_I8_AVX2 ? -127 : (is_vnni(variant) ? -128 : -32768);
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

static void pack_tile(const vigil_i8_source *s, const int64_t *pixels, int64_t valid, int64_t k, uint8_t flip, uint8_t *d);

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
        const int64_t *pixels = pixel_offsets + t * NR;
        int64_t valid = count - t * NR < NR ? count - t * NR : NR;
        pack_tile(s, pixels, valid, k, flip, dst + t * k4 * NR * 4);
    }
}

/// One tile of up to NR pixels, element by element: quad q holds, for each pixel j, reduction rows
/// 4q ..< 4q + 4 (zero past the tile's pixels and past K, where the weights are zero too).
static void pack_tile_scalar(const vigil_i8_source *s, const int64_t *pixels, int64_t valid, int64_t k, uint8_t flip, uint8_t *d) {
    int64_t k4 = quads(k);
    for (int64_t q = 0; q < k4; q++) {
        for (int64_t j = 0; j < NR; j++) {
            for (int64_t u = 0; u < 4; u++) {
                int64_t c = q * 4 + u;
                d[(q * NR + j) * 4 + u] = j < valid && c < k ? (uint8_t)(source_byte(s, pixels, j, c) ^ flip) : 0;
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

/// Loads the eight 8-lane accumulators of a 16 x 4 tile (or zeroes them).
#define LOAD_ACC8(acc, accumulate)                                                                              \
    if (accumulate) {                                                                                          \
        c00 = _mm256_loadu_si256((const __m256i *)((acc) + 0)); c01 = _mm256_loadu_si256((const __m256i *)((acc) + 8));   \
        c10 = _mm256_loadu_si256((const __m256i *)((acc) + 16)); c11 = _mm256_loadu_si256((const __m256i *)((acc) + 24)); \
        c20 = _mm256_loadu_si256((const __m256i *)((acc) + 32)); c21 = _mm256_loadu_si256((const __m256i *)((acc) + 40)); \
        c30 = _mm256_loadu_si256((const __m256i *)((acc) + 48)); c31 = _mm256_loadu_si256((const __m256i *)((acc) + 56)); \
    } else {                                                                                                   \
        c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = _mm256_setzero_si256();                                \
    }
#define VNNI __attribute__((target("avx2,fma,avxvnni")))
#define AVX512VNNI __attribute__((target("avx2,fma,avx512f,avx512bw,avx512vl,avx512vnni")))

int vigil_i8_variant_available(int variant) {
    __builtin_cpu_init();
    switch (variant) {
    case VIGIL_I8_PORTABLE: return 1;
    case VIGIL_I8_AVX2: return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case VIGIL_I8_AVXVNNI: return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("avxvnni");
    case VIGIL_I8_AVX512VNNI:
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("avx512f")
            && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni");
    default: return 0;
    }
}

// Long function: an unrolled SIMD micro-kernel (eight accumulators, two weight vectors, four pixels).
/// acc[j][0..16) = sum over k of w[..16][k] * x[j][k] for the 4 pixels of a tile, AVX2: |x| (unsigned)
/// times the weight with x's sign, pairs added by vpmaddubsw (at most 32512: exact) and vpmaddwd.
AVX2 static void micro_avx2(int64_t k4, const int8_t *w, const int8_t *x, int32_t *acc, int accumulate) {
    const __m256i ones = _mm256_set1_epi16(1);
    __m256i c00, c01, c10, c11, c20, c21, c30, c31;
    LOAD_ACC8(acc, accumulate)
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
VNNI static void micro_vnni(int64_t k4, const int8_t *w, const int8_t *x, int32_t *acc, int accumulate) {
    __m256i c00, c01, c10, c11, c20, c21, c30, c31;
    LOAD_ACC8(acc, accumulate)
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

/// A tile of NR pixels whose reduction values are rows of a matrix (each pixel's K values contiguous):
/// each quad is four 4-byte loads. Or a convolution's tile whose NR pixels are consecutive input
/// columns (stride 1, one output row): each reduction row gives 4 contiguous bytes, and a quad's 4 x 4
/// bytes are transposed with one shuffle.
AVX2 static void pack_tile_fast(const vigil_i8_source *s, const int64_t *pixels, int64_t k, uint8_t flip, uint8_t *d) {
    const __m128i f = _mm_set1_epi8((char)flip);
    const int64_t full = k / 4;
    if (!s->row_offsets) {
        const uint8_t *p0 = s->data + pixels[0], *p1 = s->data + pixels[1], *p2 = s->data + pixels[2], *p3 = s->data + pixels[3];
        for (int64_t q = 0; q < full; q++) {
            int32_t a0, a1, a2, a3;
            memcpy(&a0, p0 + 4 * q, 4); memcpy(&a1, p1 + 4 * q, 4); memcpy(&a2, p2 + 4 * q, 4); memcpy(&a3, p3 + 4 * q, 4);
            _mm_storeu_si128((__m128i *)(d + 16 * q), _mm_xor_si128(_mm_setr_epi32(a0, a1, a2, a3), f));
        }
    } else {
        const __m128i transpose = _mm_setr_epi8(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
        const uint8_t *base = s->data + pixels[0];
        const int64_t *ro = s->row_offsets;
        for (int64_t q = 0; q < full; q++) {
            int32_t a0, a1, a2, a3;
            memcpy(&a0, base + ro[4 * q], 4); memcpy(&a1, base + ro[4 * q + 1], 4);
            memcpy(&a2, base + ro[4 * q + 2], 4); memcpy(&a3, base + ro[4 * q + 3], 4);
            __m128i v = _mm_shuffle_epi8(_mm_setr_epi32(a0, a1, a2, a3), transpose);
            _mm_storeu_si128((__m128i *)(d + 16 * q), _mm_xor_si128(v, f));
        }
    }
    if (full * 4 < k) {
        // The last, partial quad.
        for (int64_t j = 0; j < NR; j++) {
            for (int64_t u = 0; u < 4; u++) {
                int64_t c = full * 4 + u;
                d[(full * NR + j) * 4 + u] = c < k ? (uint8_t)(source_byte(s, pixels, j, c) ^ flip) : 0;
            }
        }
    }
}

static int has_avx2_cached(void) {
    static int cached = -1;
    if (cached < 0) cached = vigil_i8_variant_available(VIGIL_I8_AVX2);
    return cached;
}

/// A convolution's tile whose NR pixels are every other input column (stride 2, one output row): 7 bytes
/// per reduction row, the even ones picked, then transposed as in `pack_tile_fast`.
AVX2 static void pack_tile_stride2(const vigil_i8_source *s, const int64_t *pixels, int64_t k, uint8_t flip, uint8_t *d) {
    const __m128i f = _mm_set1_epi8((char)flip);
    const __m128i even = _mm_setr_epi8(0, 2, 4, 6, 8, 10, 12, 14, -1, -1, -1, -1, -1, -1, -1, -1);
    const __m128i transpose = _mm_setr_epi8(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    const uint8_t *base = s->data + pixels[0];
    const int64_t *ro = s->row_offsets;
    const int64_t full = k / 4;
    for (int64_t q = 0; q < full; q++) {
        uint64_t r0 = 0, r1 = 0, r2 = 0, r3 = 0;
        // Seven bytes: the eighth may lie past the input.
        memcpy(&r0, base + ro[4 * q], 7); memcpy(&r1, base + ro[4 * q + 1], 7);
        memcpy(&r2, base + ro[4 * q + 2], 7); memcpy(&r3, base + ro[4 * q + 3], 7);
        __m128i lo = _mm_shuffle_epi8(_mm_set_epi64x((long long)r1, (long long)r0), even);
        __m128i hi = _mm_shuffle_epi8(_mm_set_epi64x((long long)r3, (long long)r2), even);
        __m128i rows = _mm_unpacklo_epi64(lo, hi);
        _mm_storeu_si128((__m128i *)(d + 16 * q), _mm_xor_si128(_mm_shuffle_epi8(rows, transpose), f));
    }
    if (full * 4 < k) {
        for (int64_t j = 0; j < NR; j++) {
            for (int64_t u = 0; u < 4; u++) {
                int64_t c = full * 4 + u;
                d[(full * NR + j) * 4 + u] = c < k ? (uint8_t)(source_byte(s, pixels, j, c) ^ flip) : 0;
            }
        }
    }
}

static void pack_tile(const vigil_i8_source *s, const int64_t *pixels, int64_t valid, int64_t k, uint8_t flip, uint8_t *d) {
    int full = valid == NR && has_avx2_cached();
    // Only a full tile has NR pixel offsets to read.
    int64_t span = full ? pixels[NR - 1] - pixels[0] : 0;
    if (full && (!s->row_offsets || span == NR - 1)) pack_tile_fast(s, pixels, k, flip, d);
    else if (full && s->row_offsets && span == 2 * (NR - 1) && pixels[1] - pixels[0] == 2 && pixels[2] - pixels[1] == 2) pack_tile_stride2(s, pixels, k, flip, d);
    else pack_tile_scalar(s, pixels, valid, k, flip, d);
}

/// Two weight panels (32 channels) times the 4 pixels of a tile with AVX-512 VNNI: each 512-bit weight
/// vector is one panel's quad (16 channels x 4 bytes); eight accumulators.
AVX512VNNI static void micro_avx512(int64_t k4, const int8_t *w0, const int8_t *w1, const int8_t *x, int32_t *acc0, int32_t *acc1,
                                     int accumulate) {
    __m512i a0, a1, a2, a3, b0, b1, b2, b3;
    if (accumulate) {
        a0 = _mm512_loadu_si512((const void *)(acc0 + 0)); a1 = _mm512_loadu_si512((const void *)(acc0 + 16));
        a2 = _mm512_loadu_si512((const void *)(acc0 + 32)); a3 = _mm512_loadu_si512((const void *)(acc0 + 48));
        b0 = _mm512_loadu_si512((const void *)(acc1 + 0)); b1 = _mm512_loadu_si512((const void *)(acc1 + 16));
        b2 = _mm512_loadu_si512((const void *)(acc1 + 32)); b3 = _mm512_loadu_si512((const void *)(acc1 + 48));
    } else {
        a0 = a1 = a2 = a3 = b0 = b1 = b2 = b3 = _mm512_setzero_si512();
    }
    for (int64_t q = 0; q < k4; q++) {
        __m512i u = _mm512_loadu_si512((const void *)w0), v = _mm512_loadu_si512((const void *)w1);
        __m512i p = _mm512_set1_epi32(*(const int32_t *)(x + 0));
        a0 = _mm512_dpbusd_epi32(a0, p, u); b0 = _mm512_dpbusd_epi32(b0, p, v);
        p = _mm512_set1_epi32(*(const int32_t *)(x + 4));
        a1 = _mm512_dpbusd_epi32(a1, p, u); b1 = _mm512_dpbusd_epi32(b1, p, v);
        p = _mm512_set1_epi32(*(const int32_t *)(x + 8));
        a2 = _mm512_dpbusd_epi32(a2, p, u); b2 = _mm512_dpbusd_epi32(b2, p, v);
        p = _mm512_set1_epi32(*(const int32_t *)(x + 12));
        a3 = _mm512_dpbusd_epi32(a3, p, u); b3 = _mm512_dpbusd_epi32(b3, p, v);
        w0 += MR * 4;
        w1 += MR * 4;
        x += NR * 4;
    }
    _mm512_storeu_si512((void *)(acc0 + 0), a0); _mm512_storeu_si512((void *)(acc0 + 16), a1);
    _mm512_storeu_si512((void *)(acc0 + 32), a2); _mm512_storeu_si512((void *)(acc0 + 48), a3);
    _mm512_storeu_si512((void *)(acc1 + 0), b0); _mm512_storeu_si512((void *)(acc1 + 16), b1);
    _mm512_storeu_si512((void *)(acc1 + 32), b2); _mm512_storeu_si512((void *)(acc1 + 48), b3);
}

/// Four weight panels (64 channels) times the 4 pixels of a tile with AVX-512 VNNI: sixteen accumulators,
/// so that each broadcast pixel quad feeds four products.
AVX512VNNI static void micro_avx512x4(int64_t k4, const int8_t *w, int64_t panel_stride, const int8_t *x, int32_t *acc, int64_t acc_stride,
                                      int accumulate) {
    __m512i c[4][4];
    for (int i = 0; i < 4; i++) {
        for (int j = 0; j < 4; j++) c[i][j] = accumulate ? _mm512_loadu_si512((const void *)(acc + i * acc_stride + j * 16)) : _mm512_setzero_si512();
    }
    for (int64_t q = 0; q < k4; q++) {
        __m512i w0 = _mm512_loadu_si512((const void *)w), w1 = _mm512_loadu_si512((const void *)(w + panel_stride));
        __m512i w2 = _mm512_loadu_si512((const void *)(w + 2 * panel_stride)), w3 = _mm512_loadu_si512((const void *)(w + 3 * panel_stride));
        for (int j = 0; j < 4; j++) {
            __m512i p = _mm512_set1_epi32(*(const int32_t *)(x + 4 * j));
            c[0][j] = _mm512_dpbusd_epi32(c[0][j], p, w0);
            c[1][j] = _mm512_dpbusd_epi32(c[1][j], p, w1);
            c[2][j] = _mm512_dpbusd_epi32(c[2][j], p, w2);
            c[3][j] = _mm512_dpbusd_epi32(c[3][j], p, w3);
        }
        w += MR * 4;
        x += NR * 4;
    }
    for (int i = 0; i < 4; i++) {
        for (int j = 0; j < 4; j++) _mm512_storeu_si512((void *)(acc + i * acc_stride + j * 16), c[i][j]);
    }
}

/// Converts a panel's accumulators (acc[j][0..16) for `count` pixels) in place: int32 results, float
/// bit patterns, or 16 bytes per pixel at the front of the buffer (pixel j's at byte 16 j, below the
/// rows not yet read). Row offsets and parameters are padded to whole panels.
AVX2 static void convert_panel(const epilogue *e, int64_t m0, int32_t *acc, int64_t count) {
    __m256i off0 = _mm256_loadu_si256((const __m256i *)(e->row_offset + m0));
    __m256i off1 = _mm256_loadu_si256((const __m256i *)(e->row_offset + m0 + 8));
    if (e->output == VIGIL_I8_OUT_INT32) {
        for (int64_t j = 0; j < count; j++) {
            int32_t *a = acc + j * MR;
            _mm256_storeu_si256((__m256i *)a, _mm256_add_epi32(_mm256_loadu_si256((const __m256i *)a), off0));
            _mm256_storeu_si256((__m256i *)(a + 8), _mm256_add_epi32(_mm256_loadu_si256((const __m256i *)(a + 8)), off1));
        }
        return;
    }
    epilogue_avx2 c = epilogue_avx2_make(e);
    __m256 mul0 = _mm256_loadu_ps(e->multiplier + m0), mul1 = _mm256_loadu_ps(e->multiplier + m0 + 8);
    __m256 bias0 = e->float_bias ? _mm256_loadu_ps(e->float_bias + m0) : _mm256_setzero_ps();
    __m256 bias1 = e->float_bias ? _mm256_loadu_ps(e->float_bias + m0 + 8) : _mm256_setzero_ps();
    int is_signed = e->output == VIGIL_I8_OUT_INT8;
    for (int64_t j = 0; j < count; j++) {
        int32_t *a = acc + j * MR;
        __m256 f0 = epilogue_avx2_float(&c, _mm256_add_epi32(_mm256_loadu_si256((const __m256i *)a), off0), mul0, bias0);
        __m256 f1 = epilogue_avx2_float(&c, _mm256_add_epi32(_mm256_loadu_si256((const __m256i *)(a + 8)), off1), mul1, bias1);
        if (e->output == VIGIL_I8_OUT_FLOAT) {
            _mm256_storeu_ps((float *)a, f0);
            _mm256_storeu_ps((float *)(a + 8), f1);
            continue;
        }
        __m256i q0 = epilogue_avx2_quantized(&c, f0), q1 = epilogue_avx2_quantized(&c, f1);
        __m256i words = _mm256_permute4x64_epi64(_mm256_packs_epi32(q0, q1), 0xd8);
        __m128i lo = _mm256_castsi256_si128(words), hi = _mm256_extracti128_si256(words, 1);
        __m128i bytes = is_signed ? _mm_packs_epi16(lo, hi) : _mm_packus_epi16(lo, hi);
        _mm_storeu_si128((__m128i *)((uint8_t *)acc + j * MR), bytes);
    }
}

/// Transposes 16 rows of 16 bytes in place (r[i] byte j becomes r[j] byte i).
AVX2 static void transpose16(__m128i r[16]) {
    // t[p][h]: rows 2p, 2p + 1 interleaved, columns 8h..8h+7 (16-bit units).
    __m128i t[8][2], u[4][4], w[2][4][2];
    for (int p = 0; p < 8; p++) { t[p][0] = _mm_unpacklo_epi8(r[2 * p], r[2 * p + 1]); t[p][1] = _mm_unpackhi_epi8(r[2 * p], r[2 * p + 1]); }
    // u[k][q]: rows 4k..4k+3, columns 4q..4q+3 (32-bit units).
    for (int k = 0; k < 4; k++)
        for (int h = 0; h < 2; h++) {
            u[k][2 * h] = _mm_unpacklo_epi16(t[2 * k][h], t[2 * k + 1][h]);
            u[k][2 * h + 1] = _mm_unpackhi_epi16(t[2 * k][h], t[2 * k + 1][h]);
        }
    // w[l][q][h]: rows 8l..8l+7, columns 4q + 2h, 4q + 2h + 1 (64-bit units).
    for (int l = 0; l < 2; l++)
        for (int q = 0; q < 4; q++) {
            w[l][q][0] = _mm_unpacklo_epi32(u[2 * l][q], u[2 * l + 1][q]);
            w[l][q][1] = _mm_unpackhi_epi32(u[2 * l][q], u[2 * l + 1][q]);
        }
    for (int q = 0; q < 4; q++)
        for (int h = 0; h < 2; h++) {
            r[4 * q + 2 * h] = _mm_unpacklo_epi64(w[0][q][h], w[1][q][h]);
            r[4 * q + 2 * h + 1] = _mm_unpackhi_epi64(w[0][q][h], w[1][q][h]);
        }
}

/// Writes a converted byte panel (16 bytes per pixel): channel by channel in runs of 16 pixels when
/// the pixels' outputs are consecutive, pixel by pixel when the channels' are, else byte by byte.
AVX2 static void store_panel_bytes(const vigil_i8_gemm *g, const uint8_t *bytes, int64_t m0, int64_t count, const int64_t *out) {
    int64_t rows = g->m - m0 < MR ? g->m - m0 : MR, j = 0;
    uint8_t *y = (uint8_t *)g->y + m0 * g->channel_stride;
    if (rows == MR && g->channel_stride == 1) {
        for (; j < count; j++) _mm_storeu_si128((__m128i *)(y + out[j]), _mm_loadu_si128((const __m128i *)(bytes + j * MR)));
        return;
    }
    int contiguous = 1;
    for (int64_t i = 1; i < count; i++) contiguous &= out[i] == out[0] + i;
    if (contiguous) {
        for (; j + 16 <= count; j += 16) {
            __m128i r[16];
            for (int i = 0; i < 16; i++) r[i] = _mm_loadu_si128((const __m128i *)(bytes + (j + i) * MR));
            transpose16(r);
            for (int64_t i = 0; i < rows; i++) _mm_storeu_si128((__m128i *)(y + i * g->channel_stride + out[j]), r[i]);
        }
    }
    for (int64_t i = 0; i < rows; i++)
        for (int64_t jj = j; jj < count; jj++) y[i * g->channel_stride + out[jj]] = bytes[jj * MR + i];
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
    int32_t acc[4][NC * MR] __attribute__((aligned(64)));
    output_offsets(g, p0, count, out);
    int64_t k4 = quads(g->k), panel_stride = k4 * MR * 4;
    for (int64_t p = panel_begin; p < panel_end; p++) {
        const int8_t *w = (const int8_t *)g->packed_w + p * panel_stride;
        // AVX-512 VNNI takes four panels at once, or two, when there are that many left.
        int left = (int)(panel_end - p);
        int panels = g->variant != VIGIL_I8_AVX512VNNI ? 1 : (left >= 4 ? 4 : (left >= 2 ? 2 : 1));
        // K in blocks of KCQ quads, so that a block's weights stay in cache across the tiles.
        for (int64_t q0 = 0; q0 < k4; q0 += KCQ) {
            int64_t kc = k4 - q0 < KCQ ? k4 - q0 : KCQ;
            const int8_t *wq = w + q0 * MR * 4;
            for (int64_t t = 0; t * NR < count; t++) {
                const int8_t *x = (const int8_t *)packed_block + (t * k4 + q0) * NR * 4;
                int32_t *a = acc[0] + t * NR * MR;
                if (panels == 4) micro_avx512x4(kc, wq, panel_stride, x, a, NC * MR, q0 > 0);
                else if (panels == 2) micro_avx512(kc, wq, wq + panel_stride, x, a, acc[1] + t * NR * MR, q0 > 0);
                else if (is_vnni(g->variant)) micro_vnni(kc, wq, x, a, q0 > 0);
                else micro_avx2(kc, wq, x, a, q0 > 0);
            }
        }
        for (int i = 0; i < panels; i++) {
            convert_panel(&e, (p + i) * MR, acc[i], count);
            if (g->output == VIGIL_I8_OUT_UINT8 || g->output == VIGIL_I8_OUT_INT8) store_panel_bytes(g, (const uint8_t *)acc[i], (p + i) * MR, count, out);
            else store_panel(g, acc[i], (p + i) * MR, count, out);
        }
        p += panels - 1;
    }
}

#else

int vigil_i8_variant_available(int variant) { return variant == VIGIL_I8_PORTABLE; }

static void pack_tile(const vigil_i8_source *s, const int64_t *pixels, int64_t valid, int64_t k, uint8_t flip, uint8_t *d) {
    pack_tile_scalar(s, pixels, valid, k, flip, d);
}

void vigil_i8_compute(const vigil_i8_gemm *g, const void *packed_block, int64_t p0, int64_t count, int64_t panel_begin,
                      int64_t panel_end) {
    compute_portable(g, (const int16_t *)packed_block, p0, count, panel_begin, panel_end);
}

#endif

int vigil_i8_best_variant(void) {
    if (vigil_i8_variant_available(VIGIL_I8_AVX512VNNI)) return VIGIL_I8_AVX512VNNI;
    if (vigil_i8_variant_available(VIGIL_I8_AVXVNNI)) return VIGIL_I8_AVXVNNI;
    if (vigil_i8_variant_available(VIGIL_I8_AVX2)) return VIGIL_I8_AVX2;
    return VIGIL_I8_PORTABLE;
}
