// Vigil's packed GEMM: C = act(A B + bias + residual), vectorized along the columns of C, so that a row
// of C (an output channel's pixels in NCHW, a token's features in a MatMul) is written with vector
// stores and the whole epilogue is vectorized. A 6 x 16 register tile (AVX2 + FMA) accumulates; A is packed in panels of 6 rows (once, for constant weights), B in panels of 16 columns
// (once, for constant weights; else per block of columns, straight from the source: a strided matrix
// or the columns of a convolution, im2col never materialized). Runtime-dispatched; callers check
// `vigil_vector_available()`.
#ifndef VIGIL_GEMM_H
#define VIGIL_GEMM_H

#include "vigil_activation.h"

#include <stddef.h>
#include <stdint.h>

/// Rows of an A panel and columns of a B panel (the AVX2 register tile; the AVX-512 tile is two of each).
#define VIGIL_GEMM_MR 6
#define VIGIL_GEMM_NR 16

/// Floats to hold A (M x K) packed; the layout depends on the K blocking, so the same `k` must be used
/// to compute.
size_t vigil_gemm_packed_a_count(int64_t m, int64_t k);
/// Packs A, element (i, p) at a[i * rs + p * cs], times `alpha`.
void vigil_gemm_pack_a(const float *a, int64_t rs, int64_t cs, int64_t m, int64_t k, float alpha, float *packed);

/// Floats to hold B (K x N) packed.
size_t vigil_gemm_packed_b_count(int64_t k, int64_t n);
/// Packs B, element (p, j) at b[p * rs + j * cs], times `alpha`.
void vigil_gemm_pack_b(const float *b, int64_t rs, int64_t cs, int64_t k, int64_t n, float alpha, float *packed);

/// The columns of a 2-D convolution over an already padded input: column j = (image, output pixel q),
/// row p = (channel, kh, kw); B(p, j) = x[image * in_image_stride + row_offsets[p] + oh * stride_h * in_w
/// + ow * stride_w], q = oh * out_w + ow.
typedef struct {
    const int64_t *row_offsets;
    int64_t in_w, in_image_stride;
    int64_t out_w, stride_h, stride_w;
} vigil_gemm_conv;

/// One GEMM. Columns come in images of `cols_per_image` (a convolution's output pixels; a plain matrix
/// is one image of n columns): column j = image * cols_per_image + q.
typedef struct {
    int64_t m, n, k;
    /// A prepacked (`a_packed`), or element (i, p) at a[i * a_rs + p * a_cs] times `a_alpha`, packed per call.
    const float *a_packed;
    const float *a;
    int64_t a_rs, a_cs;
    float a_alpha;
    /// B prepacked (`b_packed`, columns numbered 0 ..< n), the columns of a convolution (`conv`, reading
    /// `b`), or element (p, j) at b[image * b_image + p * b_rs + q * b_cs].
    const float *b_packed;
    const vigil_gemm_conv *conv;
    const float *b;
    int64_t b_rs, b_cs, b_image;
    /// 1: pack a strided B per block even where its rows could be read in place (rows a large power-of-two
    /// multiple apart conflict in the cache).
    int32_t b_always_pack;
    /// C: element (i, j) at c[image * c_image + i * c_rs + q * c_cs]; `residual` is indexed the same way.
    float *c;
    int64_t c_rs, c_cs, c_image, cols_per_image;
    /// 1: add the values C holds before the call (C = C + A B ...).
    int32_t accumulate;
    /// Added per row (i) and per column (j), either may be NULL.
    const float *bias_rows, *bias_cols;
    const float *residual;
    vigil_act act;
} vigil_gemm_problem;

/// Packs columns [col_begin, col_end) (col_begin a multiple of VIGIL_GEMM_NR) of the B that `p` reads (a
/// strided matrix or a convolution's columns; `p->b_packed` unset) into `packed`, which holds
/// `vigil_gemm_packed_b_count(p->k, p->n)` floats, in the layout `b_packed` is read in. Disjoint ranges
/// may be packed on different threads. A convolution's problem then computes with both `conv` (for its
/// output layout) and `b_packed` set.
void vigil_gemm_pack_b_columns(const vigil_gemm_problem *p, int64_t col_begin, int64_t col_end, float *packed);

/// Floats of per-thread workspace `vigil_gemm_compute` needs.
size_t vigil_gemm_workspace_count(int64_t k);

/// Computes columns [col_begin, col_end) of rows [row_begin, row_end) (row_begin a multiple of
/// VIGIL_GEMM_MR; col_begin a multiple of VIGIL_GEMM_NR when B is prepacked) of C. Disjoint ranges may
/// run on different threads, each with its own workspace.
void vigil_gemm_compute(const vigil_gemm_problem *p, int64_t col_begin, int64_t col_end, int64_t row_begin, int64_t row_end,
                        float *workspace);

#endif
