// Packed-weight direct convolution (see include/vigil_kernels.h).
#include "micro_kernel.h"

#include <string.h>

/// Tiles of a pixel block up to which the K loop runs in steps of FEW_TILES_K_STEP rows.
#define FEW_TILES 4
#define FEW_TILES_K_STEP 32

size_t vigil_conv_packed_weight_count(int64_t m, int64_t k) {
    return (size_t)((m + MR - 1) / MR) * MR * (size_t)k;
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
    UNROLL_COUNT(4)
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

#if defined(__x86_64__)

int vigil_kernels_available(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

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
            UNROLL_COUNT(8)
            for (int64_t kk = 0; kk < kc; kk++) {
                int64_t off = offsets[kk];
                UNROLL_FULL
                for (int64_t j = 0; j < valid; j++) d[kk * NR + j] = x[base[j] + off];
                UNROLL_FULL
                for (int64_t j = valid; j < NR; j++) d[kk * NR + j] = 0.0f;
            }
        }
    }
}

/// Writes one weight panel's accumulators for `count` pixels: bias, residual, activation (if `act`), channel
/// by channel, so that each channel's pixels are written in order (rows of one pixel are a plane apart,
/// and planes a power of two apart would thrash L1 if written pixel by pixel).
static inline __attribute__((always_inline)) void store_panel(
    const vigil_conv_problem *p, int act, const float *acc, int64_t count, const int64_t *out, int64_t mb,
    const float *bias, const float *residual, float *y) {
    int64_t rows = p->m - mb * MR < MR ? p->m - mb * MR : MR;
    const vigil_activation activation = p->activation;
    for (int64_t i = 0; i < rows; i++) {
        int64_t co = mb * MR + i;
        const float b = bias ? bias[co] : 0.0f;
        float *yrow = y + co * p->out_channel_stride;
        const float *rrow = residual ? residual + co * p->out_channel_stride : 0;
        for (int64_t j0 = 0; j0 < count; j0 += NR) {
            const float *c = acc + j0 * MR + i;
            int64_t lanes = count - j0 < NR ? count - j0 : NR;
            UNROLL_FULL
            for (int64_t lane = 0; lane < lanes; lane++) {
                int64_t o = out[j0 + lane];
                float v = c[lane * MR] + b;
                if (rrow) v += rrow[o];
                yrow[o] = activate(act, v, &activation);
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
                // With few tiles (deep layers of a small batch) the weights stream from memory and each
                // line serves every tile: run the tiles over short K steps, so that they use it while it
                // is in L1 and the stream of weights does not stall between tiles.
                int64_t step = tiles <= FEW_TILES ? FEW_TILES_K_STEP : kc;
                for (int64_t ks = 0; ks < kc; ks += step) {
                    int64_t len = kc - ks < step ? kc - ks : step;
                    for (int64_t t = 0; t < tiles; t++) {
                        const int64_t *base = in_offsets + t * NR;
                        int64_t valid = count - t * NR < NR ? count - t * NR : NR;
                        if (is_direct(base, valid)) {
                            micro_16x6_direct(len, a + ks * MR, x + base[0], p->row_offsets + k0 + ks, c + t * MR * NR, k0 > 0 || ks > 0);
                        } else {
                            micro_16x6(len, a + ks * MR, pixels + t * kc * NR + ks * NR, c + t * MR * NR, k0 > 0 || ks > 0);
                        }
                    }
                }
            }
        }
        // Epilogue, specialized with and without an activation.
        for (int64_t mb = mblock_begin; mb < mblock_end; mb++) {
            const float *c = acc + (mb - mblock_begin) * tiles * MR * NR;
            if (p->activation.active) {
                store_panel(p, 1, c, count, out_offsets, mb, bias, residual, y);
            } else {
                store_panel(p, 0, c, count, out_offsets, mb, bias, residual, y);
            }
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

#endif
