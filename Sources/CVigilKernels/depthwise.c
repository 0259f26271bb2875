// Depthwise convolution (see include/vigil_depthwise.h).
#include "vector_math.h"
#include "vigil_depthwise.h"

#include <string.h>

/// Output columns computed per step (two vectors); the padded rows have this much slack for the last step.
#define STEP 16

/// Padded rows and columns one plane needs, and the width of one stride phase of a row.
typedef struct {
    int64_t rows, cols, phase_w, row_stride;
} padded_shape;

static padded_shape shape_of(const vigil_depthwise *p) {
    padded_shape s;
    s.rows = (p->out_h - 1) * p->stride_h + (p->kernel_h - 1) * p->dilation_h + 1;
    s.cols = (p->out_w - 1) * p->stride_w + (p->kernel_w - 1) * p->dilation_w + 1;
    s.phase_w = (s.cols + p->stride_w - 1) / p->stride_w + STEP;
    s.row_stride = s.phase_w * p->stride_w;
    return s;
}

size_t vigil_depthwise_workspace_count(const vigil_depthwise *p) {
    padded_shape s = shape_of(p);
    return (size_t)(s.rows * s.row_stride + 2 * STEP + 2 * p->kernel_h * p->kernel_w);
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
        for (; c < hi; c++) row[(c % sw) * s->phase_w + c / sw] = src[c - p->pad_left];
    }
}

/// One output row: acc = the window over the taps of padded[row of tap][column of tap + ow] (weighted sum,
/// maximum or average), then the epilogue. KH, KW and MODE are compile-time constants in the specialized
/// callers (3 x 3 and 5 x 5 convolutions), else the runtime values.
AVX2 static inline __attribute__((always_inline)) void output_row(
    const vigil_depthwise *p, const padded_shape *s, int64_t KH, int64_t KW, const int MODE, const float *pad, const int64_t *tap_offset,
    const float *w, float b, const float *res, float *y, int64_t oh) {
    const float *base = pad + oh * p->stride_h * s->row_stride;
    const __m256 init = MODE == VIGIL_WINDOW_MAX ? _mm256_set1_ps(-__builtin_inff()) : _mm256_set1_ps(b);
    const int act = p->act.kind != VIGIL_ACT_NONE;
    for (int64_t ow = 0; ow < p->out_w; ow += STEP) {
        __m256 a0 = init, a1 = init;
        for (int64_t kh = 0; kh < KH; kh++) {
            for (int64_t kw = 0; kw < KW; kw++) {
                const float *src = base + tap_offset[kh * KW + kw] + ow;
                if (MODE == VIGIL_WINDOW_CONV) {
                    __m256 wv = _mm256_broadcast_ss(w + kh * KW + kw);
                    a0 = _mm256_fmadd_ps(wv, _mm256_loadu_ps(src), a0);
                    a1 = _mm256_fmadd_ps(wv, _mm256_loadu_ps(src + 8), a1);
                } else if (MODE == VIGIL_WINDOW_MAX) {
                    a0 = _mm256_max_ps(_mm256_loadu_ps(src), a0);  // the tap when it is larger; the maximum so far when it is NaN
                    a1 = _mm256_max_ps(_mm256_loadu_ps(src + 8), a1);
                } else {
                    a0 = _mm256_add_ps(a0, _mm256_loadu_ps(src));
                    a1 = _mm256_add_ps(a1, _mm256_loadu_ps(src + 8));
                }
            }
        }
        int64_t n = p->out_w - ow;
        __m256i m0 = v8_mask(n), m1 = v8_mask(n - 8);
        if (MODE == VIGIL_WINDOW_AVERAGE) {
            __m256 row_scale = _mm256_set1_ps(p->inv_h[oh]);
            a0 = _mm256_mul_ps(a0, _mm256_mul_ps(row_scale, _mm256_maskload_ps(p->inv_w + ow, m0)));
            a1 = _mm256_mul_ps(a1, _mm256_mul_ps(row_scale, _mm256_maskload_ps(p->inv_w + ow + 8, m1)));
        }
        if (n >= STEP) {
            if (res) {
                a0 = _mm256_add_ps(a0, _mm256_loadu_ps(res + ow));
                a1 = _mm256_add_ps(a1, _mm256_loadu_ps(res + ow + 8));
            }
            if (act) {
                a0 = v8_activate(a0, &p->act);
                a1 = v8_activate(a1, &p->act);
            }
            _mm256_storeu_ps(y + ow, a0);
            _mm256_storeu_ps(y + ow + 8, a1);
        } else {
            if (res) {
                a0 = _mm256_add_ps(a0, _mm256_maskload_ps(res + ow, m0));
                a1 = _mm256_add_ps(a1, _mm256_maskload_ps(res + ow + 8, m1));
            }
            if (act) {
                a0 = v8_activate(a0, &p->act);
                a1 = v8_activate(a1, &p->act);
            }
            _mm256_maskstore_ps(y + ow, m0, a0);
            _mm256_maskstore_ps(y + ow + 8, m1, a1);
        }
    }
}

#define PLANE(name, KH, KW, MODE)                                                                                          \
    AVX2 static void name(const vigil_depthwise *p, const padded_shape *s, const float *pad, const int64_t *taps, const float *w, \
                          float b, const float *res, float *y) {                                                               \
        for (int64_t oh = 0; oh < p->out_h; oh++)                                                                              \
            output_row(p, s, KH, KW, MODE, pad, taps, w, b, res ? res + oh * p->out_w : 0, y + oh * p->out_w, oh);            \
    }
PLANE(plane_3x3, 3, 3, VIGIL_WINDOW_CONV)
PLANE(plane_5x5, 5, 5, VIGIL_WINDOW_CONV)
PLANE(plane_any, p->kernel_h, p->kernel_w, VIGIL_WINDOW_CONV)
PLANE(plane_max, p->kernel_h, p->kernel_w, VIGIL_WINDOW_MAX)
PLANE(plane_average, p->kernel_h, p->kernel_w, VIGIL_WINDOW_AVERAGE)
#undef PLANE

AVX2 static void depthwise_avx2(const vigil_depthwise *p, const float *x, const float *weights, const float *bias, const float *residual,
                                float *y, int64_t plane_begin, int64_t plane_end, float *workspace) {
    padded_shape s = shape_of(p);
    int64_t taps_count = p->kernel_h * p->kernel_w, multiplier = p->m / p->c, out_plane = p->out_h * p->out_w;
    int64_t *taps = (int64_t *)(workspace + s.rows * s.row_stride + 2 * STEP);
    float *pad = workspace;
    // Where tap (kh, kw) of output column 0 is, relative to the output row's first padded row.
    int64_t tap_offsets[64];
    int64_t *offsets = taps_count <= 64 ? tap_offsets : taps;
    for (int64_t kh = 0; kh < p->kernel_h; kh++)
        for (int64_t kw = 0; kw < p->kernel_w; kw++) {
            int64_t col = kw * p->dilation_w;
            offsets[kh * p->kernel_w + kw] = kh * p->dilation_h * s.row_stride + (col % p->stride_w) * s.phase_w + col / p->stride_w;
        }
    int64_t last_input = -1;
    for (int64_t plane = plane_begin; plane < plane_end; plane++) {
        int64_t image = plane / p->m, o = plane - image * p->m, input = image * p->c + o / multiplier;
        if (input != last_input) pad_plane(p, &s, x + input * p->h * p->w, p->mode == VIGIL_WINDOW_MAX ? -__builtin_inff() : 0.0f, pad);
        last_input = input;
        const float *w = weights ? weights + o * taps_count : 0;
        float b = bias ? bias[o] : 0.0f;
        const float *res = residual ? residual + plane * out_plane : 0;
        float *out = y + plane * out_plane;
        if (p->mode == VIGIL_WINDOW_MAX) plane_max(p, &s, pad, offsets, w, b, res, out);
        else if (p->mode == VIGIL_WINDOW_AVERAGE) plane_average(p, &s, pad, offsets, w, b, res, out);
        else if (p->kernel_h == 3 && p->kernel_w == 3) plane_3x3(p, &s, pad, offsets, w, b, res, out);
        else if (p->kernel_h == 5 && p->kernel_w == 5) plane_5x5(p, &s, pad, offsets, w, b, res, out);
        else plane_any(p, &s, pad, offsets, w, b, res, out);
    }
}

void vigil_depthwise_compute(const vigil_depthwise *p, const float *x, const float *weights, const float *bias, const float *residual,
                             float *y, int64_t plane_begin, int64_t plane_end, float *workspace) {
    depthwise_avx2(p, x, weights, bias, residual, y, plane_begin, plane_end, workspace);
}

#else

void vigil_depthwise_compute(const vigil_depthwise *p, const float *x, const float *weights, const float *bias, const float *residual,
                             float *y, int64_t plane_begin, int64_t plane_end, float *workspace) {
    // Never called: callers check vigil_vector_available() first.
    (void)p; (void)x; (void)weights; (void)bias; (void)residual; (void)y; (void)plane_begin; (void)plane_end; (void)workspace;
}

#endif
