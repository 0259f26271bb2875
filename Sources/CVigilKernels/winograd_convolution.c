// Winograd F(2x2, 3x3) convolution (see include/vigil_kernels.h), on the packed micro-kernel.
#include "micro_kernel.h"
#include "winograd_internal.h"

#include <string.h>

/// Tiles per Winograd chunk: a multiple of the micro-tile width, and the pixel block of the direct path.
#define WT NC

int64_t vigil_winograd_panel_rows(int32_t wide) { return wide ? WINOGRAD512_PANEL_ROWS : MR; }

size_t vigil_winograd_packed_weight_count(int64_t m, int64_t c, int32_t wide) {
    return wide ? vigil_winograd512_packed_weight_count(m, c) : 16 * vigil_conv_packed_weight_count(m, c);
}

size_t vigil_winograd_pack_scratch_count(int64_t m, int64_t c, int32_t wide) { return wide ? 16 * (size_t)m * (size_t)c : 0; }

/// U = G g G^T for one (output channel, channel): the 16 values, xi = 4 i + j, at u[xi * stride],
/// G = [[1, 0, 0], [1/2, 1/2, 1/2], [1/2, -1/2, 1/2], [0, 0, 1]].
static void transform_weights(const float *g, float *u, size_t stride) {
    float t[4][3];  // G g
    for (int j = 0; j < 3; j++) {
        float g0 = g[0 * 3 + j], g1 = g[1 * 3 + j], g2 = g[2 * 3 + j];
        t[0][j] = g0;
        t[1][j] = 0.5f * (g0 + g1 + g2);
        t[2][j] = 0.5f * (g0 - g1 + g2);
        t[3][j] = g2;
    }
    for (int i = 0; i < 4; i++) {  // (G g) G^T
        float a = t[i][0], b = t[i][1], d = t[i][2];
        float row[4] = {a, 0.5f * (a + b + d), 0.5f * (a - b + d), d};
        for (int j = 0; j < 4; j++) u[(size_t)(i * 4 + j) * stride] = row[j];
    }
}

void vigil_winograd_pack_weights(const float *w, int64_t m, int64_t c, int32_t wide, float *packed, float *scratch) {
    if (wide) {
        // The 16 matrices U[xi] (M x C) in `scratch`, then each packed as the GEMM's A.
        for (int64_t o = 0; o < m; o++)
            for (int64_t ch = 0; ch < c; ch++) transform_weights(w + (o * c + ch) * 9, scratch + o * c + ch, (size_t)m * (size_t)c);
        vigil_winograd512_pack_weights(scratch, m, c, packed);
        return;
    }
    // Each (output channel, channel)'s U written straight into the panel layout of each of the 16
    // matrices U[xi] (M x C), as vigil_conv_pack_weights lays out an M x K matrix (no full-size temporary).
    size_t count = vigil_conv_packed_weight_count(m, c);
    int64_t m_padded = (m + MR - 1) / MR * MR;
    memset(packed, 0, sizeof(float) * 16 * count);
    for (int64_t o = 0; o < m; o++) {
        for (int64_t ch = 0; ch < c; ch++) {
            int64_t k0 = ch / KC * KC, kc = c - k0 < KC ? c - k0 : KC;
            size_t at = (size_t)(panel_offset(m_padded, o / MR, k0, kc) + (ch - k0) * MR + o % MR);
            transform_weights(w + (o * c + ch) * 9, packed + at, count);
        }
    }
}

size_t vigil_winograd_workspace_count(int64_t c, int32_t wide) {
    if (wide) return vigil_winograd512_workspace_count(c);
    // Row offsets (int64, as floats x2), the transformed tiles V (16 x C x WT), one panel's 16 accumulators,
    // and its staged outputs (8 channels x WT tiles x 4).
    return (size_t)KC * 2 + 16 * (size_t)c * WT + 16 * (size_t)MR * WT + 32 * WT + 16;
}

#if defined(__x86_64__)

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
// Long function: a SIMD kernel whose AVX2 (8 tiles), SSE (4 tiles) and scalar paths share their loads
// and stay in one function so that the compiler keeps the transform in registers.
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
                UNROLL_FULL
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
    UNROLL_FULL
    for (int64_t xi = 0; xi < 16; xi++)
        UNROLL_COUNT(8)
        for (int64_t ch = 0; ch < c; ch++)
            for (int64_t tt = count; tt < rounded; tt++) v[(xi * c + ch) * WT + tt] = 0.0f;
    return _mm256_movemask_ps(bad) != 0 || bad_scalar != bad_scalar;
}

void vigil_winograd_exact_rows(const vigil_winograd_problem *p, const float *x, int64_t t0, int64_t count, int64_t row_begin,
                               int64_t row_end, const float *bias, const float *residual, float *y) {
    // Tiles of the last row or column of an odd output size hang over it by one: those outputs do not exist.
    const int64_t tw = (p->out_w + 1) / 2, per_image = tw * ((p->out_h + 1) / 2), ow = p->out_w, w = p->in_w;
    for (int64_t tt = 0; tt < count; tt++) {
        int64_t t = t0 + tt, n = t / per_image, r = t - n * per_image, ty = r / tw, tx = r - ty * tw;
        for (int64_t co = row_begin; co < row_end; co++) {
            for (int q = 0; q < 4; q++) {
                int64_t oy = 2 * ty + q / 2, ox = 2 * tx + q % 2;
                if (oy >= p->out_h || ox >= ow) continue;
                float sum = bias ? bias[co] : 0.0f;
                for (int64_t ch = 0; ch < p->c; ch++) {
                    const float *in = x + n * p->in_image_stride + ch * p->in_channel_stride + oy * w + ox;
                    const float *g = p->weights + (co * p->c + ch) * 9;
                    for (int kh = 0; kh < 3; kh++)
                        for (int kw = 0; kw < 3; kw++) sum += in[kh * w + kw] * g[kh * 3 + kw];
                }
                int64_t o = n * p->out_image_stride + co * p->out_channel_stride + oy * ow + ox;
                if (residual) sum += residual[o];
                y[o] = activate(p->activation.active, sum, &p->activation);
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
    const int active = p->activation.active;
    const __m128 zero = _mm_setzero_ps(), slope = _mm_set1_ps(p->activation.slope), low = _mm_set1_ps(p->activation.low),
                 high = _mm_set1_ps(p->activation.high);
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
                if (active) {
                    // max/min return their second operand when one is NaN: NaN stays NaN.
                    v = _mm_blendv_ps(v, _mm_mul_ps(v, slope), _mm_cmplt_ps(v, zero));
                    v = _mm_min_ps(high, _mm_max_ps(low, v));
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
    if (p->wide) {
        vigil_winograd512_compute(p, x, packed_u, bias, residual, y, tile_begin, tile_end, mblock_begin, mblock_end, workspace);
        return;
    }
    int64_t *offsets = (int64_t *)workspace;
    float *v = workspace + KC * 2, *acc = v + 16 * p->c * WT, *staged = acc + 16 * MR * WT;
    const int64_t c = p->c, m_padded = (p->m + MR - 1) / MR * MR;
    const size_t u_count = vigil_conv_packed_weight_count(p->m, c);
    for (int64_t k = 0; k < KC; k++) offsets[k] = k * WT;
    for (int64_t t0 = tile_begin; t0 < tile_end; t0 += WT) {
        int64_t count = tile_end - t0 < WT ? tile_end - t0 : WT, tiles = (count + NR - 1) / NR;
        if (winograd_input(p, x, t0, count, v)) {
            int64_t row_end = mblock_end * MR < p->m ? mblock_end * MR : p->m;
            vigil_winograd_exact_rows(p, x, t0, count, mblock_begin * MR, row_end, bias, residual, y);
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

void vigil_winograd_compute(const vigil_winograd_problem *p, const float *x, const float *packed_u, const float *bias,
                            const float *residual, float *y, int64_t tile_begin, int64_t tile_end, int64_t mblock_begin,
                            int64_t mblock_end, float *workspace) {
    // Never called: callers check vigil_kernels_available() first.
    (void)p; (void)x; (void)packed_u; (void)bias; (void)residual; (void)y;
    (void)tile_begin; (void)tile_end; (void)mblock_begin; (void)mblock_end; (void)workspace;
}

#endif
