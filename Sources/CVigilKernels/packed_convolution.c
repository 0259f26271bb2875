// Packed-weight direct convolution (see include/vigil_kernels.h).
#include "vigil_kernels.h"

#include <string.h>

// K rows per block: a 16 x KC weight panel (16 KB) stays in L1 across the tiles.
#define KC 256
// Pixels per block: the KC x NC pixel block (96 KB) stays in L2.
#define NC VIGIL_CONV_NC
#define MR VIGIL_CONV_MR
#define NR VIGIL_CONV_NR

size_t vigil_conv_packed_weight_count(int64_t m, int64_t k) {
    return (size_t)((m + MR - 1) / MR) * MR * (size_t)k;
}

/// Packed layout: K blocks of KC rows one after another; within a block, panel after panel of kc x 16,
/// so a run over all panels of one K block (what a thin output needs) reads memory in order.
static inline int64_t panel_offset(int64_t m_padded, int64_t mb, int64_t k0, int64_t kc) {
    return k0 * m_padded + mb * MR * kc;
}

void vigil_conv_pack_weights(const float *w, int64_t m, int64_t k, float *packed) {
    int64_t panels = (m + MR - 1) / MR;
    for (int64_t k0 = 0; k0 < k; k0 += KC) {
        int64_t kc = k - k0 < KC ? k - k0 : KC;
        for (int64_t p = 0; p < panels; p++) {
            float *dst = packed + panel_offset(panels * MR, p, k0, kc);
            for (int64_t kk = 0; kk < kc; kk++) {
                for (int64_t i = 0; i < MR; i++) {
                    int64_t row = p * MR + i;
                    dst[kk * MR + i] = row < m ? w[row * k + k0 + kk] : 0.0f;
                }
            }
        }
    }
}

size_t vigil_conv_workspace_count(int64_t mblocks) {
    // Pixel block (+ slack for 8-wide stores of 6-wide rows) and the accumulator tiles.
    return (size_t)KC * NC + 16 + (size_t)mblocks * MR * NC;
}

void vigil_pad_planes(const float *x, float *padded, int64_t planes, int64_t h, int64_t w, int64_t top,
                      int64_t bottom, int64_t left, int64_t right) {
    int64_t pw = w + left + right, ph = h + top + bottom;
    for (int64_t p = 0; p < planes; p++) {
        const float *src = x + p * h * w;
        float *dst = padded + p * ph * pw;
        memset(dst, 0, sizeof(float) * (size_t)(top * pw));
        for (int64_t r = 0; r < h; r++) {
            float *row = dst + (top + r) * pw;
            memset(row, 0, sizeof(float) * (size_t)left);
            memcpy(row + left, src + r * w, sizeof(float) * (size_t)w);
            memset(row + left + w, 0, sizeof(float) * (size_t)right);
        }
        memset(dst + (top + h) * pw, 0, sizeof(float) * (size_t)(bottom * pw));
    }
}


/// Tiles per Winograd chunk: a multiple of the micro-tile width, and the pixel block of the direct path.
#define WT NC

size_t vigil_winograd_packed_weight_count(int64_t m, int64_t c) { return 16 * vigil_conv_packed_weight_count(m, c); }

void vigil_winograd_pack_weights(const float *w, int64_t m, int64_t c, float *packed) {
    // U = G g G^T per (output channel, channel), G = [[1, 0, 0], [1/2, 1/2, 1/2], [1/2, -1/2, 1/2], [0, 0, 1]],
    // written straight into the panel layout of each of the 16 matrices U[xi] (M x C), as
    // vigil_conv_pack_weights lays out an M x K matrix (no full-size temporary).
    size_t count = vigil_conv_packed_weight_count(m, c);
    int64_t m_padded = (m + MR - 1) / MR * MR;
    memset(packed, 0, sizeof(float) * 16 * count);
    for (int64_t o = 0; o < m; o++) {
        for (int64_t ch = 0; ch < c; ch++) {
            const float *g = w + (o * c + ch) * 9;
            float t[4][3];  // G g
            for (int j = 0; j < 3; j++) {
                float g0 = g[0 * 3 + j], g1 = g[1 * 3 + j], g2 = g[2 * 3 + j];
                t[0][j] = g0;
                t[1][j] = 0.5f * (g0 + g1 + g2);
                t[2][j] = 0.5f * (g0 - g1 + g2);
                t[3][j] = g2;
            }
            int64_t k0 = ch / KC * KC, kc = c - k0 < KC ? c - k0 : KC;
            size_t at = (size_t)(panel_offset(m_padded, o / MR, k0, kc) + (ch - k0) * MR + o % MR);
            for (int i = 0; i < 4; i++) {  // (G g) G^T
                float a = t[i][0], b = t[i][1], d = t[i][2];
                float row[4] = {a, 0.5f * (a + b + d), 0.5f * (a - b + d), d};
                for (int j = 0; j < 4; j++) packed[(size_t)(i * 4 + j) * count + at] = row[j];
            }
        }
    }
}

size_t vigil_winograd_workspace_count(int64_t c) {
    // Row offsets (int64, as floats x2), the transformed tiles V (16 x C x WT), one panel's 16 accumulators,
    // and its staged outputs (8 channels x WT tiles x 4).
    return (size_t)KC * 2 + 16 * (size_t)c * WT + 16 * (size_t)MR * WT + 32 * WT + 16;
}

#if defined(__x86_64__)
#include <immintrin.h>

int vigil_kernels_available(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

#define AVX2 __attribute__((target("avx2,fma")))

/// Input and output offsets of pixels [n0, n0 + count), walking (image, row, column) without divisions.
static void pixel_offsets(const vigil_conv_problem *p, int64_t n0, int64_t count, int64_t *in, int64_t *out) {
    int64_t ohw = p->out_h * p->out_w;
    int64_t image = n0 / ohw, r = n0 - image * ohw, oh = r / p->out_w, ow = r - oh * p->out_w;
    for (int64_t j = 0; j < count; j++) {
        in[j] = image * p->in_image_stride + oh * p->stride_h * p->in_w + ow * p->stride_w;
        out[j] = image * p->out_image_stride + oh * p->out_w + ow;
        if (++ow == p->out_w) {
            ow = 0;
            if (++oh == p->out_h) { oh = 0; image++; }
        }
    }
}

/// For six pixel offsets made of two contiguous runs, the index where the second run starts; else 0.
static inline int64_t two_runs(const int64_t *base) {
    int64_t split = 0;
    for (int64_t j = 1; j < NR; j++) {
        if (base[j] != base[j - 1] + 1) {
            if (split) return 0;
            split = j;
        }
    }
    return split;
}

/// Whether a tile's six pixels lie on one input row, so the micro-kernel can read them in place
/// (each reduction row is six consecutive floats at the pixel's offset) instead of from a packed copy.
static inline int is_direct(const int64_t *base, int64_t valid) {
    return valid == NR && base[NR - 1] - base[0] == NR - 1;
}

/// Packs `count` pixels (input offsets `base`) x rows [k0, k0 + kc) as tiles of kc x 6 (zero beyond `count`),
/// skipping the tiles the direct micro-kernel reads in place.
AVX2 static void pack_pixels(const vigil_conv_problem *p, const float *x, const int64_t *bases, int64_t count, int64_t k0,
                             int64_t kc, float *dst) {
    const int64_t *offsets = p->row_offsets + k0;
    const __m256i mask6 = _mm256_setr_epi32(-1, -1, -1, -1, -1, -1, 0, 0);
    for (int64_t t = 0; t * NR < count; t++) {
        const int64_t *base = bases + t * NR;
        int64_t valid = count - t * NR < NR ? count - t * NR : NR;
        float *d = dst + t * kc * NR;
        if (is_direct(base, valid)) {
            continue;  // read in place by the direct micro-kernel
        } else if (valid == NR && two_runs(base) > 0) {
            // Six pixels wrapping onto the next output row: two contiguous runs, two masked loads.
            int64_t split = two_runs(base);
            const __m256i index = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
            const __m256i first = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)split), index);
            const __m256i second = _mm256_andnot_si256(first, mask6);
            const float *src0 = x + base[0], *src1 = x + base[split] - split;
            for (int64_t kk = 0; kk < kc; kk++) {
                __m256 v = _mm256_or_ps(_mm256_maskload_ps(src0 + offsets[kk], first),
                                        _mm256_maskload_ps(src1 + offsets[kk], second));
                _mm256_storeu_ps(d + kk * NR, v);
            }
        } else {
            for (int64_t kk = 0; kk < kc; kk++) {
                int64_t off = offsets[kk];
                for (int64_t j = 0; j < valid; j++) d[kk * NR + j] = x[base[j] + off];
                for (int64_t j = valid; j < NR; j++) d[kk * NR + j] = 0.0f;
            }
        }
    }
}

/// c[j][0..16) (+)= sum over kc of a[k][0..16) * b[k][j], for the 6 pixels j of one tile.
/// Row k of the tile is `b + 6k` (packed) or, for `direct`, `xb + offsets[k]` (in place).
AVX2 static inline __attribute__((always_inline)) void micro_body(int64_t kc, const float *a, const float *b,
                                                                  const float *xb, const int64_t *offsets, int direct,
                                                                  float *c, int accumulate) {
    __m256 c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51;
    if (accumulate) {
        c00 = _mm256_loadu_ps(c + 0); c01 = _mm256_loadu_ps(c + 8);
        c10 = _mm256_loadu_ps(c + 16); c11 = _mm256_loadu_ps(c + 24);
        c20 = _mm256_loadu_ps(c + 32); c21 = _mm256_loadu_ps(c + 40);
        c30 = _mm256_loadu_ps(c + 48); c31 = _mm256_loadu_ps(c + 56);
        c40 = _mm256_loadu_ps(c + 64); c41 = _mm256_loadu_ps(c + 72);
        c50 = _mm256_loadu_ps(c + 80); c51 = _mm256_loadu_ps(c + 88);
    } else {
        c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = c40 = c41 = c50 = c51 = _mm256_setzero_ps();
    }
    for (int64_t k = 0; k < kc; k++) {
        if (direct) b = xb + offsets[k];
        __m256 a0 = _mm256_loadu_ps(a), a1 = _mm256_loadu_ps(a + 8);
        __m256 b0 = _mm256_broadcast_ss(b + 0);
        c00 = _mm256_fmadd_ps(a0, b0, c00); c01 = _mm256_fmadd_ps(a1, b0, c01);
        __m256 b1 = _mm256_broadcast_ss(b + 1);
        c10 = _mm256_fmadd_ps(a0, b1, c10); c11 = _mm256_fmadd_ps(a1, b1, c11);
        __m256 b2 = _mm256_broadcast_ss(b + 2);
        c20 = _mm256_fmadd_ps(a0, b2, c20); c21 = _mm256_fmadd_ps(a1, b2, c21);
        __m256 b3 = _mm256_broadcast_ss(b + 3);
        c30 = _mm256_fmadd_ps(a0, b3, c30); c31 = _mm256_fmadd_ps(a1, b3, c31);
        __m256 b4 = _mm256_broadcast_ss(b + 4);
        c40 = _mm256_fmadd_ps(a0, b4, c40); c41 = _mm256_fmadd_ps(a1, b4, c41);
        __m256 b5 = _mm256_broadcast_ss(b + 5);
        c50 = _mm256_fmadd_ps(a0, b5, c50); c51 = _mm256_fmadd_ps(a1, b5, c51);
        _mm_prefetch((const char *)(a + 32 * MR), _MM_HINT_T0);  // 2 KB ahead: weights may come from memory
        a += MR;
        if (!direct) b += NR;
    }
    _mm256_storeu_ps(c + 0, c00); _mm256_storeu_ps(c + 8, c01);
    _mm256_storeu_ps(c + 16, c10); _mm256_storeu_ps(c + 24, c11);
    _mm256_storeu_ps(c + 32, c20); _mm256_storeu_ps(c + 40, c21);
    _mm256_storeu_ps(c + 48, c30); _mm256_storeu_ps(c + 56, c31);
    _mm256_storeu_ps(c + 64, c40); _mm256_storeu_ps(c + 72, c41);
    _mm256_storeu_ps(c + 80, c50); _mm256_storeu_ps(c + 88, c51);
}

AVX2 static void micro_16x6(int64_t kc, const float *a, const float *b, float *c, int accumulate) {
    micro_body(kc, a, b, 0, 0, 0, c, accumulate);
}

AVX2 static void micro_16x6_direct(int64_t kc, const float *a, const float *xb, const int64_t *offsets, float *c,
                                   int accumulate) {
    micro_body(kc, a, 0, xb, offsets, 1, c, accumulate);
}

/// Writes one weight panel's accumulators for `count` pixels: bias, residual, activation `act`, channel
/// by channel, so that each channel's pixels are written in order (rows of one pixel are a plane apart,
/// and planes a power of two apart would thrash L1 if written pixel by pixel).
static inline __attribute__((always_inline)) void store_panel(
    const vigil_conv_problem *p, int act, const float *acc, int64_t count, const int64_t *out, int64_t mb,
    const float *bias, const float *residual, float *y) {
    int64_t rows = p->m - mb * MR < MR ? p->m - mb * MR : MR;
    const float alpha = p->alpha, beta = p->beta;
    for (int64_t i = 0; i < rows; i++) {
        int64_t co = mb * MR + i;
        const float b = bias ? bias[co] : 0.0f;
        float *yrow = y + co * p->out_channel_stride;
        const float *rrow = residual ? residual + co * p->out_channel_stride : 0;
        for (int64_t j0 = 0; j0 < count; j0 += NR) {
            const float *c = acc + j0 * MR + i;
            int64_t lanes = count - j0 < NR ? count - j0 : NR;
            for (int64_t lane = 0; lane < lanes; lane++) {
                int64_t o = out[j0 + lane];
                float v = c[lane * MR] + b;
                if (rrow) v += rrow[o];
                switch (act) {
                case VIGIL_ACTIVATION_RELU: v = v < 0.0f ? 0.0f : v; break;  // keeps NaN, as Relu does
                case VIGIL_ACTIVATION_LEAKY_RELU: v = v < 0.0f ? v * alpha : v; break;
                case VIGIL_ACTIVATION_CLIP: v = v < alpha ? alpha : (v > beta ? beta : v); break;
                default: break;
                }
                yrow[o] = v;
            }
        }
    }
}

AVX2 void vigil_conv_compute(const vigil_conv_problem *p, const float *x, const float *packed_w, const float *bias,
                             const float *residual, float *y, int64_t pixel_begin, int64_t pixel_end,
                             int64_t mblock_begin, int64_t mblock_end, float *workspace) {
    float *pixels = workspace, *acc = workspace + KC * NC + 16;
    int64_t in_offsets[NC], out_offsets[NC];
    int64_t m_padded = (p->m + MR - 1) / MR * MR;
    for (int64_t n0 = pixel_begin; n0 < pixel_end; n0 += NC) {
        int64_t count = pixel_end - n0 < NC ? pixel_end - n0 : NC;
        int64_t tiles = (count + NR - 1) / NR;
        pixel_offsets(p, n0, count, in_offsets, out_offsets);
        for (int64_t k0 = 0; k0 < p->k; k0 += KC) {
            int64_t kc = p->k - k0 < KC ? p->k - k0 : KC;
            pack_pixels(p, x, in_offsets, count, k0, kc, pixels);
            for (int64_t mb = mblock_begin; mb < mblock_end; mb++) {
                const float *a = packed_w + panel_offset(m_padded, mb, k0, kc);
                float *c = acc + (mb - mblock_begin) * tiles * MR * NR;
                for (int64_t t = 0; t < tiles; t++) {
                    const int64_t *base = in_offsets + t * NR;
                    int64_t valid = count - t * NR < NR ? count - t * NR : NR;
                    if (is_direct(base, valid)) {
                        micro_16x6_direct(kc, a, x + base[0], p->row_offsets + k0, c + t * MR * NR, k0 > 0);
                    } else {
                        micro_16x6(kc, a, pixels + t * kc * NR, c + t * MR * NR, k0 > 0);
                    }
                }
            }
        }
        // Epilogue, one specialization per activation.
        for (int64_t mb = mblock_begin; mb < mblock_end; mb++) {
            const float *c = acc + (mb - mblock_begin) * tiles * MR * NR;
            switch (p->activation) {
            case VIGIL_ACTIVATION_RELU:
                store_panel(p, VIGIL_ACTIVATION_RELU, c, count, out_offsets, mb, bias, residual, y); break;
            case VIGIL_ACTIVATION_LEAKY_RELU:
                store_panel(p, VIGIL_ACTIVATION_LEAKY_RELU, c, count, out_offsets, mb, bias, residual, y); break;
            case VIGIL_ACTIVATION_CLIP:
                store_panel(p, VIGIL_ACTIVATION_CLIP, c, count, out_offsets, mb, bias, residual, y); break;
            default:
                store_panel(p, VIGIL_ACTIVATION_NONE, c, count, out_offsets, mb, bias, residual, y); break;
            }
        }
    }
}


/// Even and odd elements of the 16 floats a:b, in order.
AVX2 static inline void deinterleave(__m256 a, __m256 b, __m256 *even, __m256 *odd) {
    __m256 e = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0)), o = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1));
    *even = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(e), _MM_SHUFFLE(3, 1, 2, 0)));
    *odd = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(o), _MM_SHUFFLE(3, 1, 2, 0)));
}

/// V[xi][ch][tt] = (B^T d B)[xi] for the 4 x 4 input patch d of tiles t0 + tt, tt < count (zero up to a
/// whole micro-tile), B^T = [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]]. Eight (or four)
/// tiles on one tile row are transformed at once; others one by one. Returns whether any V is NaN or
/// infinite (a non-finite input, which the transform would spread to the tile's other outputs).
AVX2 static int winograd_input(const vigil_winograd_problem *p, const float *x, int64_t t0, int64_t count, float *v) {
    const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff)), inf = _mm256_set1_ps(__builtin_inff());
    __m256 bad = _mm256_setzero_ps();
    float bad_scalar = 0.0f;
    const int64_t tw = p->out_w / 2, per_image = tw * (p->out_h / 2), w = p->in_w, c = p->c;
    int64_t rounded = (count + NR - 1) / NR * NR;
    for (int64_t tt = 0; tt < count;) {
        int64_t t = t0 + tt, n = t / per_image, r = t - n * per_image, ty = r / tw, tx = r - ty * tw;
        const float *base = x + n * p->in_image_stride + 2 * ty * w + 2 * tx;
        if (tx + 8 <= tw && tt + 8 <= count) {
            for (int64_t ch = 0; ch < c; ch++) {
                const float *d = base + ch * p->in_channel_stride;
                __m256 s[4][4];
                for (int i = 0; i < 4; i++) {
                    const float *row = d + i * w;
                    __m256 d0, d1, d2, d3;
                    deinterleave(_mm256_loadu_ps(row), _mm256_loadu_ps(row + 8), &d0, &d1);
                    deinterleave(_mm256_loadu_ps(row + 2), _mm256_loadu_ps(row + 10), &d2, &d3);
                    s[i][0] = _mm256_sub_ps(d0, d2);
                    s[i][1] = _mm256_add_ps(d1, d2);
                    s[i][2] = _mm256_sub_ps(d2, d1);
                    s[i][3] = _mm256_sub_ps(d1, d3);
                    // |d| >= inf or unordered: NaN or infinity among the patch values.
                    // |d| >= inf or unordered: NaN or infinity among the patch values.
                    bad = _mm256_or_ps(bad, _mm256_cmp_ps(_mm256_and_ps(d0, abs_mask), inf, _CMP_NLT_UQ));
                    bad = _mm256_or_ps(bad, _mm256_cmp_ps(_mm256_and_ps(d1, abs_mask), inf, _CMP_NLT_UQ));
                    bad = _mm256_or_ps(bad, _mm256_cmp_ps(_mm256_and_ps(d2, abs_mask), inf, _CMP_NLT_UQ));
                    bad = _mm256_or_ps(bad, _mm256_cmp_ps(_mm256_and_ps(d3, abs_mask), inf, _CMP_NLT_UQ));
                }
                for (int j = 0; j < 4; j++) {
                    float *out = v + ch * WT + tt;
                    _mm256_storeu_ps(out + (size_t)(0 * 4 + j) * c * WT, _mm256_sub_ps(s[0][j], s[2][j]));
                    _mm256_storeu_ps(out + (size_t)(1 * 4 + j) * c * WT, _mm256_add_ps(s[1][j], s[2][j]));
                    _mm256_storeu_ps(out + (size_t)(2 * 4 + j) * c * WT, _mm256_sub_ps(s[2][j], s[1][j]));
                    _mm256_storeu_ps(out + (size_t)(3 * 4 + j) * c * WT, _mm256_sub_ps(s[1][j], s[3][j]));
                }
            }
            tt += 8;
        } else if (tx + 4 <= tw && tt + 4 <= count) {
            // Four tiles on one tile row (8 x 8 images): the same with 4-wide vectors.
            for (int64_t ch = 0; ch < c; ch++) {
                const float *d = base + ch * p->in_channel_stride;
                __m128 s[4][4];
                for (int i = 0; i < 4; i++) {
                    const float *row = d + i * w;
                    __m128 a = _mm_loadu_ps(row), b = _mm_loadu_ps(row + 4), a2 = _mm_loadu_ps(row + 2), b2 = _mm_loadu_ps(row + 6);
                    __m128 d0 = _mm_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0)), d1 = _mm_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1));
                    __m128 d2 = _mm_shuffle_ps(a2, b2, _MM_SHUFFLE(2, 0, 2, 0)), d3 = _mm_shuffle_ps(a2, b2, _MM_SHUFFLE(3, 1, 3, 1));
                    s[i][0] = _mm_sub_ps(d0, d2);
                    s[i][1] = _mm_add_ps(d1, d2);
                    s[i][2] = _mm_sub_ps(d2, d1);
                    s[i][3] = _mm_sub_ps(d1, d3);
                    __m128 am = _mm256_castps256_ps128(abs_mask), in = _mm256_castps256_ps128(inf);
                    __m128 b4 = _mm_or_ps(_mm_cmpnlt_ps(_mm_and_ps(d0, am), in), _mm_cmpnlt_ps(_mm_and_ps(d1, am), in));
                    b4 = _mm_or_ps(b4, _mm_or_ps(_mm_cmpnlt_ps(_mm_and_ps(d2, am), in), _mm_cmpnlt_ps(_mm_and_ps(d3, am), in)));
                    bad = _mm256_or_ps(bad, _mm256_zextps128_ps256(b4));
                }
                for (int j = 0; j < 4; j++) {
                    float *out = v + ch * WT + tt;
                    _mm_storeu_ps(out + (size_t)(0 * 4 + j) * c * WT, _mm_sub_ps(s[0][j], s[2][j]));
                    _mm_storeu_ps(out + (size_t)(1 * 4 + j) * c * WT, _mm_add_ps(s[1][j], s[2][j]));
                    _mm_storeu_ps(out + (size_t)(2 * 4 + j) * c * WT, _mm_sub_ps(s[2][j], s[1][j]));
                    _mm_storeu_ps(out + (size_t)(3 * 4 + j) * c * WT, _mm_sub_ps(s[1][j], s[3][j]));
                }
            }
            tt += 4;
        } else {
            for (int64_t ch = 0; ch < c; ch++) {
                const float *d = base + ch * p->in_channel_stride;
                float s[4][4];
                for (int i = 0; i < 4; i++) {
                    const float *row = d + i * w;
                    s[i][0] = row[0] - row[2];
                    s[i][1] = row[1] + row[2];
                    s[i][2] = row[2] - row[1];
                    s[i][3] = row[1] - row[3];
                    for (int j = 0; j < 4; j++) bad_scalar += row[j] * 0.0f;  // NaN iff some row[j] is NaN or infinite
                }
                for (int j = 0; j < 4; j++) {
                    float *out = v + ch * WT + tt;
                    out[(size_t)(0 * 4 + j) * c * WT] = s[0][j] - s[2][j];
                    out[(size_t)(1 * 4 + j) * c * WT] = s[1][j] + s[2][j];
                    out[(size_t)(2 * 4 + j) * c * WT] = s[2][j] - s[1][j];
                    out[(size_t)(3 * 4 + j) * c * WT] = s[1][j] - s[3][j];
                }
            }
            tt += 1;
        }
    }
    for (int64_t xi = 0; xi < 16; xi++)
        for (int64_t ch = 0; ch < c; ch++)
            for (int64_t tt = count; tt < rounded; tt++) v[(xi * c + ch) * WT + tt] = 0.0f;
    return _mm256_movemask_ps(bad) != 0 || bad_scalar != bad_scalar;
}

/// The tiles of one chunk for weight panel `mb`, by the definition (sum over channels and taps, from the
/// original weights), for chunks whose input holds NaN or infinity: there each output is NaN or infinite
/// exactly when a value in its own 3 x 3 window is, as with the direct convolution.
static void winograd_exact_tiles(const vigil_winograd_problem *p, const float *x, int64_t t0, int64_t count, int64_t mb,
                                 const float *bias, const float *residual, float *y) {
    const int64_t tw = p->out_w / 2, per_image = tw * (p->out_h / 2), ow = p->out_w, w = p->in_w;
    int64_t rows = p->m - mb * MR < MR ? p->m - mb * MR : MR;
    for (int64_t tt = 0; tt < count; tt++) {
        int64_t t = t0 + tt, n = t / per_image, r = t - n * per_image, ty = r / tw, tx = r - ty * tw;
        for (int64_t i = 0; i < rows; i++) {
            int64_t co = mb * MR + i;
            for (int q = 0; q < 4; q++) {
                int64_t oy = 2 * ty + q / 2, ox = 2 * tx + q % 2;
                float sum = bias ? bias[co] : 0.0f;
                for (int64_t ch = 0; ch < p->c; ch++) {
                    const float *in = x + n * p->in_image_stride + ch * p->in_channel_stride + oy * w + ox;
                    const float *g = p->weights + (co * p->c + ch) * 9;
                    for (int kh = 0; kh < 3; kh++)
                        for (int kw = 0; kw < 3; kw++) sum += in[kh * w + kw] * g[kh * 3 + kw];
                }
                int64_t o = n * p->out_image_stride + co * p->out_channel_stride + oy * ow + ox;
                if (residual) sum += residual[o];
                switch (p->activation) {
                case VIGIL_ACTIVATION_RELU: sum = sum < 0.0f ? 0.0f : sum; break;
                case VIGIL_ACTIVATION_LEAKY_RELU: sum = sum < 0.0f ? sum * p->alpha : sum; break;
                case VIGIL_ACTIVATION_CLIP: sum = sum < p->alpha ? p->alpha : (sum > p->beta ? p->beta : sum); break;
                default: break;
                }
                y[o] = sum;
            }
        }
    }
}

/// y = act(A^T M A + bias + residual) for one weight panel and `count` tiles, A^T = [[1, 1, 1, 0], [0, 1, -1, -1]];
/// M[xi] are the panel's accumulator tiles (16 channels x 6 tiles each). The transform runs on eight
/// channels at a time into `staged` (channel, tile, 2 x 2), which is then written channel by channel, so
/// that the stores of one channel's rows follow each other (planes a power of two apart alias in L1).
AVX2 static void winograd_output(const vigil_winograd_problem *p, const float *acc, int64_t t0, int64_t count, int64_t mb,
                                 const float *bias, const float *residual, float *y, float *staged) {
    const int64_t tw = p->out_w / 2, per_image = tw * (p->out_h / 2), ow = p->out_w;
    const int64_t acc_stride = (WT / NR) * MR * NR;  // floats between the accumulators of two xi
    const __m256 zero = _mm256_setzero_ps(), alpha = _mm256_set1_ps(p->alpha), beta = _mm256_set1_ps(p->beta);
    int64_t rows = p->m - mb * MR < MR ? p->m - mb * MR : MR;
    for (int64_t half = 0; half * 8 < rows; half++) {
        int64_t co0 = mb * MR + half * 8, lanes = rows - half * 8 < 8 ? rows - half * 8 : 8;
        float b[8] = {0};
        for (int64_t l = 0; l < lanes && bias; l++) b[l] = bias[co0 + l];
        const __m256 bv = _mm256_loadu_ps(b);
        for (int64_t tt = 0; tt < count; tt++) {
            const float *a = acc + (tt / NR) * MR * NR + (tt % NR) * MR + half * 8;
            __m256 m[16];
            for (int xi = 0; xi < 16; xi++) m[xi] = _mm256_loadu_ps(a + xi * acc_stride);
            __m256 s0[4], s1[4];
            for (int j = 0; j < 4; j++) {
                s0[j] = _mm256_add_ps(_mm256_add_ps(m[0 * 4 + j], m[1 * 4 + j]), m[2 * 4 + j]);
                s1[j] = _mm256_sub_ps(_mm256_sub_ps(m[1 * 4 + j], m[2 * 4 + j]), m[3 * 4 + j]);
            }
            __m256 out[4];
            out[0] = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(s0[0], s0[1]), s0[2]), bv);
            out[1] = _mm256_add_ps(_mm256_sub_ps(_mm256_sub_ps(s0[1], s0[2]), s0[3]), bv);
            out[2] = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(s1[0], s1[1]), s1[2]), bv);
            out[3] = _mm256_add_ps(_mm256_sub_ps(_mm256_sub_ps(s1[1], s1[2]), s1[3]), bv);
            // (tile, 4 outputs) x 8 channels -> staged[channel][tile][4]: a 4 x 8 transpose.
            __m256 t01lo = _mm256_unpacklo_ps(out[0], out[1]), t01hi = _mm256_unpackhi_ps(out[0], out[1]);
            __m256 t23lo = _mm256_unpacklo_ps(out[2], out[3]), t23hi = _mm256_unpackhi_ps(out[2], out[3]);
            __m256 c04 = _mm256_shuffle_ps(t01lo, t23lo, _MM_SHUFFLE(1, 0, 1, 0));  // channels 0 and 4
            __m256 c15 = _mm256_shuffle_ps(t01lo, t23lo, _MM_SHUFFLE(3, 2, 3, 2));  // 1 and 5
            __m256 c26 = _mm256_shuffle_ps(t01hi, t23hi, _MM_SHUFFLE(1, 0, 1, 0));  // 2 and 6
            __m256 c37 = _mm256_shuffle_ps(t01hi, t23hi, _MM_SHUFFLE(3, 2, 3, 2));  // 3 and 7
            float *st = staged + tt * 4;
            _mm_storeu_ps(st + 0 * WT * 4, _mm256_castps256_ps128(c04)); _mm_storeu_ps(st + 4 * WT * 4, _mm256_extractf128_ps(c04, 1));
            _mm_storeu_ps(st + 1 * WT * 4, _mm256_castps256_ps128(c15)); _mm_storeu_ps(st + 5 * WT * 4, _mm256_extractf128_ps(c15, 1));
            _mm_storeu_ps(st + 2 * WT * 4, _mm256_castps256_ps128(c26)); _mm_storeu_ps(st + 6 * WT * 4, _mm256_extractf128_ps(c26, 1));
            _mm_storeu_ps(st + 3 * WT * 4, _mm256_castps256_ps128(c37)); _mm_storeu_ps(st + 7 * WT * 4, _mm256_extractf128_ps(c37, 1));
        }
        for (int64_t l = 0; l < lanes; l++) {
            float *dst = y + (co0 + l) * p->out_channel_stride;
            const float *res = residual ? residual + (co0 + l) * p->out_channel_stride : 0;
            const float *st = staged + l * WT * 4;
            for (int64_t tt = 0; tt < count; tt++) {
                int64_t t = t0 + tt, n = t / per_image, r = t - n * per_image, ty = r / tw, tx = r - ty * tw;
                int64_t o = n * p->out_image_stride + 2 * ty * ow + 2 * tx;
                __m128 v = _mm_loadu_ps(st + tt * 4);  // y00 y01 y10 y11
                if (res) v = _mm_add_ps(v, _mm_setr_ps(res[o], res[o + 1], res[o + ow], res[o + ow + 1]));
                switch (p->activation) {
                case VIGIL_ACTIVATION_RELU: v = _mm_max_ps(_mm256_castps256_ps128(zero), v); break;  // NaN stays NaN
                case VIGIL_ACTIVATION_LEAKY_RELU:
                    v = _mm_blendv_ps(v, _mm_mul_ps(v, _mm256_castps256_ps128(alpha)), _mm_cmplt_ps(v, _mm256_castps256_ps128(zero)));
                    break;
                case VIGIL_ACTIVATION_CLIP:
                    v = _mm_min_ps(_mm256_castps256_ps128(beta), _mm_max_ps(_mm256_castps256_ps128(alpha), v));
                    break;
                default: break;
                }
                _mm_storel_pi((__m64 *)(dst + o), v);
                _mm_storeh_pi((__m64 *)(dst + o + ow), v);
            }
        }
    }
}

AVX2 void vigil_winograd_compute(const vigil_winograd_problem *p, const float *x, const float *packed_u, const float *bias,
                                 const float *residual, float *y, int64_t tile_begin, int64_t tile_end, int64_t mblock_begin,
                                 int64_t mblock_end, float *workspace) {
    int64_t *offsets = (int64_t *)workspace;
    float *v = workspace + KC * 2, *acc = v + 16 * p->c * WT, *staged = acc + 16 * MR * WT;
    const int64_t c = p->c, m_padded = (p->m + MR - 1) / MR * MR;
    const size_t u_count = vigil_conv_packed_weight_count(p->m, c);
    for (int64_t k = 0; k < KC; k++) offsets[k] = k * WT;
    for (int64_t t0 = tile_begin; t0 < tile_end; t0 += WT) {
        int64_t count = tile_end - t0 < WT ? tile_end - t0 : WT, tiles = (count + NR - 1) / NR;
        if (winograd_input(p, x, t0, count, v)) {
            for (int64_t mb = mblock_begin; mb < mblock_end; mb++) winograd_exact_tiles(p, x, t0, count, mb, bias, residual, y);
            continue;
        }
        for (int64_t mb = mblock_begin; mb < mblock_end; mb++) {
            for (int64_t xi = 0; xi < 16; xi++) {
                const float *vx = v + xi * c * WT;
                float *ax = acc + xi * (WT / NR) * MR * NR;
                for (int64_t k0 = 0; k0 < c; k0 += KC) {
                    int64_t kc = c - k0 < KC ? c - k0 : KC;
                    const float *a = packed_u + (size_t)xi * u_count + panel_offset(m_padded, mb, k0, kc);
                    for (int64_t q = 0; q < tiles; q++)
                        micro_16x6_direct(kc, a, vx + k0 * WT + q * NR, offsets, ax + q * MR * NR, k0 > 0);
                }
            }
            winograd_output(p, acc, t0, count, mb, bias, residual, y, staged);
        }
    }
}

#else

int vigil_kernels_available(void) { return 0; }

void vigil_conv_compute(const vigil_conv_problem *p, const float *x, const float *packed_w, const float *bias,
                        const float *residual, float *y, int64_t pixel_begin, int64_t pixel_end,
                        int64_t mblock_begin, int64_t mblock_end, float *workspace) {
    // Never called: callers check vigil_kernels_available() first.
    (void)p; (void)x; (void)packed_w; (void)bias; (void)residual; (void)y;
    (void)pixel_begin; (void)pixel_end; (void)mblock_begin; (void)mblock_end; (void)workspace;
}

void vigil_winograd_compute(const vigil_winograd_problem *p, const float *x, const float *packed_u, const float *bias,
                            const float *residual, float *y, int64_t tile_begin, int64_t tile_end, int64_t mblock_begin,
                            int64_t mblock_end, float *workspace) {
    // Never called: callers check vigil_kernels_available() first.
    (void)p; (void)x; (void)packed_u; (void)bias; (void)residual; (void)y;
    (void)tile_begin; (void)tile_end; (void)mblock_begin; (void)mblock_end; (void)workspace;
}

#endif
