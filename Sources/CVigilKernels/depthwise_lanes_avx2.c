// Depthwise convolutions with 8 channels in the lanes of each AVX2 vector: the AVX2 form of the
// channels-in-lanes kernel (depthwise_lanes_avx512.c), for the windows the AVX2 row kernel (depthwise.c)
// computes slowly: narrow planes (a 7-column row uses 7 of 8 lanes of its one vector and every plane pays
// its padded copy) and strided windows (whose padded copy splits every row into stride phases). Eight planes
// at a time are transposed into a zero-padded workspace of pixels, each one vector of the 8 channels' values;
// every tap of every output pixel is then one load and one FMA with that tap's 8 weights, whatever the kernel
// size, stride or dilation; the sums are transposed back into the 8 output planes, with the residual and the
// activation applied as they are stored. The padding is zeros, as in the row kernel's padded copy.
#include "vector_math.h"
#include "vigil_depthwise.h"

#include "depthwise_internal.h"

/// Output pixels of one row computed together (8 accumulators; with the tap's weights and the loaded
/// input, 10 of the 16 registers).
#define BLOCK VIGIL_LANES_BLOCK

/// Which windows the kernel takes (`vigil_depthwise_lanes8_set_mode`): 0 none, 1 those where it was
/// measured faster than the row kernel, 2 every convolution it can (tests).
static int lanes8_mode = 1;

void vigil_depthwise_lanes8_set_mode(int mode) { lanes8_mode = mode; }

/// Whether the kernel can compute the window: a convolution whose padded group of planes is of bounded size.
static int lanes8_fit(const vigil_depthwise *p) { return vigil_lanes_bounded(p, 8); }

/// Whether the kernel was measured faster than the row kernel on the window: strided windows and output rows
/// of at most 28 columns. (Zen 3, one thread, per node inside MobileNetV2, MobileNetV3-Large and
/// EfficientNet-B0: 7 x 7 planes 2.1-4x, 14 x 14 1.3-2.6x, 28 x 28 1.0-1.75x, stride 2 1.2-1.9x; stride 1 at
/// 56 x 56 0.72-0.92x and 112 x 112 0.65x, where the row kernel's 32-column steps are full.)
static int lanes8_prefer(const vigil_depthwise *p) { return p->stride_w > 1 || p->out_w <= 28; }

size_t vigil_depthwise_lanes8_workspace_count(const vigil_depthwise *p) {
    return lanes8_fit(p) ? vigil_lanes_workspace(p, 8) : 0;
}

#if defined(__x86_64__)

#define AVX2 __attribute__((target("avx2,fma")))

int vigil_depthwise_lanes8_takes(const vigil_depthwise *p) {
    return lanes8_mode != 0 && vigil_vector_available() && !vigil_avx512_enabled() && lanes8_fit(p) && (lanes8_mode == 2 || lanes8_prefer(p));
}

/// Transposes an 8 x 8 block: r[i] lane j becomes r[j] lane i.
AVX2 static inline VIGIL_ALWAYS_INLINE void transpose8(__m256 r[8]) {
    __m256 t[8], u[8];
    for (int i = 0; i < 8; i += 2) {
        t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 8; i += 4) {
        u[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);
        u[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xEE);
        u[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
        u[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
    }
    for (int i = 0; i < 4; i++) {
        r[i] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x20);
        r[i + 4] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x31);
    }
}

/// Lanes [0, n) of a mask, n clamped to 0...8.
AVX2 static inline VIGIL_ALWAYS_INLINE __m256i mask8(int64_t n) { return v8_mask(n < 0 ? 0 : n > 8 ? 8 : n); }

/// Any activation, called (not inlined) once per 8 outputs.
AVX2 __attribute__((noinline)) static __m256 activate8(__m256 v, const vigil_act *act) { return v8_activate(v, act); }

/// Fills the padding of the group's workspace (the rows and columns no input pixel lands on) with zeros.
AVX2 static void zero_border(const vigil_depthwise *p, const vigil_lanes_shape *s, float *in) {
    const __m256 zero = _mm256_setzero_ps();
    int64_t top = p->pad_top < s->rows ? p->pad_top : s->rows, bottom = p->pad_top + p->h < s->rows ? p->pad_top + p->h : s->rows;
    int64_t left = p->pad_left < s->cols ? p->pad_left : s->cols, right = p->pad_left + p->w < s->cols ? p->pad_left + p->w : s->cols;
    if (bottom < top) bottom = top;
    if (right < left) right = left;
    for (int64_t r = 0; r < s->rows; r++) {
        float *row = in + r * s->cols * 8;
        int inside = r >= top && r < bottom;
        int64_t from = inside ? right : 0;
        for (int64_t c = 0; c < (inside ? left : 0); c++) _mm256_storeu_ps(row + c * 8, zero);
        for (int64_t c = from; c < s->cols; c++) _mm256_storeu_ps(row + c * 8, zero);
    }
}

/// Transposes the group's input planes (`src[lane]`, each h x w) into the workspace: pixel (ih, iw) to
/// padded pixel (ih + pad_top, iw + pad_left), when a window reads it. Rows of 8 columns or more go 8 columns
/// at a time; narrower planes 8 pixels at a time across rows.
AVX2 static void gather_input(const vigil_depthwise *p, const vigil_lanes_shape *s, const float *const src[8], float *in) {
    int64_t rows = p->h < s->rows - p->pad_top ? p->h : s->rows - p->pad_top, cols = p->w < s->cols - p->pad_left ? p->w : s->cols - p->pad_left;
    if (rows <= 0 || cols <= 0) return;
    __m256 r[8];
    if (p->w >= 8) {
        for (int64_t ih = 0; ih < rows; ih++) {
            float *dst = in + ((ih + p->pad_top) * s->cols + p->pad_left) * 8;
            for (int64_t iw = 0; iw < cols; iw += 8) {
                int64_t count = cols - iw < 8 ? cols - iw : 8;
                if (count == 8) {
                    for (int lane = 0; lane < 8; lane++) r[lane] = _mm256_loadu_ps(src[lane] + ih * p->w + iw);
                } else {
                    __m256i mask = mask8(count);
                    for (int lane = 0; lane < 8; lane++) r[lane] = _mm256_maskload_ps(src[lane] + ih * p->w + iw, mask);
                }
                transpose8(r);
                for (int64_t j = 0; j < count; j++) _mm256_storeu_ps(dst + (iw + j) * 8, r[j]);
            }
        }
        return;
    }
    int64_t plane = rows * p->w, iw = 0;
    float *dst = in + (p->pad_top * s->cols + p->pad_left) * 8;
    for (int64_t q = 0; q < plane; q += 8) {
        int64_t count = plane - q < 8 ? plane - q : 8;
        __m256i mask = mask8(count);
        for (int lane = 0; lane < 8; lane++) r[lane] = _mm256_maskload_ps(src[lane] + q, mask);
        transpose8(r);
        for (int64_t j = 0; j < count; j++) {
            if (iw < cols) _mm256_storeu_ps(dst + iw * 8, r[j]);
            if (++iw == p->w) {
                iw = 0;
                dst += s->cols * 8;
            }
        }
    }
}

/// The group's weights, tap by tap: wt[tap * 8 + lane] = weights[(o + lane) * taps + tap] for the `lanes`
/// planes from output channel o, 0 for the other lanes.
static void gather_weights(const float *weights, int64_t o, int64_t lanes, int64_t taps, float *wt) {
    for (int64_t t = 0; t < taps; t++)
        for (int64_t lane = 0; lane < 8; lane++) wt[t * 8 + lane] = lane < lanes ? weights[(o + lane) * taps + t] : 0.0f;
}

/// The window sums of every output pixel, 8 channels each, starting from the bias: BLOCK pixels of a row at a
/// time, each tap one load of its input pixel and one FMA with the tap's weights.
AVX2 static void window_sums(const vigil_depthwise *p, const vigil_lanes_shape *s, const float *in, const float *wt, __m256 bias, float *out) {
    const int64_t row_floats = s->cols * 8, step = p->stride_w * 8;
    for (int64_t oh = 0; oh < p->out_h; oh++) {
        const float *rows = in + oh * p->stride_h * row_floats;
        for (int64_t ow = 0; ow < p->out_w; ow += BLOCK) {
            __m256 acc[BLOCK];
            for (int j = 0; j < BLOCK; j++) acc[j] = bias;
            for (int64_t kh = 0; kh < p->kernel_h; kh++) {
                const float *row = rows + kh * p->dilation_h * row_floats + ow * step;
                const float *w = wt + kh * p->kernel_w * 8;
                for (int64_t kw = 0; kw < p->kernel_w; kw++) {
                    const __m256 wv = _mm256_loadu_ps(w + kw * 8);
                    const float *tap = row + kw * p->dilation_w * 8;
                    for (int j = 0; j < BLOCK; j++) acc[j] = _mm256_fmadd_ps(_mm256_loadu_ps(tap + j * step), wv, acc[j]);
                }
            }
            // A row's last block may store past the row: into the next row's pixels, computed after it, or
            // into the buffer's slack.
            float *dst = out + (oh * p->out_w + ow) * 8;
            for (int j = 0; j < BLOCK; j++) _mm256_storeu_ps(dst + j * 8, acc[j]);
        }
    }
}

/// Transposes the sums back into the group's `lanes` output planes (`dst[lane]`), adding the residual planes
/// (`res[lane]`, or NULL) and applying the activation.
AVX2 static void scatter_output(const vigil_depthwise *p, const float *out, int64_t lanes, float *const dst[8], const float *const res[8]) {
    int64_t plane = p->out_h * p->out_w;
    int kind = p->act.kind;
    for (int64_t q = 0; q < plane; q += 8) {
        int64_t count = plane - q;
        __m256i mask = mask8(count);
        __m256 r[8];
        for (int j = 0; j < 8; j++) r[j] = _mm256_loadu_ps(out + (q + j) * 8);
        transpose8(r);
        for (int64_t lane = 0; lane < lanes; lane++) {
            __m256 a = r[lane];
            if (res[lane]) a = _mm256_add_ps(a, count >= 8 ? _mm256_loadu_ps(res[lane] + q) : _mm256_maskload_ps(res[lane] + q, mask));
            if (kind != VIGIL_ACT_NONE) a = activate8(a, &p->act);
            if (count >= 8) _mm256_storeu_ps(dst[lane] + q, a);
            else _mm256_maskstore_ps(dst[lane] + q, mask, a);
        }
    }
}

AVX2 void vigil_depthwise_lanes8(const vigil_depthwise *p, const float *x, const float *weights, const float *bias, const float *residual,
                                 float *y, int64_t plane_begin, int64_t plane_end, float *workspace) {
    vigil_lanes_shape s = vigil_lanes_shape_of(p);
    int64_t taps = p->kernel_h * p->kernel_w, multiplier = p->m / p->c, in_plane = p->h * p->w, out_plane = p->out_h * p->out_w;
    float *in = (float *)(((uintptr_t)workspace + 31) & ~(uintptr_t)31);
    float *out = in + s.rows * s.cols * 8, *wt = out + (out_plane + 8) * 8;
    zero_border(p, &s, in);
    for (int64_t plane = plane_begin; plane < plane_end;) {
        // Up to 8 planes of one image.
        int64_t image = plane / p->m, o = plane - image * p->m;
        int64_t lanes = p->m - o < 8 ? p->m - o : 8;
        if (plane_end - plane < lanes) lanes = plane_end - plane;
        // Lanes past the group read its last plane and have zero weights; their sums are not stored.
        const float *src[8];
        float *dst[8];
        const float *res[8];
        for (int64_t lane = 0; lane < 8; lane++) {
            int64_t l = lane < lanes ? lane : lanes - 1;
            src[lane] = x + (image * p->c + (o + l) / multiplier) * in_plane;
            dst[lane] = y + (plane + l) * out_plane;
            res[lane] = residual ? residual + (plane + l) * out_plane : 0;
        }
        gather_weights(weights, o, lanes, taps, wt);
        __m256 bv = bias ? _mm256_maskload_ps(bias + o, mask8(lanes)) : _mm256_setzero_ps();
        gather_input(p, &s, src, in);
        window_sums(p, &s, in, wt, bv, out);
        scatter_output(p, out, lanes, dst, res);
        plane += lanes;
    }
}

#else

int vigil_depthwise_lanes8_takes(const vigil_depthwise *p) {
    (void)p;
    return 0;
}

void vigil_depthwise_lanes8(const vigil_depthwise *p, const float *x, const float *weights, const float *bias, const float *residual,
                            float *y, int64_t plane_begin, int64_t plane_end, float *workspace) {
    // Never called: vigil_depthwise_lanes8_takes is false.
    (void)p; (void)x; (void)weights; (void)bias; (void)residual; (void)y; (void)plane_begin; (void)plane_end; (void)workspace;
}

#endif
