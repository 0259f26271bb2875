// Winograd F(2x2, 3x3) on AVX-512 (`vigil_winograd_compute` with `wide` set; see include/vigil_kernels.h).
// The AVX2 form multiplies on the 16 x 6 micro-kernel (8 lanes); here the 16 products U[xi] V[xi] run on
// the packed GEMM's 12 x 32 AVX-512 tile, reading the transformed tiles V in place, and the output
// transform takes 16 tiles of one tile row per vector, writing both output rows with masked stores.
#include "vector_math.h"
#include "vigil_gemm.h"
#include "winograd_internal.h"

/// Tiles per chunk: one 32-column GEMM tile, so that each V[xi] (C x 32 floats) stays in L1 while the
/// row tiles sweep it. One layer, one thread, against 96: 32 was 1.0–1.05x, 64 1.0–1.06x, 192 0.75–0.95x.
#define WT 32
/// Output channels per pass: the 16 products of a chunk for these rows (16 x ROWS x WT floats, 147 KB)
/// stay in L2 until the output transform reads them (144 rows: no faster).
#define ROWS (6 * WINOGRAD512_PANEL_ROWS)

/// Floats between V[xi] and V[xi + 1]: C rows of WT, and one cache line more, so that the 16 stores of a
/// tile's transform do not fall into one L1 set (C x WT floats is a multiple of 4 KB for C a multiple of 32).
static inline size_t v_plane(int64_t c) { return (size_t)c * WT + 16; }

size_t vigil_winograd512_packed_weight_count(int64_t m, int64_t c) { return 16 * vigil_gemm_packed_a_count(m, c); }

void vigil_winograd512_pack_weights(const float *u, int64_t m, int64_t c, float *packed) {
    size_t count = vigil_gemm_packed_a_count(m, c);
    for (int xi = 0; xi < 16; xi++) vigil_gemm_pack_a(u + (size_t)xi * m * c, c, 1, m, c, 1.0f, packed + xi * count);
}

size_t vigil_winograd512_workspace_count(int64_t c) {
    // V (16 planes), the products of one pass (16 x ROWS x WT), the GEMM's own workspace.
    return 16 * v_plane(c) + 16 * (size_t)ROWS * WT + vigil_gemm_workspace_count(c) + 16;
}

#if defined(__x86_64__)

#define AVX512 __attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,avx2,fma")))

/// V[xi][ch][tt] = (B^T d B)[xi] for the 4 x 4 input patches d of tiles [t0, t0 + count), B^T = [[1, 0, -1, 0],
/// [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]] (the AVX2 form's operations, 16 tiles at a time): runs of at
/// most 16 tiles on one tile row, each input row's 2n + 2 values read once with masked loads and split
/// into even and odd columns. Returns whether any of those values is NaN or infinite (a * 0 is then NaN).
// Long function: the transform of a run keeps its 16 rows in registers.
AVX512 static int input512(const vigil_winograd_problem *p, const float *x, int64_t t0, int64_t count, float *v) {
    const int64_t tw = (p->out_w + 1) / 2, per_image = tw * ((p->out_h + 1) / 2), w = p->in_w, c = p->c;
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    const __m512 zero = _mm512_setzero_ps();
    __m512 check = zero;
    for (int64_t tt = 0; tt < count;) {
        int64_t t = t0 + tt, n = t / per_image, r = t - n * per_image, ty = r / tw, tx = r - ty * tw;
        int64_t len = count - tt < 16 ? count - tt : 16;
        if (tw - tx < len) len = tw - tx;
        // Columns 0 .. 2 len + 1 of the patch rows: [0, 16) and [16, 32) from the row, [2, 18) and [18, 34) from row + 2.
        const __mmask16 ma = v16_mask(2 * len + 2), mb = v16_mask(2 * len - 14), mc = v16_mask(2 * len), md = v16_mask(2 * len - 16);
        const __mmask16 out = v16_mask(len);
        const float *base = x + n * p->in_image_stride + 2 * ty * w + 2 * tx;
        for (int64_t ch = 0; ch < c; ch++) {
            const float *d = base + ch * p->in_channel_stride;
            __m512 s[4][4];
            for (int i = 0; i < 4; i++) {
                const float *row = d + i * w;
                __m512 a = _mm512_maskz_loadu_ps(ma, row), b = _mm512_maskz_loadu_ps(mb, row + 16);
                __m512 a2 = _mm512_maskz_loadu_ps(mc, row + 2), b2 = _mm512_maskz_loadu_ps(md, row + 18);
                check = _mm512_fmadd_ps(a, zero, check);
                check = _mm512_fmadd_ps(b, zero, check);
                check = _mm512_fmadd_ps(b2, zero, check);
                __m512 d0 = _mm512_permutex2var_ps(a, even, b), d1 = _mm512_permutex2var_ps(a, odd, b);
                __m512 d2 = _mm512_permutex2var_ps(a2, even, b2), d3 = _mm512_permutex2var_ps(a2, odd, b2);
                s[i][0] = _mm512_sub_ps(d0, d2);
                s[i][1] = _mm512_add_ps(d1, d2);
                s[i][2] = _mm512_sub_ps(d2, d1);
                s[i][3] = _mm512_sub_ps(d1, d3);
            }
            float *o = v + ch * WT + tt;
            const size_t plane = v_plane(c);
            for (int j = 0; j < 4; j++) {
                _mm512_mask_storeu_ps(o + (0 * 4 + j) * plane, out, _mm512_sub_ps(s[0][j], s[2][j]));
                _mm512_mask_storeu_ps(o + (1 * 4 + j) * plane, out, _mm512_add_ps(s[1][j], s[2][j]));
                _mm512_mask_storeu_ps(o + (2 * 4 + j) * plane, out, _mm512_sub_ps(s[2][j], s[1][j]));
                _mm512_mask_storeu_ps(o + (3 * 4 + j) * plane, out, _mm512_sub_ps(s[1][j], s[3][j]));
            }
        }
        tt += len;
    }
    // Zero up to a whole vector of tiles: the GEMM then reads every tile of V in place (a 17-tile
    // remainder costs it two vectors either way).
    if (count % 16)
        for (int64_t row = 0; row < 16 * c; row++)
            _mm512_mask_storeu_ps(v + (row / c) * v_plane(c) + (row % c) * WT + count, v16_mask(16 - count % 16), zero);
    return _mm512_cmp_ps_mask(check, check, _CMP_UNORD_Q) != 0;
}

/// y = act(A^T M A + bias + residual) for output channels [r0, r1) and tiles [t0, t0 + count), A^T =
/// [[1, 1, 1, 0], [0, 1, -1, -1]]; M[xi] for channel co and tile tt at acc[(xi * ROWS + co - r0) * WT + tt].
/// The tiles go in runs of at most 16 on one tile row: the 2 x 2 outputs of a run are two runs of 2n
/// floats on consecutive output rows, interleaved from the transform's four vectors.
// Long function: the transform of a run keeps its 16 products and 4 results in registers.
AVX512 static void output512(const vigil_winograd_problem *p, const float *acc, int64_t t0, int64_t count, int64_t r0, int64_t r1,
                             const float *bias, const float *residual, float *y) {
    const int64_t tw = (p->out_w + 1) / 2, per_image = tw * ((p->out_h + 1) / 2), ow = p->out_w;
    const __m512i lo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const __m512i hi = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    const int active = p->activation.active;
    const __m512 zero = _mm512_setzero_ps(), slope = _mm512_set1_ps(p->activation.slope), low = _mm512_set1_ps(p->activation.low),
                 high = _mm512_set1_ps(p->activation.high);
    for (int64_t co = r0; co < r1; co++) {
        const float *a = acc + (co - r0) * WT;
        const __m512 bv = _mm512_set1_ps(bias ? bias[co] : 0.0f);
        float *dst = y + co * p->out_channel_stride;
        const float *res = residual ? residual + co * p->out_channel_stride : 0;
        for (int64_t tt = 0; tt < count;) {
            int64_t t = t0 + tt, n = t / per_image, r = t - n * per_image, ty = r / tw, tx = r - ty * tw;
            int64_t len = count - tt < 16 ? count - tt : 16;
            if (tw - tx < len) len = tw - tx;
            // Outputs of the run on each row: 2 len, one less where an odd width cuts its last tile.
            const int64_t cols = 2 * len < ow - 2 * tx ? 2 * len : ow - 2 * tx;
            const __mmask16 in = v16_mask(len), m0 = v16_mask(cols), m1 = v16_mask(cols - 16);
            const int second = 2 * ty + 1 < p->out_h;  // an odd height cuts the last tile row's second row
            __m512 m[16];
            for (int xi = 0; xi < 16; xi++) m[xi] = _mm512_maskz_loadu_ps(in, a + (size_t)xi * ROWS * WT + tt);
            __m512 s0[4], s1[4];
            for (int j = 0; j < 4; j++) {
                s0[j] = _mm512_add_ps(_mm512_add_ps(m[0 * 4 + j], m[1 * 4 + j]), m[2 * 4 + j]);
                s1[j] = _mm512_sub_ps(_mm512_sub_ps(m[1 * 4 + j], m[2 * 4 + j]), m[3 * 4 + j]);
            }
            // The same operations, in the same order, as the AVX2 form's.
            __m512 out[4];
            out[0] = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(s0[0], s0[1]), s0[2]), bv);
            out[1] = _mm512_add_ps(_mm512_sub_ps(_mm512_sub_ps(s0[1], s0[2]), s0[3]), bv);
            out[2] = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(s1[0], s1[1]), s1[2]), bv);
            out[3] = _mm512_add_ps(_mm512_sub_ps(_mm512_sub_ps(s1[1], s1[2]), s1[3]), bv);
            // Rows 2 ty and 2 ty + 1: (y00, y01) and (y10, y11) of each tile, side by side.
            __m512 v[4] = {_mm512_permutex2var_ps(out[0], lo, out[1]), _mm512_permutex2var_ps(out[0], hi, out[1]),
                           _mm512_permutex2var_ps(out[2], lo, out[3]), _mm512_permutex2var_ps(out[2], hi, out[3])};
            const int64_t o = n * p->out_image_stride + 2 * ty * ow + 2 * tx;
            const int64_t at[4] = {o, o + 16, o + ow, o + ow + 16};
            const __mmask16 mask[4] = {m0, m1, m0, m1};
            for (int q = 0; q < (second ? 4 : 2); q++) {
                if (res) v[q] = _mm512_add_ps(v[q], _mm512_maskz_loadu_ps(mask[q], res + at[q]));
                if (active) {
                    // max/min return their second operand when one is NaN: NaN stays NaN.
                    v[q] = _mm512_mask_mul_ps(v[q], _mm512_cmp_ps_mask(v[q], zero, _CMP_LT_OQ), v[q], slope);
                    v[q] = _mm512_min_ps(high, _mm512_max_ps(low, v[q]));
                }
                _mm512_mask_storeu_ps(dst + at[q], mask[q], v[q]);
            }
            tt += len;
        }
    }
}

void vigil_winograd512_compute(const vigil_winograd_problem *p, const float *x, const float *packed_u, const float *bias,
                               const float *residual, float *y, int64_t tile_begin, int64_t tile_end, int64_t panel_begin,
                               int64_t panel_end, float *workspace) {
    const int64_t c = p->c;
    const size_t u_count = vigil_gemm_packed_a_count(p->m, c);
    float *v = workspace, *acc = v + 16 * v_plane(c), *gemm_workspace = acc + 16 * (size_t)ROWS * WT;
    int64_t row_begin = panel_begin * WINOGRAD512_PANEL_ROWS, row_end = panel_end * WINOGRAD512_PANEL_ROWS;
    if (row_end > p->m) row_end = p->m;
    for (int64_t t0 = tile_begin; t0 < tile_end; t0 += WT) {
        int64_t count = tile_end - t0 < WT ? tile_end - t0 : WT;
        if (input512(p, x, t0, count, v)) {
            vigil_winograd_exact_rows(p, x, t0, count, row_begin, row_end, bias, residual, y);
            continue;
        }
        for (int64_t r0 = row_begin; r0 < row_end; r0 += ROWS) {
            int64_t r1 = row_end - r0 < ROWS ? row_end : r0 + ROWS;
            for (int xi = 0; xi < 16; xi++) {
                // M[xi] (rows r0 ..< r1 of M x count) = U[xi] (M x C, packed) V[xi] (C x count, rows WT apart).
                vigil_gemm_problem g = {0};
                g.m = p->m;
                g.n = (count + 15) / 16 * 16;
                g.k = c;
                g.a_packed = packed_u + xi * u_count;
                g.b = v + xi * v_plane(c);
                g.b_rs = WT;
                g.b_cs = 1;
                // Row i of C at acc + (xi * ROWS + i - r0) * WT: the GEMM indexes rows from 0.
                g.c = acc + (size_t)xi * ROWS * WT - r0 * WT;
                g.c_rs = WT;
                g.c_cs = 1;
                g.cols_per_image = g.n;
                g.act.kind = VIGIL_ACT_NONE;
                vigil_gemm_compute(&g, 0, g.n, r0, r1, gemm_workspace);
            }
            output512(p, acc, t0, count, r0, r1, bias, residual, y);
        }
    }
}

#else

void vigil_winograd512_compute(const vigil_winograd_problem *p, const float *x, const float *packed_u, const float *bias,
                               const float *residual, float *y, int64_t tile_begin, int64_t tile_end, int64_t panel_begin,
                               int64_t panel_end, float *workspace) {
    // Never called: callers check vigil_avx512_enabled() first.
    (void)p; (void)x; (void)packed_u; (void)bias; (void)residual; (void)y;
    (void)tile_begin; (void)tile_end; (void)panel_begin; (void)panel_end; (void)workspace;
}

#endif
