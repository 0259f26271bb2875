// Depthwise convolutions with 16 channels in the lanes of each AVX-512 vector, for the windows the row kernel
// (depthwise_avx512.c) computes slowly: planes too narrow to fill its 16-column vectors (a 7-column plane
// uses 7 of 16 lanes, and every plane pays its setup), and kernels other than its unrolled 3x3. Sixteen
// planes at a time are transposed into a zero-padded workspace of pixels, each one vector of the 16 channels'
// values; every tap of every output pixel is then one full-width load and one FMA with that tap's 16 weights,
// whatever the kernel size, stride or dilation; the sums are transposed back into the 16 output planes, with
// the residual and the activation applied as they are stored. The padding is zeros, as in the AVX2 kernel's
// padded copy (a non-finite weight times the padding's 0 gives NaN).
#include "vector_math.h"
#include "vigil_depthwise.h"

#include "depthwise_internal.h"

/// Output pixels of one row computed together (their sums stay in registers across the taps).
#define BLOCK VIGIL_LANES_BLOCK
/// The widest output rows of 3x3 windows taken: wider ones fill the row kernel's vectors, whose 3x3 forms
/// are unrolled (C microbenchmark, 3x3 windows: 1.3-2.1x the row kernel's speed on 7-column outputs,
/// 0.6-0.9x on 14 columns and wider; other windows 1.0-5x faster up to 112-column rows).
#define MAX_3X3_OUT_W 8

/// Whether the window is one this kernel computes: a convolution, other than 3x3 or with narrow output
/// rows, whose padded group of planes is of bounded size.
static int lanes_fit(const vigil_depthwise *p) {
    int is3x3 = p->kernel_h == 3 && p->kernel_w == 3;
    return (!is3x3 || p->out_w <= MAX_3X3_OUT_W) && vigil_lanes_bounded(p, 16);
}

/// Floats of the workspace (0 when the kernel does not take the window, whatever the CPU): 64-byte
/// alignment, the padded input, the output sums (with a block's and a transpose's overrun), the taps' weights.
size_t vigil_depthwise_lanes_workspace_count(const vigil_depthwise *p) {
    return lanes_fit(p) ? vigil_lanes_workspace(p, 16) : 0;
}

#if defined(__x86_64__)

#define AVX512 __attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,avx2,fma")))

int vigil_depthwise_lanes_takes(const vigil_depthwise *p) { return vigil_avx512_enabled() && lanes_fit(p); }

/// Transposes a 16 x 16 block: r[i] lane j becomes r[j] lane i.
AVX512 static inline VIGIL_ALWAYS_INLINE void transpose16(__m512 r[16]) {
    __m512 t[16];
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 16; i += 4) {
        r[i] = _mm512_shuffle_ps(t[i], t[i + 2], 0x44);
        r[i + 1] = _mm512_shuffle_ps(t[i], t[i + 2], 0xEE);
        r[i + 2] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0x44);
        r[i + 3] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
    }
    for (int i = 0; i < 16; i += 8) {
        for (int j = 0; j < 4; j++) {
            t[i + j] = _mm512_shuffle_f32x4(r[i + j], r[i + j + 4], 0x88);
            t[i + j + 4] = _mm512_shuffle_f32x4(r[i + j], r[i + j + 4], 0xDD);
        }
    }
    for (int j = 0; j < 8; j++) {
        r[j] = _mm512_shuffle_f32x4(t[j], t[j + 8], 0x88);
        r[j + 8] = _mm512_shuffle_f32x4(t[j], t[j + 8], 0xDD);
    }
}

/// Any activation but the piecewise-linear ones, called (not inlined) once per 16 outputs.
AVX512 __attribute__((noinline)) static __m512 activate_lanes(__m512 v, const vigil_act *act) { return v16_activate(v, act); }

/// Fills the padding of the group's workspace (the rows and columns no input pixel lands on) with zeros.
AVX512 static void zero_border(const vigil_depthwise *p, const vigil_lanes_shape *s, float *in) {
    const __m512 zero = _mm512_setzero_ps();
    int64_t top = p->pad_top < s->rows ? p->pad_top : s->rows, bottom = p->pad_top + p->h < s->rows ? p->pad_top + p->h : s->rows;
    int64_t left = p->pad_left < s->cols ? p->pad_left : s->cols, right = p->pad_left + p->w < s->cols ? p->pad_left + p->w : s->cols;
    if (bottom < top) bottom = top;
    if (right < left) right = left;
    for (int64_t r = 0; r < s->rows; r++) {
        float *row = in + r * s->cols * 16;
        int inside = r >= top && r < bottom;
        int64_t from = inside ? right : 0;
        for (int64_t c = 0; c < (inside ? left : 0); c++) _mm512_storeu_ps(row + c * 16, zero);
        for (int64_t c = from; c < s->cols; c++) _mm512_storeu_ps(row + c * 16, zero);
    }
}

/// Transposes the group's input planes (`src[lane]`, each h x w) into the workspace: pixel (ih, iw) to
/// padded pixel (ih + pad_top, iw + pad_left), when a window reads it. Rows of 16 columns or more go 16
/// columns at a time, each run of pixels stored contiguously; narrower planes 16 pixels at a time across
/// rows (a row at a time would leave most lanes of each transpose empty).
AVX512 static void gather_input(const vigil_depthwise *p, const vigil_lanes_shape *s, const float *const src[16], float *in) {
    int64_t rows = p->h < s->rows - p->pad_top ? p->h : s->rows - p->pad_top, cols = p->w < s->cols - p->pad_left ? p->w : s->cols - p->pad_left;
    if (rows <= 0 || cols <= 0) return;
    __m512 r[16];
    if (p->w >= 16) {
        for (int64_t ih = 0; ih < rows; ih++) {
            float *dst = in + ((ih + p->pad_top) * s->cols + p->pad_left) * 16;
            for (int64_t iw = 0; iw < cols; iw += 16) {
                int64_t count = cols - iw < 16 ? cols - iw : 16;
                __mmask16 mask = v16_mask(count);
                for (int lane = 0; lane < 16; lane++) r[lane] = _mm512_maskz_loadu_ps(mask, src[lane] + ih * p->w + iw);
                transpose16(r);
                for (int64_t j = 0; j < count; j++) _mm512_storeu_ps(dst + (iw + j) * 16, r[j]);
            }
        }
        return;
    }
    int64_t plane = rows * p->w, iw = 0;
    float *dst = in + (p->pad_top * s->cols + p->pad_left) * 16;
    for (int64_t q = 0; q < plane; q += 16) {
        int64_t count = plane - q < 16 ? plane - q : 16;
        __mmask16 mask = v16_mask(count);
        for (int lane = 0; lane < 16; lane++) r[lane] = _mm512_maskz_loadu_ps(mask, src[lane] + q);
        transpose16(r);
        for (int64_t j = 0; j < count; j++) {
            if (iw < cols) _mm512_storeu_ps(dst + iw * 16, r[j]);
            if (++iw == p->w) {
                iw = 0;
                dst += s->cols * 16;
            }
        }
    }
}

/// The group's weights, tap by tap: wt[tap * 16 + lane] = weights[(o + lane) * taps + tap] for the
/// `lanes` planes from output channel o, 0 for the other lanes.
AVX512 static void gather_weights(const float *weights, int64_t o, int64_t lanes, int64_t taps, float *wt) {
    __m512 r[16];
    for (int64_t t0 = 0; t0 < taps; t0 += 16) {
        __mmask16 mask = v16_mask(taps - t0);
        for (int64_t lane = 0; lane < 16; lane++)
            r[lane] = lane < lanes ? _mm512_maskz_loadu_ps(mask, weights + (o + lane) * taps + t0) : _mm512_setzero_ps();
        transpose16(r);
        for (int64_t t = 0; t < 16 && t0 + t < taps; t++) _mm512_storeu_ps(wt + (t0 + t) * 16, r[t]);
    }
}

/// One row of BLOCK output pixels' sums for a window KW wide at stride 1 and dilation 1 (KW a compile-time
/// constant): each input pixel of a kernel row is loaded once and serves every tap that reads it.
AVX512 static inline VIGIL_ALWAYS_INLINE void block_s1(const int KW, const vigil_depthwise *p, int64_t row_floats, const float *rows,
                                                       const float *wt, __m512 acc[BLOCK]) {
    for (int64_t kh = 0; kh < p->kernel_h; kh++) {
        const float *row = rows + kh * p->dilation_h * row_floats;
        __m512 wv[7], xv[BLOCK + 6];
        for (int kw = 0; kw < KW; kw++) wv[kw] = _mm512_loadu_ps(wt + (kh * KW + kw) * 16);
        for (int i = 0; i < BLOCK + KW - 1; i++) xv[i] = _mm512_loadu_ps(row + i * 16);
        for (int j = 0; j < BLOCK; j++)
            for (int kw = 0; kw < KW; kw++) acc[j] = _mm512_fmadd_ps(xv[j + kw], wv[kw], acc[j]);
    }
}

/// The window sums of every output pixel, 16 channels each, starting from the bias: BLOCK pixels of a row
/// at a time, each tap one load of its input pixel (or, at stride 1 for windows 3, 5 or 7 wide, one
/// load per input pixel and kernel row) and one FMA with the tap's weights.
AVX512 static void window_sums(const vigil_depthwise *p, const vigil_lanes_shape *s, const float *in, const float *wt, __m512 bias, float *out) {
    const int64_t row_floats = s->cols * 16, step = p->stride_w * 16;
    const int unit = p->stride_w == 1 && p->dilation_w == 1;
    const int kw_const = unit && (p->kernel_w == 3 || p->kernel_w == 5 || p->kernel_w == 7) ? (int)p->kernel_w : 0;
    for (int64_t oh = 0; oh < p->out_h; oh++) {
        const float *rows = in + oh * p->stride_h * row_floats;
        for (int64_t ow = 0; ow < p->out_w; ow += BLOCK) {
            __m512 acc[BLOCK];
            for (int j = 0; j < BLOCK; j++) acc[j] = bias;
            if (kw_const == 3) block_s1(3, p, row_floats, rows + ow * 16, wt, acc);
            else if (kw_const == 5) block_s1(5, p, row_floats, rows + ow * 16, wt, acc);
            else if (kw_const == 7) block_s1(7, p, row_floats, rows + ow * 16, wt, acc);
            else {
                for (int64_t kh = 0; kh < p->kernel_h; kh++) {
                    const float *row = rows + kh * p->dilation_h * row_floats + ow * step;
                    const float *w = wt + kh * p->kernel_w * 16;
                    for (int64_t kw = 0; kw < p->kernel_w; kw++) {
                        const __m512 wv = _mm512_loadu_ps(w + kw * 16);
                        const float *tap = row + kw * p->dilation_w * 16;
                        for (int j = 0; j < BLOCK; j++) acc[j] = _mm512_fmadd_ps(_mm512_loadu_ps(tap + j * step), wv, acc[j]);
                    }
                }
            }
            // A row's last block may store past the row: into the next row's pixels, computed after it, or
            // into the buffer's slack.
            float *dst = out + (oh * p->out_w + ow) * 16;
            for (int j = 0; j < BLOCK; j++) _mm512_storeu_ps(dst + j * 16, acc[j]);
        }
    }
}

/// Transposes the sums back into the group's `lanes` output planes (`dst[lane]`), adding the residual
/// planes (`res[lane]`, or NULL) and applying the activation. (A pass over the planes or the sums
/// afterwards, as the row kernel does, was slower here: 0.83-0.93x on 28 x 28 planes.)
AVX512 static void scatter_output(const vigil_depthwise *p, const float *out, int64_t lanes, float *const dst[16],
                                  const float *const res[16]) {
    int64_t plane = p->out_h * p->out_w;
    int kind = p->act.kind;
    for (int64_t q = 0; q < plane; q += 16) {
        __mmask16 mask = v16_mask(plane - q);
        __m512 r[16];
        for (int j = 0; j < 16; j++) r[j] = _mm512_loadu_ps(out + (q + j) * 16);
        transpose16(r);
        for (int64_t lane = 0; lane < lanes; lane++) {
            __m512 a = r[lane];
            if (res[lane]) a = _mm512_add_ps(a, _mm512_maskz_loadu_ps(mask, res[lane] + q));
            if (kind == VIGIL_ACT_LINEAR) {
                a = v16_linear(a, &p->act);
            } else if (kind != VIGIL_ACT_NONE) {
                a = activate_lanes(a, &p->act);
            }
            _mm512_mask_storeu_ps(dst[lane] + q, mask, a);
        }
    }
}

AVX512 void vigil_depthwise_lanes(const vigil_depthwise *p, const float *x, const float *weights, const float *bias, const float *residual,
                                  float *y, int64_t plane_begin, int64_t plane_end, float *workspace) {
    vigil_lanes_shape s = vigil_lanes_shape_of(p);
    int64_t taps = p->kernel_h * p->kernel_w, multiplier = p->m / p->c, in_plane = p->h * p->w, out_plane = p->out_h * p->out_w;
    float *in = (float *)(((uintptr_t)workspace + 63) & ~(uintptr_t)63);
    float *out = in + s.rows * s.cols * 16, *wt = out + (out_plane + 16) * 16;
    zero_border(p, &s, in);
    for (int64_t plane = plane_begin; plane < plane_end;) {
        // Up to 16 planes of one image.
        int64_t image = plane / p->m, o = plane - image * p->m;
        int64_t lanes = p->m - o < 16 ? p->m - o : 16;
        if (plane_end - plane < lanes) lanes = plane_end - plane;
        // Lanes past the group read its last plane and have zero weights; their sums are not stored.
        const float *src[16];
        float *dst[16];
        const float *res[16];
        for (int64_t lane = 0; lane < 16; lane++) {
            int64_t l = lane < lanes ? lane : lanes - 1;
            src[lane] = x + (image * p->c + (o + l) / multiplier) * in_plane;
            dst[lane] = y + (plane + l) * out_plane;
            res[lane] = residual ? residual + (plane + l) * out_plane : 0;
        }
        gather_weights(weights, o, lanes, taps, wt);
        __m512 bv = bias ? _mm512_maskz_loadu_ps(v16_mask(lanes), bias + o) : _mm512_setzero_ps();
        gather_input(p, &s, src, in);
        window_sums(p, &s, in, wt, bv, out);
        scatter_output(p, out, lanes, dst, res);
        plane += lanes;
    }
}

#else

int vigil_depthwise_lanes_takes(const vigil_depthwise *p) {
    (void)p;
    return 0;
}

void vigil_depthwise_lanes(const vigil_depthwise *p, const float *x, const float *weights, const float *bias, const float *residual,
                           float *y, int64_t plane_begin, int64_t plane_end, float *workspace) {
    // Never called: vigil_depthwise_lanes_takes is false.
    (void)p; (void)x; (void)weights; (void)bias; (void)residual; (void)y; (void)plane_begin; (void)plane_end; (void)workspace;
}

#endif
