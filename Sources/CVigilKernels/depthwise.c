// Depthwise convolution (see include/vigil_depthwise.h).
#include "vector_math.h"
#include "vigil_depthwise.h"
#include "depthwise_internal.h"

#include <string.h>

/// The most output columns computed per step (four AVX2 vectors).
#define STEP 32

/// Padded rows and columns one plane needs, the width of one stride phase of a row, and the vectors of
/// output columns computed per step (1, 2 or 4: as few as cover rows of at most 8 or 16 columns); the
/// padded rows have 8 * vectors columns of slack for the last step.
typedef struct {
    int64_t rows, cols, phase_w, row_stride, vectors;
} padded_shape;

static padded_shape shape_of(const vigil_depthwise *p) {
    padded_shape s;
    s.vectors = p->out_w <= 8 ? 1 : p->out_w <= 16 ? 2 : 4;
    s.rows = (p->out_h - 1) * p->stride_h + (p->kernel_h - 1) * p->dilation_h + 1;
    s.cols = (p->out_w - 1) * p->stride_w + (p->kernel_w - 1) * p->dilation_w + 1;
    s.phase_w = (s.cols + p->stride_w - 1) / p->stride_w + 8 * s.vectors;
    s.row_stride = s.phase_w * p->stride_w;
    return s;
}

size_t vigil_depthwise_workspace_count(const vigil_depthwise *p) {
    padded_shape s = shape_of(p);
    size_t rows = (size_t)(s.rows * s.row_stride + 2 * STEP);
    // Enough for either kernel, whichever the CPU setting picks when the plan runs.
    size_t lanes = vigil_depthwise_lanes_workspace_count(p), lanes8 = vigil_depthwise_lanes8_workspace_count(p);
    if (lanes8 > lanes) lanes = lanes8;
    size_t phases = vigil_phase_workspace(p);
    if (phases > lanes) lanes = phases;
    return lanes > rows ? lanes : rows;
}

int64_t vigil_depthwise_plane_group(const vigil_depthwise *p) {
    return vigil_depthwise_lanes_takes(p) ? 16 : vigil_depthwise_lanes8_takes(p) ? 8 : 1;
}

#if defined(__x86_64__)

#define AVX2 __attribute__((target("avx2,fma")))

/// Fills n floats with v.
static inline void fill(float *dst, int64_t n, float v) {
    if (v == 0.0f) { memset(dst, 0, sizeof(float) * (size_t)(n > 0 ? n : 0)); return; }
    for (int64_t i = 0; i < n; i++) dst[i] = v;
}

/// Copies one input plane into `dst`: padded row r holds input row r - pad_top, its column c (input column
/// c - pad_left; `pad` outside the input) at phase c % stride_w, index c / stride_w.
AVX2 static void pad_plane(const vigil_depthwise *p, const padded_shape *s, const float *x, float pad, float *dst) {
    const int64_t sw = p->stride_w;
    for (int64_t r = 0; r < s->rows; r++) {
        float *row = dst + r * s->row_stride;
        int64_t ih = r - p->pad_top;
        if (ih < 0 || ih >= p->h) {
            fill(row, s->row_stride, pad);
            continue;
        }
        const float *src = x + ih * p->w;
        // Columns [lo, hi) of the padded row come from the input; the others are padding.
        int64_t lo = p->pad_left < s->cols ? p->pad_left : s->cols;
        int64_t hi = p->pad_left + p->w < s->cols ? p->pad_left + p->w : s->cols;
        if (hi < lo) hi = lo;
        if (sw == 1) {
            fill(row, lo, pad);
            if (hi > lo) memcpy(row + lo, src + (lo - p->pad_left), sizeof(float) * (size_t)(hi - lo));
            fill(row + hi, s->row_stride - hi, pad);
            continue;
        }
        fill(row, s->row_stride, pad);
        int64_t c = lo;
        if (sw == 2) {
            // From an even column on, 16 columns at a time: even ones to phase 0, odd ones to phase 1.
            const __m256i split = _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7);
            for (; c < hi && c % 2 != 0; c++) row[s->phase_w + c / 2] = src[c - p->pad_left];
            for (; c + 16 <= hi; c += 16) {
                __m256 a = _mm256_permutevar8x32_ps(_mm256_loadu_ps(src + c - p->pad_left), split);
                __m256 b = _mm256_permutevar8x32_ps(_mm256_loadu_ps(src + c - p->pad_left + 8), split);
                _mm256_storeu_ps(row + c / 2, _mm256_permute2f128_ps(a, b, 0x20));
                _mm256_storeu_ps(row + s->phase_w + c / 2, _mm256_permute2f128_ps(a, b, 0x31));
            }
        }
        // The rest column by column, the phase and index kept as counters (no division per element).
        int64_t phase = c % sw, index = c / sw;
        for (; c < hi; c++) {
            row[phase * s->phase_w + index] = src[c - p->pad_left];
            if (++phase == sw) { phase = 0; index++; }
        }
    }
}

/// The epilogue of 8 outputs at column ow (n of them valid): average scaling, residual, activation (ACT:
/// VIGIL_ACT_NONE, VIGIL_ACT_LINEAR, or -1 for any kind, a constant in each specialization), store.
AVX2 static inline VIGIL_ALWAYS_INLINE void finish8(const vigil_depthwise *p, const int MODE, const int ACT, __m256 a,
                                                                const float *res, float *y, int64_t ow, int64_t oh) {
    int64_t n = p->out_w - ow;
    if (n <= 0) return;
    __m256i m = v8_mask(n);
    int full = n >= 8;
    if (MODE == VIGIL_WINDOW_AVERAGE)
        a = _mm256_mul_ps(a, _mm256_mul_ps(_mm256_set1_ps(p->inv_h[oh]), full ? _mm256_loadu_ps(p->inv_w + ow) : _mm256_maskload_ps(p->inv_w + ow, m)));
    if (res) a = _mm256_add_ps(a, full ? _mm256_loadu_ps(res + ow) : _mm256_maskload_ps(res + ow, m));
    if (ACT == VIGIL_ACT_LINEAR) {
        a = _mm256_blendv_ps(a, _mm256_mul_ps(a, _mm256_set1_ps(p->act.a)), _mm256_cmp_ps(a, _mm256_setzero_ps(), _CMP_LT_OQ));
        __m256 low = _mm256_set1_ps(p->act.b), high = _mm256_set1_ps(p->act.c);
        a = _mm256_blendv_ps(a, low, _mm256_cmp_ps(a, low, _CMP_LT_OQ));
        a = _mm256_blendv_ps(a, high, _mm256_cmp_ps(a, high, _CMP_GT_OQ));
    } else if (ACT != VIGIL_ACT_NONE) {
        a = v8_activate(a, &p->act);
    }
    if (full) _mm256_storeu_ps(y + ow, a);
    else _mm256_maskstore_ps(y + ow, m, a);
}

/// Combines two partial windows (sums, or maxima: the second's lanes where the first's are smaller).
AVX2 static inline VIGIL_ALWAYS_INLINE __m256 combine8(const int MODE, __m256 a, __m256 b) {
    return MODE == VIGIL_WINDOW_MAX ? _mm256_max_ps(b, a) : _mm256_add_ps(a, b);
}

/// A block of R output rows (consecutive) by V vectors of columns (R * V = 4 in the main blocks: rows of
/// at most 8 columns go four at a time, of at most 16 two at a time, wider ones one at a time, 32 columns
/// per step): the window over the taps (weighted sum, maximum or average) of the padded rows `rows[kh]`
/// (those of the block's first row; the next row's are stride_h padded rows further) at columns `cols[kw]`
/// + ow, in two partial windows (even and odd kernel rows), so that up to eight chains of FMAs run at once
/// instead of a few long ones; then the epilogue. KH, KW, MODE, ACT, R and V are compile-time constants in
/// the specialized callers (3 x 3, 5 x 5 and 7 x 7 convolutions), KH and KW else the runtime values (at
/// most VIGIL_WINDOW_MAX_TAPS per row and column).
// Long function: a SIMD kernel whose accumulators stay in registers across the taps.
AVX2 static inline VIGIL_ALWAYS_INLINE void output_block(
    const vigil_depthwise *p, const padded_shape *s, int64_t KH, int64_t KW, const int MODE, const int ACT, const int R, const int V,
    const float *const *rows, const int64_t *cols, const float *w, float b, const float *res, float *y, int64_t oh) {
    const __m256 init = MODE == VIGIL_WINDOW_MAX ? _mm256_set1_ps(-__builtin_inff()) : _mm256_setzero_ps();
    const int64_t next = p->stride_h * s->row_stride;
    for (int64_t ow = 0; ow < p->out_w; ow += 8 * V) {
        __m256 a[4], c[4];
        for (int i = 0; i < 4; i++) a[i] = c[i] = init;
        for (int64_t kh = 0; kh < KH; kh++) {
            for (int64_t kw = 0; kw < KW; kw++) {
                const float *src = rows[kh] + cols[kw] + ow;
                __m256 wv = MODE == VIGIL_WINDOW_CONV ? _mm256_broadcast_ss(w + kh * KW + kw) : init;
                for (int r = 0; r < R; r++) {
                    for (int v = 0; v < V; v++) {
                        __m256 x = _mm256_loadu_ps(src + r * next + 8 * v);
                        __m256 *acc = kh % 2 == 0 ? &a[r * V + v] : &c[r * V + v];
                        if (MODE == VIGIL_WINDOW_CONV) *acc = _mm256_fmadd_ps(wv, x, *acc);
                        else if (MODE == VIGIL_WINDOW_MAX) *acc = _mm256_max_ps(x, *acc);  // the tap when larger; the maximum so far when it is NaN
                        else *acc = _mm256_add_ps(*acc, x);
                    }
                }
            }
        }
        const __m256 bias = _mm256_set1_ps(MODE == VIGIL_WINDOW_CONV ? b : 0.0f);
        for (int r = 0; r < R; r++) {
            for (int v = 0; v < V; v++) {
                __m256 sum = combine8(MODE, a[r * V + v], c[r * V + v]);
                if (MODE == VIGIL_WINDOW_CONV) sum = _mm256_add_ps(sum, bias);
                finish8(p, MODE, ACT, sum, res ? res + r * p->out_w : 0, y + r * p->out_w, ow + 8 * v, oh + r);
            }
        }
    }
}

/// Stride-1, undilated rows: R output rows (consecutive) by V vectors of columns, in which each padded row
/// is loaded once per column tap (KH + R - 1 rows for R outputs, not KH * R) and serves every output row
/// whose window holds it; the R * V accumulators are independent chains. `rows[kh]` are the block's first
/// output row's padded rows (the next ones follow `row_stride` apart). Constants as in output_block.
// Long function: a SIMD kernel whose accumulators stay in registers across the taps.
AVX2 static inline VIGIL_ALWAYS_INLINE void output_rows_reused(
    const vigil_depthwise *p, const padded_shape *s, int64_t KH, int64_t KW, const int MODE, const int ACT, const int R, const int V,
    const float *const *rows, const int64_t *cols, const float *w, float b, const float *res, float *y, int64_t oh) {
    const __m256 init = MODE == VIGIL_WINDOW_MAX ? _mm256_set1_ps(-__builtin_inff()) : _mm256_set1_ps(MODE == VIGIL_WINDOW_CONV ? b : 0.0f);
    for (int64_t ow = 0; ow < p->out_w; ow += 8 * V) {
        __m256 a[8];
        for (int i = 0; i < 8; i++) a[i] = init;
        for (int64_t i = 0; i < KH + R - 1; i++) {
            const float *row = rows[0] + i * s->row_stride + ow;
            for (int64_t kw = 0; kw < KW; kw++) {
                __m256 x[4];
                for (int v = 0; v < V; v++) x[v] = _mm256_loadu_ps(row + cols[kw] + 8 * v);
                for (int r = 0; r < R; r++) {
                    int64_t kh = i - r;
                    if (kh < 0 || kh >= KH) continue;
                    if (MODE == VIGIL_WINDOW_CONV) {
                        __m256 wv = _mm256_broadcast_ss(w + kh * KW + kw);
                        for (int v = 0; v < V; v++) a[r * V + v] = _mm256_fmadd_ps(wv, x[v], a[r * V + v]);
                    } else if (MODE == VIGIL_WINDOW_MAX) {
                        for (int v = 0; v < V; v++) a[r * V + v] = _mm256_max_ps(x[v], a[r * V + v]);  // the tap when larger; the maximum so far when it is NaN
                    } else {
                        for (int v = 0; v < V; v++) a[r * V + v] = _mm256_add_ps(a[r * V + v], x[v]);
                    }
                }
            }
        }
        for (int r = 0; r < R; r++)
            for (int v = 0; v < V; v++)
                finish8(p, MODE, ACT, a[r * V + v], res ? res + r * p->out_w : 0, y + r * p->out_w, ow + 8 * v, oh + r);
    }
}

/// Where tap (kh, kw) of output column 0 is: padded row oh * stride_h + kh * dilation_h, column (phase, index)
/// of kw * dilation_w.
static inline void tap_columns(const vigil_depthwise *p, const padded_shape *s, int64_t *cols) {
    for (int64_t kw = 0; kw < p->kernel_w; kw++) {
        int64_t col = kw * p->dilation_w;
        cols[kw] = (col % p->stride_w) * s->phase_w + col / p->stride_w;
    }
}

#define PLANE_ACT(name, KH, KW, MODE, ACT)                                                                                 \
    AVX2 static void name(const vigil_depthwise *p, const padded_shape *s, const float *pad, const int64_t *cols, const float *w, \
                          float b, const float *res, float *y) {                                                           \
        const float *rows[VIGIL_WINDOW_MAX_TAPS];                                                                          \
        int64_t oh = 0;                                                                                                    \
        while (oh < p->out_h) {                                                                                            \
            int64_t left = p->out_h - oh;                                                                                  \
            for (int64_t kh = 0; kh < KH; kh++) rows[kh] = pad + (oh * p->stride_h + kh * p->dilation_h) * s->row_stride;  \
            const float *r = res ? res + oh * p->out_w : 0;                                                                \
            float *out = y + oh * p->out_w;                                                                                \
            int step = s->vectors == 4 || left == 1 ? 1 : s->vectors == 2 || left < 4 ? 2 : 4;                             \
            if (p->stride_h == 1 && p->dilation_h == 1 && left >= 2) {                                                      \
                step = s->vectors == 4 || left < 4 ? 2 : 4;                                                                 \
                if (s->vectors == 4) output_rows_reused(p, s, KH, KW, MODE, ACT, 2, 4, rows, cols, w, b, r, out, oh);       \
                else if (step == 4 && s->vectors == 2) output_rows_reused(p, s, KH, KW, MODE, ACT, 4, 2, rows, cols, w, b, r, out, oh); \
                else if (step == 4) output_rows_reused(p, s, KH, KW, MODE, ACT, 4, 1, rows, cols, w, b, r, out, oh);       \
                else if (s->vectors == 2) output_rows_reused(p, s, KH, KW, MODE, ACT, 2, 2, rows, cols, w, b, r, out, oh);  \
                else output_rows_reused(p, s, KH, KW, MODE, ACT, 2, 1, rows, cols, w, b, r, out, oh);                       \
            } else if (s->vectors == 1 && step == 4) output_block(p, s, KH, KW, MODE, ACT, 4, 1, rows, cols, w, b, r, out, oh);   \
            else if (s->vectors == 1 && step == 2) output_block(p, s, KH, KW, MODE, ACT, 2, 1, rows, cols, w, b, r, out, oh); \
            else if (s->vectors == 1) output_block(p, s, KH, KW, MODE, ACT, 1, 1, rows, cols, w, b, r, out, oh);           \
            else if (s->vectors == 2 && step == 2) output_block(p, s, KH, KW, MODE, ACT, 2, 2, rows, cols, w, b, r, out, oh); \
            else if (s->vectors == 2) output_block(p, s, KH, KW, MODE, ACT, 1, 2, rows, cols, w, b, r, out, oh);           \
            else output_block(p, s, KH, KW, MODE, ACT, 1, 4, rows, cols, w, b, r, out, oh);                                \
            oh += step;                                                                                                    \
        }                                                                                                                  \
    }
/// A plane for each activation form: none, piecewise linear, any other (a switch per vector).
#define PLANE(name, KH, KW, MODE)                                                                                          \
    PLANE_ACT(name##_none, KH, KW, MODE, VIGIL_ACT_NONE)                                                                   \
    PLANE_ACT(name##_linear, KH, KW, MODE, VIGIL_ACT_LINEAR)                                                               \
    PLANE_ACT(name##_other, KH, KW, MODE, -1)                                                                              \
    AVX2 static void name(const vigil_depthwise *p, const padded_shape *s, const float *pad, const int64_t *cols, const float *w, \
                          float b, const float *res, float *y) {                                                           \
        if (p->act.kind == VIGIL_ACT_NONE) name##_none(p, s, pad, cols, w, b, res, y);                                     \
        else if (p->act.kind == VIGIL_ACT_LINEAR) name##_linear(p, s, pad, cols, w, b, res, y);                            \
        else name##_other(p, s, pad, cols, w, b, res, y);                                                                  \
    }
PLANE(plane_3x3, 3, 3, VIGIL_WINDOW_CONV)
PLANE(plane_5x5, 5, 5, VIGIL_WINDOW_CONV)
PLANE(plane_7x7, 7, 7, VIGIL_WINDOW_CONV)
PLANE(plane_any, p->kernel_h, p->kernel_w, VIGIL_WINDOW_CONV)
PLANE_ACT(plane_max, p->kernel_h, p->kernel_w, VIGIL_WINDOW_MAX, VIGIL_ACT_NONE)
PLANE_ACT(plane_average, p->kernel_h, p->kernel_w, VIGIL_WINDOW_AVERAGE, VIGIL_ACT_NONE)
#undef PLANE_ACT
#undef PLANE

AVX2 static void depthwise_avx2(const vigil_depthwise *p, const float *x, const float *weights, const float *bias, const float *residual,
                                float *y, int64_t plane_begin, int64_t plane_end, float *workspace) {
    padded_shape s = shape_of(p);
    int64_t taps_count = p->kernel_h * p->kernel_w, multiplier = p->m / p->c, out_plane = p->out_h * p->out_w;
    float *pad = workspace;
    int64_t cols[VIGIL_WINDOW_MAX_TAPS];
    tap_columns(p, &s, cols);
    int64_t last_input = -1;
    for (int64_t plane = plane_begin; plane < plane_end; plane++) {
        int64_t image = plane / p->m, o = plane - image * p->m, input = image * p->c + o / multiplier;
        if (input != last_input) pad_plane(p, &s, x + input * p->h * p->w, p->mode == VIGIL_WINDOW_MAX ? -__builtin_inff() : 0.0f, pad);
        last_input = input;
        const float *w = weights ? weights + o * taps_count : 0;
        float b = bias ? bias[o] : 0.0f;
        const float *res = residual ? residual + plane * out_plane : 0;
        float *out = y + plane * out_plane;
        if (p->mode == VIGIL_WINDOW_MAX) plane_max(p, &s, pad, cols, w, b, res, out);
        else if (p->mode == VIGIL_WINDOW_AVERAGE) plane_average(p, &s, pad, cols, w, b, res, out);
        else if (p->kernel_h == 3 && p->kernel_w == 3) plane_3x3(p, &s, pad, cols, w, b, res, out);
        else if (p->kernel_h == 5 && p->kernel_w == 5) plane_5x5(p, &s, pad, cols, w, b, res, out);
        else if (p->kernel_h == 7 && p->kernel_w == 7) plane_7x7(p, &s, pad, cols, w, b, res, out);
        else plane_any(p, &s, pad, cols, w, b, res, out);
    }
}

void vigil_depthwise_compute(const vigil_depthwise *p, const float *x, const float *weights, const float *bias, const float *residual,
                             float *y, int64_t plane_begin, int64_t plane_end, float *workspace) {
    if (vigil_depthwise_lanes_takes(p)) {
        vigil_depthwise_lanes(p, x, weights, bias, residual, y, plane_begin, plane_end, workspace);
        return;
    }
    if (vigil_depthwise_avx512_takes(p)) {
        vigil_depthwise_avx512(p, x, weights, bias, residual, y, plane_begin, plane_end, workspace);
        return;
    }
    if (vigil_depthwise_lanes8_takes(p)) {
        vigil_depthwise_lanes8(p, x, weights, bias, residual, y, plane_begin, plane_end, workspace);
        return;
    }
    depthwise_avx2(p, x, weights, bias, residual, y, plane_begin, plane_end, workspace);
}

#else

void vigil_depthwise_compute(const vigil_depthwise *p, const float *x, const float *weights, const float *bias, const float *residual,
                             float *y, int64_t plane_begin, int64_t plane_end, float *workspace) {
    // Never called: callers check vigil_vector_available() first.
    (void)p; (void)x; (void)weights; (void)bias; (void)residual; (void)y; (void)plane_begin; (void)plane_end; (void)workspace;
}

#endif
