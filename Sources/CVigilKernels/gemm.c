// Vigil's packed GEMM (see include/vigil_gemm.h).
#include "vector_math.h"
#include "vigil_gemm.h"

#include <string.h>
#include <unistd.h>

#define MR VIGIL_GEMM_MR
#define NR VIGIL_GEMM_NR
/// Columns per block: the packed B block (kc x nc) stays in L2 while every A panel sweeps it, and each
/// A panel (packed per block when A is not constant) serves nc columns. NC_WIDE where L2 holds at least
/// 1 MB (on a 2 MB-L2 AVX-512 core, 384 columns ran the zoo's MatMul and 1x1-conv shapes 5-10% faster
/// than 192), else NC_NARROW.
#define NC_WIDE 384
#define NC_NARROW 192
#define NC NC_WIDE

static int64_t column_block_width(void) {
    static int64_t width = 0;  // set once; every thread computes the same value
    int64_t w = __atomic_load_n(&width, __ATOMIC_RELAXED);
    if (!w) {
        long l2 = sysconf(_SC_LEVEL2_CACHE_SIZE);
        w = l2 >= (1L << 20) ? NC_WIDE : NC_NARROW;
        __atomic_store_n(&width, w, __ATOMIC_RELAXED);
    }
    return w;
}
/// Longest K block.
#ifndef KC_MAX
#define KC_MAX 512
#endif

/// The K block length: K in blocks of at most KC_MAX rows, as even as possible.
static inline int64_t k_block(int64_t k) {
    int64_t blocks = (k + KC_MAX - 1) / KC_MAX;
    return blocks <= 1 ? (k > 0 ? k : 1) : (k + blocks - 1) / blocks;
}

/// Packed A: K blocks one after another; within a block, panel after panel of kc x MR.
static inline size_t a_offset(int64_t m_padded, int64_t panel, int64_t k0, int64_t kc) {
    return (size_t)(k0 * m_padded + panel * MR * kc);
}

/// Packed B: K blocks one after another; within a block, panel after panel of kc x NR.
static inline size_t b_offset(int64_t n_padded, int64_t panel, int64_t k0, int64_t kc) {
    return (size_t)(k0 * n_padded + panel * NR * kc);
}

size_t vigil_gemm_packed_a_count(int64_t m, int64_t k) { return (size_t)((m + MR - 1) / MR * MR) * (size_t)(k > 0 ? k : 1); }

size_t vigil_gemm_packed_b_count(int64_t k, int64_t n) { return (size_t)((n + NR - 1) / NR * NR) * (size_t)(k > 0 ? k : 1); }

/// One A panel (rows m0 ..< m0 + MR, zero beyond m) for K rows [k0, k0 + kc), as kc x MR. A whole panel of
/// a row-major A (a MatMul's activations) is written in order, one K row of 6 at a time from the 6 source
/// rows: writing each source row's values 6 floats apart instead made packing cost 8-15% of the product
/// (197 x 768 x 768 and ConvNeXt's 784 x 192 x 768, one thread: 214-222 GFLOP/s, 229-238 in this order,
/// 229-245 with A prepacked).
static void pack_a_panel(const float *a, int64_t rs, int64_t cs, int64_t m, int64_t m0, int64_t k0, int64_t kc, float alpha,
                         float *dst) {
    int64_t rows = m - m0 < MR ? m - m0 : MR;
    _Static_assert(MR == 6, "the row-major path below writes 6 rows");
    if (rows == MR && cs == 1) {
        const float *r0 = a + m0 * rs + k0, *r1 = r0 + rs, *r2 = r1 + rs, *r3 = r2 + rs, *r4 = r3 + rs, *r5 = r4 + rs;
        for (int64_t p = 0; p < kc; p++, dst += MR) {
            dst[0] = alpha * r0[p]; dst[1] = alpha * r1[p]; dst[2] = alpha * r2[p];
            dst[3] = alpha * r3[p]; dst[4] = alpha * r4[p]; dst[5] = alpha * r5[p];
        }
        return;
    }
    for (int64_t i = 0; i < MR; i++) {
        if (i >= rows) {
            for (int64_t p = 0; p < kc; p++) dst[p * MR + i] = 0.0f;
            continue;
        }
        const float *src = a + (m0 + i) * rs + k0 * cs;
        for (int64_t p = 0; p < kc; p++) dst[p * MR + i] = alpha * src[p * cs];
    }
}

void vigil_gemm_pack_a(const float *a, int64_t rs, int64_t cs, int64_t m, int64_t k, float alpha, float *packed) {
    int64_t kb = k_block(k), panels = (m + MR - 1) / MR;
    for (int64_t k0 = 0; k0 < k; k0 += kb) {
        int64_t kc = k - k0 < kb ? k - k0 : kb;
        for (int64_t panel = 0; panel < panels; panel++)
            pack_a_panel(a, rs, cs, m, panel * MR, k0, kc, alpha, packed + a_offset(panels * MR, panel, k0, kc));
    }
}

void vigil_gemm_pack_b(const float *b, int64_t rs, int64_t cs, int64_t k, int64_t n, float alpha, float *packed) {
    int64_t kb = k_block(k), panels = (n + NR - 1) / NR;
    for (int64_t k0 = 0; k0 < k; k0 += kb) {
        int64_t kc = k - k0 < kb ? k - k0 : kb;
        for (int64_t panel = 0; panel < panels; panel++) {
            float *dst = packed + b_offset(panels * NR, panel, k0, kc);
            for (int64_t p = 0; p < kc; p++)
                for (int64_t j = 0; j < NR; j++) {
                    int64_t col = panel * NR + j;
                    dst[p * NR + j] = col < n ? alpha * b[(k0 + p) * rs + col * cs] : 0.0f;
                }
        }
    }
}

size_t vigil_gemm_workspace_count(int64_t k) {
    int64_t kb = k_block(k);
    // The B block, two A panels, and the column offsets (two int64 tables of NC, as floats).
    return (size_t)kb * NC + 2 * (size_t)kb * MR + 4 * NC + 64;
}

/// Where the columns of one block come from and go to.
typedef struct {
    int64_t count;
    /// Per column: offset of its B source (strided or conv, before the row offset) and of its C element (row 0).
    int64_t b_off[NC], c_off[NC];
} column_block;

static void column_offsets(const vigil_gemm_problem *p, int64_t j0, int64_t count, column_block *blk) {
    int64_t per = p->cols_per_image, image = j0 / per, q = j0 - image * per;
    const vigil_gemm_conv *cv = p->conv;
    int64_t oh = cv ? q / cv->out_w : 0, ow = cv ? q - oh * cv->out_w : 0;
    blk->count = count;
    for (int64_t j = 0; j < count; j++) {
        blk->c_off[j] = image * p->c_image + q * p->c_cs;
        if (cv) {
            blk->b_off[j] = image * cv->in_image_stride + oh * cv->stride_h * cv->in_w + ow * cv->stride_w;
            if (++ow == cv->out_w) { ow = 0; oh++; }
        } else {
            blk->b_off[j] = image * p->b_image + q * p->b_cs;
        }
        if (++q == per) { q = 0; image++; oh = 0; ow = 0; }
    }
}

/// Whether columns [t, t + n) of a block are n consecutive elements of C (one image, unit stride).
static inline int c_contiguous(const column_block *blk, int64_t t, int64_t n) {
    return blk->c_off[t + n - 1] - blk->c_off[t] == n - 1;
}

/// The B rows the K loop of a tile prefetches, one per step: `row + k * stride` and `second` floats
/// further (the second 16-column panel of a packed pair, or the next 16 floats in place); `row` NULL
/// for none.
typedef struct {
    const float *row;
    int64_t stride, second;
} b_prefetch;

#if defined(__x86_64__)

#define AVX2 __attribute__((target("avx2,fma")))

/// Packs one tile of a stride-1 convolution's B whose columns are a few runs of consecutive input
/// elements (output rows of at most 16 pixels, or a tile across the end of an output row): each run with
/// masked loads and stores, row by row of K; columns from `valid` on are zero. Returns 0 (nothing done)
/// when the tile has more than 4 runs.
AVX2 static int pack_b_segments(const float *x, const int64_t *rows, const int64_t *b_off, int64_t valid, int64_t kc, float *dst) {
    int64_t start[4], length[4], count = 0;
    for (int64_t j = 0; j < valid; j++) {
        if (j > 0 && b_off[j] == b_off[j - 1] + 1) { length[count - 1]++; continue; }
        if (count == 4) return 0;
        start[count] = j;
        length[count++] = 1;
    }
    __m256i lo[4], hi[4];
    for (int64_t i = 0; i < count; i++) {
        // Lanes start..start+length of the 16-float row, as the run's own lanes 0..length.
        lo[i] = v8_mask(length[i]);
        hi[i] = v8_mask(length[i] - 8);
    }
    for (int64_t r = 0; r < kc; r++) {
        float *d = dst + r * NR;
        if (valid < NR) {
            _mm256_storeu_ps(d, _mm256_setzero_ps());
            _mm256_storeu_ps(d + 8, _mm256_setzero_ps());
        }
        for (int64_t i = 0; i < count; i++) {
            const float *s = x + rows[r] + b_off[start[i]];
            _mm256_maskstore_ps(d + start[i], lo[i], _mm256_maskload_ps(s, lo[i]));
            if (length[i] > 8) _mm256_maskstore_ps(d + start[i] + 8, hi[i], _mm256_maskload_ps(s + 8, hi[i]));
        }
    }
    return 1;
}

/// Packs one tile of B (columns [t, t + valid) of the block, zero up to NR) for K rows [k0, k0 + kc).
/// Fast paths: unit-stride runs (a strided matrix, a stride-1 convolution row) and stride-2 convolution
/// rows; everything else element by element.
AVX2 static void pack_b_tile(const vigil_gemm_problem *p, const column_block *blk, int64_t t, int64_t valid, int64_t k0, int64_t kc,
                             float *dst) {
    const int64_t *b_off = blk->b_off + t;
    const vigil_gemm_conv *cv = p->conv;
    const float *x = p->b;
    int64_t unit = cv ? cv->stride_w : p->b_cs;
    int run = valid == NR && b_off[NR - 1] - b_off[0] == (NR - 1) * unit;
    if (cv) {
        const int64_t *rows = cv->row_offsets + k0;
        if (run && unit == 1) {
            const float *src = x + b_off[0];
            for (int64_t r = 0; r < kc; r++) {
                _mm256_storeu_ps(dst + r * NR, _mm256_loadu_ps(src + rows[r]));
                _mm256_storeu_ps(dst + r * NR + 8, _mm256_loadu_ps(src + rows[r] + 8));
            }
            return;
        }
        if (run && unit == 2) {
            // Even elements of 32 consecutive floats (the last one read is element 30: no over-read).
            const __m256i even = _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7);
            const float *src = x + b_off[0];
            for (int64_t r = 0; r < kc; r++) {
                const float *s = src + rows[r];
                __m256 a = _mm256_permutevar8x32_ps(_mm256_loadu_ps(s), even), b = _mm256_permutevar8x32_ps(_mm256_loadu_ps(s + 8), even);
                __m256 c = _mm256_permutevar8x32_ps(_mm256_loadu_ps(s + 16), even);
                __m256 d = _mm256_permutevar8x32_ps(_mm256_maskload_ps(s + 24, v8_mask(7)), even);
                _mm256_storeu_ps(dst + r * NR, _mm256_permute2f128_ps(a, b, 0x20));
                _mm256_storeu_ps(dst + r * NR + 8, _mm256_permute2f128_ps(c, d, 0x20));
            }
            return;
        }
        if (unit == 1 && pack_b_segments(x, rows, b_off, valid, kc, dst)) return;
        for (int64_t r = 0; r < kc; r++) {
            const float *s = x + rows[r];
            for (int64_t j = 0; j < valid; j++) dst[r * NR + j] = s[b_off[j]];
            for (int64_t j = valid; j < NR; j++) dst[r * NR + j] = 0.0f;
        }
        return;
    }
    const float *src = x + k0 * p->b_rs;
    if (run && unit == 1) {
        for (int64_t r = 0; r < kc; r++) {
            const float *s = src + r * p->b_rs + b_off[0];
            _mm256_storeu_ps(dst + r * NR, _mm256_loadu_ps(s));
            _mm256_storeu_ps(dst + r * NR + 8, _mm256_loadu_ps(s + 8));
        }
        return;
    }
    if (p->b_rs == 1) {
        // Columns are contiguous in the source (a transposed operand): copy each column's run.
        for (int64_t j = 0; j < valid; j++) {
            const float *s = src + b_off[j];
            for (int64_t r = 0; r < kc; r++) dst[r * NR + j] = s[r];
        }
        for (int64_t j = valid; j < NR; j++)
            for (int64_t r = 0; r < kc; r++) dst[r * NR + j] = 0.0f;
        return;
    }
    for (int64_t r = 0; r < kc; r++) {
        const float *s = src + r * p->b_rs;
        for (int64_t j = 0; j < valid; j++) dst[r * NR + j] = s[b_off[j]];
        for (int64_t j = valid; j < NR; j++) dst[r * NR + j] = 0.0f;
    }
}

/// Packs the whole block when B is a strided matrix whose columns are one contiguous run (a weight matrix
/// read row by row): each source row is read once, in order, and its 16-column pieces go to their tiles;
/// returns 0 (nothing done) for other sources.
AVX2 static int pack_b_block_rows(const vigil_gemm_problem *p, const column_block *blk, int64_t count, int64_t k0, int64_t kc, float *bblock) {
    if (p->conv || p->b_cs != 1 || blk->b_off[count - 1] - blk->b_off[0] != count - 1) return 0;
    const float *src = p->b + k0 * p->b_rs + blk->b_off[0];
    int64_t full = count / NR * NR;
    for (int64_t r = 0; r < kc; r++) {
        const float *row = src + r * p->b_rs;
        for (int64_t t = 0; t < full; t += NR) {
            _mm256_storeu_ps(bblock + t * kc + r * NR, _mm256_loadu_ps(row + t));
            _mm256_storeu_ps(bblock + t * kc + r * NR + 8, _mm256_loadu_ps(row + t + 8));
        }
        if (full < count) {
            float *d = bblock + full * kc + r * NR;
            int64_t n = count - full;
            _mm256_storeu_ps(d, _mm256_maskload_ps(row + full, v8_mask(n)));
            _mm256_storeu_ps(d + 8, _mm256_maskload_ps(row + full + 8, v8_mask(n - 8)));
        }
    }
    return 1;
}

/// What the store of a tile does: first K block (no partial sums in C yet), last K block (apply the
/// epilogue), and the epilogue's operands.
typedef struct {
    int first, last, accumulate;
    const float *bias_rows, *bias_cols, *residual;
    const vigil_act *act;
} tile_store;

/// One finished row of a tile: v (16 values, `cols` valid) for row `row`, columns at c / residual.
AVX2 static inline VIGIL_ALWAYS_INLINE void store_row(__m256 v0, __m256 v1, const tile_store *s, int64_t row, int64_t col,
                                                                  float *c, const float *res, int64_t cols) {
    __m256i m0 = v8_mask(cols), m1 = v8_mask(cols - 8);
    int full = cols == NR;
    if (!s->first || s->accumulate) {
        v0 = _mm256_add_ps(v0, full ? _mm256_loadu_ps(c) : _mm256_maskload_ps(c, m0));
        v1 = _mm256_add_ps(v1, full ? _mm256_loadu_ps(c + 8) : _mm256_maskload_ps(c + 8, m1));
    }
    if (s->last) {
        if (s->bias_rows) {
            __m256 b = _mm256_broadcast_ss(s->bias_rows + row);
            v0 = _mm256_add_ps(v0, b);
            v1 = _mm256_add_ps(v1, b);
        }
        if (s->bias_cols) {
            v0 = _mm256_add_ps(v0, full ? _mm256_loadu_ps(s->bias_cols + col) : _mm256_maskload_ps(s->bias_cols + col, m0));
            v1 = _mm256_add_ps(v1, full ? _mm256_loadu_ps(s->bias_cols + col + 8) : _mm256_maskload_ps(s->bias_cols + col + 8, m1));
        }
        if (res) {
            v0 = _mm256_add_ps(v0, full ? _mm256_loadu_ps(res) : _mm256_maskload_ps(res, m0));
            v1 = _mm256_add_ps(v1, full ? _mm256_loadu_ps(res + 8) : _mm256_maskload_ps(res + 8, m1));
        }
        if (s->act->kind != VIGIL_ACT_NONE) {
            v0 = v8_activate(v0, s->act);
            v1 = v8_activate(v1, s->act);
        }
    }
    if (full) {
        _mm256_storeu_ps(c, v0);
        _mm256_storeu_ps(c + 8, v1);
    } else {
        _mm256_maskstore_ps(c, m0, v0);
        _mm256_maskstore_ps(c + 8, m1, v1);
    }
}

/// A tile whose columns are not consecutive in C (they cross an image): through a local copy, column by
/// column with the offsets of the block.
AVX2 static void store_scattered(const float *acc, const vigil_gemm_problem *p, const tile_store *s, int64_t row0, int64_t rows,
                                 const column_block *blk, int64_t t, int64_t cols, int64_t col0) {
    for (int64_t i = 0; i < rows; i++) {
        float v[NR] = {0}, r[NR] = {0};
        for (int64_t j = 0; j < cols; j++) {
            v[j] = acc[i * NR + j];
            float *c = p->c + (row0 + i) * p->c_rs + blk->c_off[t + j];
            if (!s->first || s->accumulate) v[j] += *c;
            if (s->last && s->residual) r[j] = s->residual[(row0 + i) * p->c_rs + blk->c_off[t + j]];
        }
        __m256 v0 = _mm256_loadu_ps(v), v1 = _mm256_loadu_ps(v + 8);
        if (s->last) {
            if (s->bias_rows) {
                __m256 b = _mm256_broadcast_ss(s->bias_rows + row0 + i);
                v0 = _mm256_add_ps(v0, b);
                v1 = _mm256_add_ps(v1, b);
            }
            if (s->bias_cols) {
                v0 = _mm256_add_ps(v0, _mm256_maskload_ps(s->bias_cols + col0, v8_mask(cols)));
                v1 = _mm256_add_ps(v1, _mm256_maskload_ps(s->bias_cols + col0 + 8, v8_mask(cols - 8)));
            }
            v0 = _mm256_add_ps(v0, _mm256_loadu_ps(r));
            v1 = _mm256_add_ps(v1, _mm256_loadu_ps(r + 8));
            if (s->act->kind != VIGIL_ACT_NONE) {
                v0 = v8_activate(v0, s->act);
                v1 = v8_activate(v1, s->act);
            }
        }
        _mm256_storeu_ps(v, v0);
        _mm256_storeu_ps(v + 8, v1);
        for (int64_t j = 0; j < cols; j++) p->c[(row0 + i) * p->c_rs + blk->c_off[t + j]] = v[j];
    }
}

/// The micro-kernel for R rows (R = 1 ... 6, a constant in each caller): acc = sum over kc of a[k][0..R) x
/// b[k][0..16) (b rows `ldb` apart), then the tile's store (directly into C when its columns are
/// consecutive there). Rows beyond R are neither computed nor stored.
// Long function: the SIMD micro-kernel keeps its accumulators in registers across the K loop and the stores.
AVX2 static inline VIGIL_ALWAYS_INLINE void micro_rows(
    const int R, int64_t kc, const float *a, const float *b, int64_t ldb, b_prefetch ahead, const vigil_gemm_problem *p, const tile_store *s,
    int64_t row0, const column_block *blk, int64_t t, int64_t cols, int64_t col0) {
    __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
    __m256 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
    for (int64_t k = 0; k < kc; k++) {
        if (ahead.row) {  // 16 floats, in two lines unless aligned
            _mm_prefetch((const char *)(ahead.row + k * ahead.stride), _MM_HINT_T0);
            _mm_prefetch((const char *)(ahead.row + k * ahead.stride + NR - 1), _MM_HINT_T0);
        }
        __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
        __m256 a0 = _mm256_broadcast_ss(a + 0);
        c00 = _mm256_fmadd_ps(a0, b0, c00); c01 = _mm256_fmadd_ps(a0, b1, c01);
        if (R > 1) { __m256 a1 = _mm256_broadcast_ss(a + 1); c10 = _mm256_fmadd_ps(a1, b0, c10); c11 = _mm256_fmadd_ps(a1, b1, c11); }
        if (R > 2) { __m256 a2 = _mm256_broadcast_ss(a + 2); c20 = _mm256_fmadd_ps(a2, b0, c20); c21 = _mm256_fmadd_ps(a2, b1, c21); }
        if (R > 3) { __m256 a3 = _mm256_broadcast_ss(a + 3); c30 = _mm256_fmadd_ps(a3, b0, c30); c31 = _mm256_fmadd_ps(a3, b1, c31); }
        if (R > 4) { __m256 a4 = _mm256_broadcast_ss(a + 4); c40 = _mm256_fmadd_ps(a4, b0, c40); c41 = _mm256_fmadd_ps(a4, b1, c41); }
        if (R > 5) { __m256 a5 = _mm256_broadcast_ss(a + 5); c50 = _mm256_fmadd_ps(a5, b0, c50); c51 = _mm256_fmadd_ps(a5, b1, c51); }
        a += MR;
        b += ldb;
    }
    if (c_contiguous(blk, t, cols)) {
        float *c = p->c + row0 * p->c_rs + blk->c_off[t];
        const float *res = s->last && s->residual ? s->residual + row0 * p->c_rs + blk->c_off[t] : 0;
        int64_t rs = p->c_rs;
#define ROW(i, lo, hi) if (R > i) store_row(lo, hi, s, row0 + i, col0, c + i * rs, res ? res + i * rs : 0, cols)
        ROW(0, c00, c01); ROW(1, c10, c11); ROW(2, c20, c21); ROW(3, c30, c31); ROW(4, c40, c41); ROW(5, c50, c51);
#undef ROW
        return;
    }
    float acc[MR * NR];
    _mm256_storeu_ps(acc + 0, c00); _mm256_storeu_ps(acc + 8, c01);
    _mm256_storeu_ps(acc + 16, c10); _mm256_storeu_ps(acc + 24, c11);
    _mm256_storeu_ps(acc + 32, c20); _mm256_storeu_ps(acc + 40, c21);
    _mm256_storeu_ps(acc + 48, c30); _mm256_storeu_ps(acc + 56, c31);
    _mm256_storeu_ps(acc + 64, c40); _mm256_storeu_ps(acc + 72, c41);
    _mm256_storeu_ps(acc + 80, c50); _mm256_storeu_ps(acc + 88, c51);
    store_scattered(acc, p, s, row0, R, blk, t, cols, col0);
}

/// The micro-kernel specialized for each row count.
AVX2 static void micro_tile(int64_t rows, int64_t kc, const float *a, const float *b, int64_t ldb, b_prefetch ahead, const vigil_gemm_problem *p,
                            const tile_store *s, int64_t row0, const column_block *blk, int64_t t, int64_t cols, int64_t col0) {
    switch (rows) {
    case 1: micro_rows(1, kc, a, b, ldb, ahead, p, s, row0, blk, t, cols, col0); break;
    case 2: micro_rows(2, kc, a, b, ldb, ahead, p, s, row0, blk, t, cols, col0); break;
    case 3: micro_rows(3, kc, a, b, ldb, ahead, p, s, row0, blk, t, cols, col0); break;
    case 4: micro_rows(4, kc, a, b, ldb, ahead, p, s, row0, blk, t, cols, col0); break;
    case 5: micro_rows(5, kc, a, b, ldb, ahead, p, s, row0, blk, t, cols, col0); break;
    default: micro_rows(6, kc, a, b, ldb, ahead, p, s, row0, blk, t, cols, col0); break;
    }
}

/// Whether tile t of a block can be read in place from a strided B (16 consecutive source elements per row).
static inline int b_in_place(const vigil_gemm_problem *p, const column_block *blk, int64_t t, int64_t cols) {
    return !p->b_packed && !p->conv && !p->b_always_pack && p->b_cs == 1 && cols == NR && blk->b_off[t + NR - 1] - blk->b_off[t] == NR - 1;
}

/* At batch 32 a 1 x 1 convolution's operands come from memory, and each tile reads B rows (channels) a
 * plane apart and the residual rows a plane apart: dozens of streams, too many for the hardware
 * prefetcher (ResNet-50's 1 x 1 layers, one thread: 41-60% of the FMA peak, against onnxruntime's 85%).
 * The kernels prefetch both a tile ahead: the residual of the next tile before this one's K loop
 * (64 -> 256 channels on 56 x 56 with the residual, 32 images: 36 -> 21 ms), and, in the first row
 * panel of a block (the one that reads B from memory; the others find it in L2), the next tile's B rows
 * during the K loop (256 -> 64 channels: 23 -> 16 ms; onnxruntime 17 ms). A prepacked B (a MatMul's
 * weights) is read in order, yet prefetching its next panels the same way still helped: ViT-B/16's
 * 197 x 768 x 3072 products with the weights from memory, 12 in a row, 165 -> 184 GFLOP/s (median of 5
 * alternating runs; 768 x 768: 185 -> 198). */

/// What the K loop of the first row panel of a block prefetches for the tile at columns [t, t + width)
/// (the next one): its B when read in place or prepacked; nothing in the other row panels (B is in L2
/// by then) or when the tile is short or packed per block.
static inline b_prefetch b_ahead(const vigil_gemm_problem *p, const column_block *blk, int64_t t, int64_t width, int64_t count,
                                 int64_t j0, int64_t k0, int64_t kc, int first_panel) {
    b_prefetch none = {0, 0, 0};
    if (!first_panel || t + width > count) return none;
    if (p->b_packed) {
        int64_t n_padded = (p->n + NR - 1) / NR * NR;
        b_prefetch packed = {p->b_packed + b_offset(n_padded, (j0 + t) / NR, k0, kc), NR, kc * NR};
        return packed;
    }
    if (!b_in_place(p, blk, t, NR)) return none;
    b_prefetch in_place = {p->b + k0 * p->b_rs + blk->b_off[t], p->b_rs, NR};
    return in_place;
}

/// Prefetches into L1 the residual of the tile after the one at row row0, column t of a block (tiles of
/// `height` rows by `width` columns; the next one along the row, else the first of the next rows), from
/// the first, middle and last column's cache lines of each row, when the store of this K block adds one.
static inline void prefetch_next_residual(const vigil_gemm_problem *p, int last, const column_block *blk, int64_t row0, int64_t row_end,
                                          int64_t t, int64_t count, int64_t height, int64_t width) {
    if (!last || !p->residual) return;
    if (t + width < count) {
        t += width;
    } else {
        row0 += height;
        t = 0;
    }
    int64_t rows = row_end - row0 < height ? row_end - row0 : height, cols = count - t < width ? count - t : width;
    if (rows <= 0 || cols <= 0) return;
    const float *r = p->residual + row0 * p->c_rs;
    int64_t first = blk->c_off[t], middle = blk->c_off[t + (cols - 1) / 2], end = blk->c_off[t + cols - 1];
    for (int64_t i = 0; i < rows; i++, r += p->c_rs) {
        _mm_prefetch((const char *)(r + first), _MM_HINT_T0);
        _mm_prefetch((const char *)(r + middle), _MM_HINT_T0);
        _mm_prefetch((const char *)(r + end), _MM_HINT_T0);
    }
}

/* The output offsets (and, for an unpacked B, the input offsets) of the columns j0 ..< j0 + count. A
 * convolution's B packed beforehand (`vigil_gemm_pack_b_columns`) keeps its images' output layout. */
static void column_block_at(const vigil_gemm_problem *p, int64_t j0, int64_t count, column_block *blk) {
    if (!p->b_packed || p->conv) {
        column_offsets(p, j0, count, blk);
        return;
    }
    blk->count = count;
    for (int64_t j = 0; j < count; j++) blk->c_off[j] = (j0 + j) * p->c_cs;
}

/// Packs the B tiles of one block for K rows [k0, k0 + kc) that are not read in place (nothing when B
/// is prepacked), whole rows at a time where the source allows.
AVX2 static void pack_b_block(const vigil_gemm_problem *p, const column_block *blk, int64_t count, int64_t k0, int64_t kc, float *bblock) {
    if (p->b_packed || (p->b_always_pack && pack_b_block_rows(p, blk, count, k0, kc, bblock))) return;
    for (int64_t t = 0; t < count; t += NR) {
        int64_t cols = count - t < NR ? count - t : NR;
        if (!b_in_place(p, blk, t, cols)) pack_b_tile(p, blk, t, cols, k0, kc, bblock + t * kc);
    }
}

AVX2 void vigil_gemm_pack_b_columns(const vigil_gemm_problem *p, int64_t col_begin, int64_t col_end, float *packed) {
    int64_t kb = k_block(p->k), n_padded = (p->n + NR - 1) / NR * NR;
    column_block blk;
    for (int64_t j0 = col_begin; j0 < col_end; j0 += NC) {
        int64_t count = col_end - j0 < NC ? col_end - j0 : NC;
        column_offsets(p, j0, count, &blk);
        for (int64_t k0 = 0; k0 < p->k; k0 += kb) {
            int64_t kc = p->k - k0 < kb ? p->k - k0 : kb;
            for (int64_t t = 0; t < count; t += NR)
                pack_b_tile(p, &blk, t, count - t < NR ? count - t : NR, k0, kc, packed + b_offset(n_padded, (j0 + t) / NR, k0, kc));
        }
    }
}

AVX2 static void gemm_avx2(const vigil_gemm_problem *p, int64_t col_begin, int64_t col_end, int64_t row_begin, int64_t row_end,
                           float *workspace) {
    int64_t kb = k_block(p->k), m_padded = (p->m + MR - 1) / MR * MR, n_padded = (p->n + NR - 1) / NR * NR;
    float *bblock = workspace, *apanel = workspace + kb * NC;
    column_block blk;
    const int64_t nc = column_block_width();
    for (int64_t j0 = col_begin; j0 < col_end; j0 += nc) {
        int64_t count = col_end - j0 < nc ? col_end - j0 : nc;
        column_block_at(p, j0, count, &blk);
        for (int64_t k0 = 0; k0 < p->k; k0 += kb) {
            int64_t kc = p->k - k0 < kb ? p->k - k0 : kb;
            tile_store s = {k0 == 0, k0 + kc == p->k, p->accumulate, p->bias_rows, p->bias_cols, p->residual, &p->act};
            pack_b_block(p, &blk, count, k0, kc, bblock);
            for (int64_t row0 = row_begin; row0 < row_end; row0 += MR) {
                int64_t rows = row_end - row0 < MR ? row_end - row0 : MR;
                const float *a = apanel;
                if (p->a_packed) a = p->a_packed + a_offset(m_padded, row0 / MR, k0, kc);
                else pack_a_panel(p->a, p->a_rs, p->a_cs, p->m, row0, k0, kc, p->a_alpha, apanel);
                for (int64_t t = 0; t < count; t += NR) {
                    int64_t cols = count - t < NR ? count - t : NR;
                    const float *b;
                    int64_t ldb = NR;
                    if (p->b_packed) {
                        b = p->b_packed + b_offset(n_padded, (j0 + t) / NR, k0, kc);
                    } else if (b_in_place(p, &blk, t, cols)) {
                        b = p->b + k0 * p->b_rs + blk.b_off[t];
                        ldb = p->b_rs;
                    } else {
                        b = bblock + t * kc;
                    }
                    prefetch_next_residual(p, s.last, &blk, row0, row_end, t, count, MR, NR);
                    micro_tile(rows, kc, a, b, ldb, b_ahead(p, &blk, t + NR, NR, count, j0, k0, kc, row0 == row_begin), p, &s, row0, &blk, t, cols,
                               j0 + t);
                }
            }
        }
    }
}

#define AVX512 __attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,avx2,fma")))

/// One finished row of an AVX-512 tile: W (1 or 2) vectors of 16 values, `cols` valid.
AVX512 static inline VIGIL_ALWAYS_INLINE void store_row512(__m512 v0, __m512 v1, const int W, const tile_store *s, int64_t row,
                                                                       int64_t col, float *c, const float *res, int64_t cols) {
    __mmask16 m0 = v16_mask(cols), m1 = v16_mask(cols - 16);
    if (!s->first || s->accumulate) {
        v0 = _mm512_add_ps(v0, _mm512_maskz_loadu_ps(m0, c));
        if (W > 1) v1 = _mm512_add_ps(v1, _mm512_maskz_loadu_ps(m1, c + 16));
    }
    if (s->last) {
        if (s->bias_rows) {
            __m512 b = _mm512_set1_ps(s->bias_rows[row]);
            v0 = _mm512_add_ps(v0, b);
            if (W > 1) v1 = _mm512_add_ps(v1, b);
        }
        if (s->bias_cols) {
            v0 = _mm512_add_ps(v0, _mm512_maskz_loadu_ps(m0, s->bias_cols + col));
            if (W > 1) v1 = _mm512_add_ps(v1, _mm512_maskz_loadu_ps(m1, s->bias_cols + col + 16));
        }
        if (res) {
            v0 = _mm512_add_ps(v0, _mm512_maskz_loadu_ps(m0, res));
            if (W > 1) v1 = _mm512_add_ps(v1, _mm512_maskz_loadu_ps(m1, res + 16));
        }
        if (s->act->kind != VIGIL_ACT_NONE) {
            v0 = v16_activate(v0, s->act);
            if (W > 1) v1 = v16_activate(v1, s->act);
        }
    }
    _mm512_mask_storeu_ps(c, m0, v0);
    if (W > 1) _mm512_mask_storeu_ps(c + 16, m1, v1);
}

/// The AVX-512 micro-kernel: R rows (1 ... 12: the A panels a0 and, beyond 6 rows, a1) by W vectors of 16
/// columns (the B panels b0 and b1, rows ldb0 and ldb1 apart), R and W constants in each caller. Each step
/// of K also prefetches 48 bytes from `next` on (the following rows' A panels, 2 x 6 floats per step, in
/// a row's first tile; else a0 again): when C has few columns the weights are read once, from memory, and
/// the hardware prefetcher alone left the 7 x 7 layers of ResNet-50 waiting for them.
// Long function: the SIMD micro-kernel keeps its 24 accumulators in registers across the K loop and the stores.
AVX512 static inline VIGIL_ALWAYS_INLINE void micro512(
    const int R, const int W, int64_t kc, const float *a0, const float *a1, const float *b0, int64_t ldb0, const float *b1, int64_t ldb1,
    const float *next, b_prefetch ahead, const vigil_gemm_problem *p, const tile_store *s, int64_t row0, const column_block *blk, int64_t t,
    int64_t cols, int64_t col0) {
#define DECL(i) __m512 c##i##0 = _mm512_setzero_ps(), c##i##1 = _mm512_setzero_ps();
    DECL(0) DECL(1) DECL(2) DECL(3) DECL(4) DECL(5) DECL(6) DECL(7) DECL(8) DECL(9) DECL(10) DECL(11)
#undef DECL
    for (int64_t k = 0; k < kc; k++) {
        _mm_prefetch((const char *)(next + k * 2 * MR), _MM_HINT_T0);
        if (ahead.row) {
            const float *row = ahead.row + k * ahead.stride;
            _mm_prefetch((const char *)row, _MM_HINT_T0);
            _mm_prefetch((const char *)(row + ahead.second), _MM_HINT_T0);
            if (ahead.second == NR) _mm_prefetch((const char *)(row + 2 * NR - 1), _MM_HINT_T0);  // in place: 32 floats in 3 lines unless aligned
        }
        __m512 v0 = _mm512_loadu_ps(b0), v1 = W > 1 ? _mm512_loadu_ps(b1) : _mm512_setzero_ps();
#define STEP(i, ap, j)                                                    \
        if (R > i) {                                                      \
            __m512 av = _mm512_set1_ps(ap[j]);                            \
            c##i##0 = _mm512_fmadd_ps(av, v0, c##i##0);                   \
            if (W > 1) c##i##1 = _mm512_fmadd_ps(av, v1, c##i##1);        \
        }
        STEP(0, a0, 0) STEP(1, a0, 1) STEP(2, a0, 2) STEP(3, a0, 3) STEP(4, a0, 4) STEP(5, a0, 5)
        STEP(6, a1, 0) STEP(7, a1, 1) STEP(8, a1, 2) STEP(9, a1, 3) STEP(10, a1, 4) STEP(11, a1, 5)
#undef STEP
        a0 += MR;
        if (R > 6) a1 += MR;
        b0 += ldb0;
        if (W > 1) b1 += ldb1;
    }
    if (c_contiguous(blk, t, cols)) {
        float *c = p->c + row0 * p->c_rs + blk->c_off[t];
        const float *res = s->last && s->residual ? s->residual + row0 * p->c_rs + blk->c_off[t] : 0;
        int64_t rs = p->c_rs;
#define ROW(i) if (R > i) store_row512(c##i##0, c##i##1, W, s, row0 + i, col0, c + i * rs, res ? res + i * rs : 0, cols);
        ROW(0) ROW(1) ROW(2) ROW(3) ROW(4) ROW(5) ROW(6) ROW(7) ROW(8) ROW(9) ROW(10) ROW(11)
#undef ROW
        return;
    }
    // Columns crossing an image: each 6 x 16 quarter through the AVX2 scattered store.
    float acc[2][2][MR * NR];
#define SPILL(i) _mm512_storeu_ps(acc[i / 6][0] + (i % 6) * NR, c##i##0); _mm512_storeu_ps(acc[i / 6][1] + (i % 6) * NR, c##i##1);
    SPILL(0) SPILL(1) SPILL(2) SPILL(3) SPILL(4) SPILL(5) SPILL(6) SPILL(7) SPILL(8) SPILL(9) SPILL(10) SPILL(11)
#undef SPILL
    for (int h = 0; h * MR < R; h++)
        for (int w = 0; w < W && w * NR < cols; w++) {
            int64_t rows = R - h * MR < MR ? R - h * MR : MR, n = cols - w * NR < NR ? cols - w * NR : NR;
            store_scattered(acc[h][w], p, s, row0 + h * MR, rows, blk, t + w * NR, n, col0 + w * NR);
        }
}

/// The AVX-512 micro-kernel specialized for each row count and width.
AVX512 static void micro_tile512(int64_t rows, int64_t cols, int64_t kc, const float *a0, const float *a1, const float *b0, int64_t ldb0,
                                 const float *b1, int64_t ldb1, const float *next, b_prefetch ahead, const vigil_gemm_problem *p, const tile_store *s,
                                 int64_t row0, const column_block *blk, int64_t t, int64_t col0) {
#define CASE(r)                                                                                                   \
    case r:                                                                                                       \
        if (cols > NR) micro512(r, 2, kc, a0, a1, b0, ldb0, b1, ldb1, next, ahead, p, s, row0, blk, t, cols, col0);      \
        else micro512(r, 1, kc, a0, a1, b0, ldb0, b1, ldb1, next, ahead, p, s, row0, blk, t, cols, col0);                \
        break;
    switch (rows) {
        CASE(1) CASE(2) CASE(3) CASE(4) CASE(5) CASE(6) CASE(7) CASE(8) CASE(9) CASE(10) CASE(11)
        default: CASE(12)
    }
#undef CASE
}

/// The B panel of tile t (16 columns) of a block, and the stride between its rows.
static inline const float *b_panel(const vigil_gemm_problem *p, const column_block *blk, const float *bblock, int64_t n_padded, int64_t j0,
                                   int64_t t, int64_t cols, int64_t k0, int64_t kc, int64_t *ldb) {
    *ldb = NR;
    if (p->b_packed) return p->b_packed + b_offset(n_padded, (j0 + t) / NR, k0, kc);
    if (b_in_place(p, blk, t, cols)) {
        *ldb = p->b_rs;
        return p->b + k0 * p->b_rs + blk->b_off[t];
    }
    return bblock + t * kc;
}

/// How far ahead (floats of the packed panels) the matrix-vector product prefetches its weights: at batch 1
/// they come from memory or L3 on every run, and the hardware prefetcher alone streamed them at a third of
/// onnxruntime's speed (60 alternating 240 -> 960 -> 240 products, 55 MB: 7.4 -> 1.7-2.0 ms, 1 thread;
/// 2 KB ahead 2.7 ms, 16 KB 2.0-2.3 ms).
#define GEMV_PREFETCH 2048

/// C with one column and A prepacked (a matrix-vector product: the squeeze-and-excitation convolutions
/// on 1 x 1 planes, at batch 1), where the tiles would use one lane of 16. Each panel's K rows of 6 are
/// read as 16-float vectors (8 rows of K in three), B's 8 values spread to match by a permute, so every
/// lane counts; per row of C, the 8 partial sums of its lanes are added at the end of each K block. Each
/// step also prefetches the three cache lines GEMV_PREFETCH floats ahead.
AVX512 static void gemv512(const vigil_gemm_problem *p, int64_t row_begin, int64_t row_end, float *workspace) {
    int64_t kb = k_block(p->k), m_padded = (p->m + MR - 1) / MR * MR;
    float *bblock = workspace;
    column_block blk;
    column_block_at(p, 0, 1, &blk);
    const __m512i i0 = _mm512_setr_epi32(0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2);
    const __m512i i1 = _mm512_setr_epi32(2, 2, 3, 3, 3, 3, 3, 3, 4, 4, 4, 4, 4, 4, 5, 5);
    const __m512i i2 = _mm512_setr_epi32(5, 5, 5, 5, 6, 6, 6, 6, 6, 6, 7, 7, 7, 7, 7, 7);
    float bk[KC_MAX + 8], t[48];
    for (int64_t k0 = 0; k0 < p->k; k0 += kb) {
        int64_t kc = p->k - k0 < kb ? p->k - k0 : kb, ldb;
        tile_store s = {k0 == 0, k0 + kc == p->k, p->accumulate, p->bias_rows, p->bias_cols, p->residual, &p->act};
        pack_b_block(p, &blk, 1, k0, kc, bblock);
        const float *b = b_panel(p, &blk, bblock, NR, 0, 0, 1, k0, kc, &ldb);
        for (int64_t k = 0; k < kc; k++) bk[k] = b[k * ldb];
        for (int64_t k = kc; k < kc + 8; k++) bk[k] = 0.0f;
        for (int64_t row0 = row_begin; row0 < row_end; row0 += MR) {
            const float *a = p->a_packed + a_offset(m_padded, row0 / MR, k0, kc);
            __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps(), acc2 = _mm512_setzero_ps();
            for (int64_t k = 0; k < kc; k += 8) {
                // The last rows of K through masked loads: nothing read past the panel.
                int64_t n = 6 * (kc - k);
                const char *ahead = (const char *)(a + 6 * k + GEMV_PREFETCH);
                _mm_prefetch(ahead, _MM_HINT_T0);
                _mm_prefetch(ahead + 64, _MM_HINT_T0);
                _mm_prefetch(ahead + 128, _MM_HINT_T0);
                __m512 bv = _mm512_castps256_ps512(_mm256_loadu_ps(bk + k));
                acc0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(v16_mask(n), a + 6 * k), _mm512_permutexvar_ps(i0, bv), acc0);
                acc1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(v16_mask(n - 16), a + 6 * k + 16), _mm512_permutexvar_ps(i1, bv), acc1);
                acc2 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(v16_mask(n - 32), a + 6 * k + 32), _mm512_permutexvar_ps(i2, bv), acc2);
            }
            _mm512_storeu_ps(t, acc0);
            _mm512_storeu_ps(t + 16, acc1);
            _mm512_storeu_ps(t + 32, acc2);
            int64_t rows = row_end - row0 < MR ? row_end - row0 : MR;
            for (int64_t r = 0; r < rows; r++) {
                float sum = ((t[r] + t[r + 6]) + (t[r + 12] + t[r + 18])) + ((t[r + 24] + t[r + 30]) + (t[r + 36] + t[r + 42]));
                float *c = p->c + (row0 + r) * p->c_rs + blk.c_off[0];
                const float *res = s.last && s.residual ? s.residual + (row0 + r) * p->c_rs + blk.c_off[0] : 0;
                __m512 v = _mm512_set1_ps(sum);
                store_row512(v, v, 1, &s, row0 + r, 0, c, res, 1);
            }
        }
    }
}

AVX512 static void gemm_avx512(const vigil_gemm_problem *p, int64_t col_begin, int64_t col_end, int64_t row_begin, int64_t row_end,
                               float *workspace) {
    if (p->n == 1 && p->a_packed && col_begin == 0 && col_end == 1) {
        gemv512(p, row_begin, row_end, workspace);
        return;
    }
    int64_t kb = k_block(p->k), m_padded = (p->m + MR - 1) / MR * MR, n_padded = (p->n + NR - 1) / NR * NR;
    float *bblock = workspace, *apanel = workspace + kb * NC;
    column_block blk;
    const int64_t nc = column_block_width();
    for (int64_t j0 = col_begin; j0 < col_end; j0 += nc) {
        int64_t count = col_end - j0 < nc ? col_end - j0 : nc;
        column_block_at(p, j0, count, &blk);
        for (int64_t k0 = 0; k0 < p->k; k0 += kb) {
            int64_t kc = p->k - k0 < kb ? p->k - k0 : kb;
            tile_store s = {k0 == 0, k0 + kc == p->k, p->accumulate, p->bias_rows, p->bias_cols, p->residual, &p->act};
            pack_b_block(p, &blk, count, k0, kc, bblock);
#ifndef TILE_OUTER
            for (int64_t row0 = row_begin; row0 < row_end; row0 += 2 * MR) {
                int64_t rows = row_end - row0 < 2 * MR ? row_end - row0 : 2 * MR;
                const float *a0 = apanel, *a1 = apanel + kc * MR, *following = apanel;
                if (p->a_packed) {
                    a0 = p->a_packed + a_offset(m_padded, row0 / MR, k0, kc);
                    a1 = rows > MR ? p->a_packed + a_offset(m_padded, row0 / MR + 1, k0, kc) : a0;
                    // The next two panels (past the last: the next K block's first ones, or past the end),
                    // whatever the weights' size: a whole model's weights do not stay in L2 from one run to
                    // the next, so at batch 1 every layer's come from L3 or memory (prefetching layers under
                    // 512 KB too: ResNet-18 1.07x, DenseNet-121 1.08x, MobileNetV3-Large 1.04x at batch 1,
                    // one thread, median of 11 paired rounds).
                    following = p->a_packed + a_offset(m_padded, row0 / MR + 2, k0, kc);
                } else {
                    pack_a_panel(p->a, p->a_rs, p->a_cs, p->m, row0, k0, kc, p->a_alpha, apanel);
                    if (rows > MR) pack_a_panel(p->a, p->a_rs, p->a_cs, p->m, row0 + MR, k0, kc, p->a_alpha, apanel + kc * MR);
                }
                for (int64_t t = 0; t < count; t += 2 * NR) {
                    int64_t cols = count - t < 2 * NR ? count - t : 2 * NR;
                    int64_t ldb0, ldb1 = NR;
                    const float *b0 = b_panel(p, &blk, bblock, n_padded, j0, t, cols < NR ? cols : NR, k0, kc, &ldb0);
                    const float *b1 = cols > NR ? b_panel(p, &blk, bblock, n_padded, j0, t + NR, cols - NR, k0, kc, &ldb1) : b0;
                    prefetch_next_residual(p, s.last, &blk, row0, row_end, t, count, 2 * MR, 2 * NR);
                    b_prefetch ahead = b_ahead(p, &blk, t + 2 * NR, 2 * NR, count, j0, k0, kc, row0 == row_begin);
                    micro_tile512(rows, cols, kc, a0, a1, b0, ldb0, b1, ldb1, t == 0 ? following : a0, ahead, p, &s, row0, &blk, t, j0 + t);
                }
            }
#else
            for (int64_t t = 0; t < count; t += 2 * NR) {
                int64_t cols = count - t < 2 * NR ? count - t : 2 * NR;
                int64_t ldb0, ldb1 = NR;
                const float *b0 = b_panel(p, &blk, bblock, n_padded, j0, t, cols < NR ? cols : NR, k0, kc, &ldb0);
                const float *b1 = cols > NR ? b_panel(p, &blk, bblock, n_padded, j0, t + NR, cols - NR, k0, kc, &ldb1) : b0;
                for (int64_t row0 = row_begin; row0 < row_end; row0 += 2 * MR) {
                    int64_t rows = row_end - row0 < 2 * MR ? row_end - row0 : 2 * MR;
                    const float *a0 = p->a_packed + a_offset(m_padded, row0 / MR, k0, kc);
                    const float *a1 = rows > MR ? p->a_packed + a_offset(m_padded, row0 / MR + 1, k0, kc) : a0;
                    micro_tile512(rows, cols, kc, a0, a1, b0, ldb0, b1, ldb1, a0, (b_prefetch){0, 0, 0}, p, &s, row0, &blk, t, j0 + t);
                }
            }
#endif
        }
    }
}

void vigil_gemm_compute(const vigil_gemm_problem *p, int64_t col_begin, int64_t col_end, int64_t row_begin, int64_t row_end,
                        float *workspace) {
    if (col_begin >= col_end || row_begin >= row_end) return;
    if (vigil_avx512_enabled()) gemm_avx512(p, col_begin, col_end, row_begin, row_end, workspace);
    else gemm_avx2(p, col_begin, col_end, row_begin, row_end, workspace);
}

#else

void vigil_gemm_pack_b_columns(const vigil_gemm_problem *p, int64_t col_begin, int64_t col_end, float *packed) {
    // Never called: callers check vigil_vector_available() first.
    (void)p; (void)col_begin; (void)col_end; (void)packed;
}

void vigil_gemm_compute(const vigil_gemm_problem *p, int64_t col_begin, int64_t col_end, int64_t row_begin, int64_t row_end,
                        float *workspace) {
    // Never called: callers check vigil_vector_available() first.
    (void)p; (void)col_begin; (void)col_end; (void)row_begin; (void)row_end; (void)workspace;
}

#endif
