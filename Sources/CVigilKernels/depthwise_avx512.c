// The AVX-512 form of the depthwise window kernel (see include/vigil_depthwise.h), 16 output columns per
// vector. At stride 2 each block of 4 output rows first splits its input rows into their even and odd padded
// columns (split_rows, an L1-sized workspace), so that every tap is one plain load. At stride 1 input planes
// are read in place, and padding is never copied: a tap's columns outside the input row
// are masked-off lanes of its load (0 for sums, -inf for maxima), and its rows outside the plane load
// nothing, so the padded value enters the window exactly as in the AVX2 kernel's padded copy (a
// non-finite weight times the padding's 0 still gives NaN). Taken for strides 1 and 2 (the same across
// and down), no dilation, kernels of at most 5 x 5; the other windows stay on the AVX2 kernel.
#include "vector_math.h"
#include "vigil_depthwise.h"

#include "depthwise_internal.h"

#if defined(__x86_64__)

#define AVX512 __attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,avx2,fma")))

/// Output rows computed together (stride 1: each input row is loaded once per column tap for all of
/// them); the last block of a plane computes up to ROWS - 1 rows that are not stored.
#define ROWS 8
/// The largest kernel height and width taken (see vigil_depthwise_avx512_takes).
#define MAX_TAPS 5

// Full unrolling of the tap loops in the 3x3 specializations, whose trip counts are compile-time
// constants (it tripled the speed of 3x3 stride-1 planes). Only there: fully unrolled 5x5 and 7x7
// bodies made this file take over 15 minutes to compile with ASan and fuzzer coverage; the other
// sizes run the same code with loops. Clang reports the loops of those as failed unrolling.
#define VIGIL_PRAGMA(x) _Pragma(#x)
#define UNROLL_FULL VIGIL_PRAGMA(clang loop unroll(full))
#pragma clang diagnostic ignored "-Wpass-failed"

/// The lanes [0, 16) of a load of 16 consecutive columns from column `start` that lie inside [0, w).
static inline __mmask16 inside(int64_t start, int64_t w) {
    int64_t lo = start < 0 ? -start : 0, hi = w - start < 16 ? w - start : 16;
    if (hi <= lo) return 0;
    return (__mmask16)(((1u << hi) - 1u) & ~((1u << lo) - 1u));
}

/// One column tap of a 16-column chunk at stride 1: its first input column and the lanes of its load
/// inside the row.
typedef struct {
    int64_t start;
    __mmask16 lanes;
} tap_span;

/// acc combined with one tap's values x (weight wv for convolutions).
AVX512 static inline VIGIL_ALWAYS_INLINE __m512 accumulate(const int MODE, __m512 acc, __m512 x, __m512 wv) {
    if (MODE == VIGIL_WINDOW_CONV) return _mm512_fmadd_ps(wv, x, acc);
    if (MODE == VIGIL_WINDOW_MAX) return _mm512_max_ps(x, acc);  // the tap when larger; the maximum so far when it is NaN
    return _mm512_add_ps(acc, x);
}

AVX512 void vigil_depthwise_activate(float *y, int64_t n, const vigil_act *act) {
    // One loop per kind, with no branch inside, so that consecutive vectors' long dependency chains
    // overlap (HardSwish, Swish and Sigmoid written out; the other kinds through v16_activate).
    const vigil_act a = *act;
#define ACTIVATE_LOOP(expr)                                                                    \
    for (int64_t i = 0; i < n; i += 16) {                                                      \
        __mmask16 mask = v16_mask(n - i);                                                      \
        __m512 v = _mm512_maskz_loadu_ps(mask, y + i);                                         \
        _mm512_mask_storeu_ps(y + i, mask, expr);                                              \
    }
    switch (a.kind) {
    case VIGIL_ACT_HARDSWISH: {
        const __m512 sixth = _mm512_set1_ps(1.0f / 6.0f), half = _mm512_set1_ps(0.5f), one = _mm512_set1_ps(1.0f);
        ACTIVATE_LOOP(_mm512_mul_ps(v, _mm512_max_ps(_mm512_setzero_ps(), _mm512_min_ps(one, _mm512_fmadd_ps(v, sixth, half)))))
        break;
    }
    case VIGIL_ACT_SWISH: {
        const __m512 alpha = _mm512_set1_ps(a.a);
        ACTIVATE_LOOP(_mm512_mul_ps(v, v16_sigmoid(_mm512_mul_ps(v, alpha))))
        break;
    }
    case VIGIL_ACT_SIGMOID: ACTIVATE_LOOP(v16_sigmoid(v)) break;
    default: ACTIVATE_LOOP(v16_activate(v, &a)) break;
    }
#undef ACTIVATE_LOOP
}

/// The epilogue of one output row's 16 columns from ow (`store` the lanes inside the row): average
/// scaling, residual, activation (ACT: VIGIL_ACT_NONE, VIGIL_ACT_LINEAR, or -1 for any kind, applied to
/// the whole plane afterwards), store.
AVX512 static inline VIGIL_ALWAYS_INLINE void finish16(const vigil_depthwise *p, const int MODE, const int ACT, __m512 a, const float *res,
                                                       float *y, int64_t oh, int64_t ow, __mmask16 store) {
    if (MODE == VIGIL_WINDOW_AVERAGE)
        a = _mm512_mul_ps(a, _mm512_mul_ps(_mm512_set1_ps(p->inv_h[oh]), _mm512_maskz_loadu_ps(store, p->inv_w + ow)));
    if (res) a = _mm512_add_ps(a, _mm512_maskz_loadu_ps(store, res + oh * p->out_w + ow));
    if (ACT == VIGIL_ACT_LINEAR) a = v16_linear(a, &p->act);
    _mm512_mask_storeu_ps(y + oh * p->out_w + ow, store, a);
}

/// R output rows from oh by 16 columns from ow at stride 1: the window over the taps, walking the KH + R - 1
/// input rows once, each row's tap serving every output row whose window holds it, then the epilogue of
/// the rows inside the plane. KH, KW, MODE, ACT and R are compile-time constants in the specialized callers
/// (KH and KW else the runtime values); `wv` holds the KH * KW weights as vectors.
// Long function: a SIMD kernel whose R accumulators stay in registers across the taps.
AVX512 static inline VIGIL_ALWAYS_INLINE void rows_block(const vigil_depthwise *p, int64_t KH, int64_t KW, const int MODE, const int ACT,
                                                         const int R, const float *x, const __m512 *wv, float b,
                                                         const float *res, float *y, int64_t oh, int64_t ow) {
    const __m512 pad = _mm512_set1_ps(MODE == VIGIL_WINDOW_MAX ? -__builtin_inff() : 0.0f);
    const __m512 init = MODE == VIGIL_WINDOW_CONV ? _mm512_set1_ps(b) : pad;
    tap_span taps[MAX_TAPS];
    for (int64_t kw = 0; kw < KW; kw++) {
        int64_t start = ow - p->pad_left + kw;
        taps[kw] = (tap_span){start, inside(start, p->w)};
    }
    __m512 acc[ROWS];
    for (int r = 0; r < R; r++) acc[r] = init;
    UNROLL_FULL
    for (int64_t i = 0; i < KH + R - 1; i++) {
        int64_t ih = oh - p->pad_top + i;
        if ((ih < 0 || ih >= p->h) && MODE != VIGIL_WINDOW_CONV) continue;  // padding: no effect on a maximum or a sum
        const float *row = x + ih * p->w;
        UNROLL_FULL
        for (int64_t kw = 0; kw < KW; kw++) {
            __m512 v = ih >= 0 && ih < p->h ? _mm512_mask_loadu_ps(pad, taps[kw].lanes, row + taps[kw].start) : pad;
            UNROLL_FULL
            for (int r = 0; r < R; r++) {
                int64_t kh = i - r;
                if (kh >= 0 && kh < KH) acc[r] = accumulate(MODE, acc[r], v, wv[kh * KW + kw]);
            }
        }
    }
    __mmask16 store = v16_mask(p->out_w - ow);
    for (int r = 0; r < R; r++)
        if (oh + r < p->out_h) finish16(p, MODE, ACT, acc[r], res, y, oh + r, ow, store);
}

/// One output plane: blocks of ROWS rows, 16 columns at a time; an activation other than the inline ones
/// then runs over the plane (a call from the blocks would spill their accumulators).
#define PLANE512(name, KH, KW, MODE, ACT)                                                                               \
    AVX512 static void name(const vigil_depthwise *p, const float *x, const float *w, float b, const float *res, float *y) { \
        __m512 wv[MAX_TAPS * MAX_TAPS];                                                           \
        if (MODE == VIGIL_WINDOW_CONV)                                                                                     \
            for (int64_t i = 0; i < (KH) * (KW); i++) wv[i] = _mm512_set1_ps(w[i]);                                         \
        for (int64_t oh = 0; oh < p->out_h; oh += ROWS) {                                                                  \
            for (int64_t ow = 0; ow < p->out_w; ow += 16) {                                                                \
                rows_block(p, KH, KW, MODE, ACT, ROWS, x, wv, b, res, y, oh, ow);                                        \
            }                                                                                                              \
        }                                                                                                                  \
        if (ACT == -1) vigil_depthwise_activate(y, p->out_h * p->out_w, &p->act);                                          \
    }
/// The planes of one kernel size and stride for each window and activation form.
#define PLANES512(name, KH, KW)                                                                                            \
    PLANE512(name##_none, KH, KW, VIGIL_WINDOW_CONV, VIGIL_ACT_NONE)                                                       \
    PLANE512(name##_linear, KH, KW, VIGIL_WINDOW_CONV, VIGIL_ACT_LINEAR)                                                   \
    PLANE512(name##_other, KH, KW, VIGIL_WINDOW_CONV, -1)                                                                  \
    PLANE512(name##_max, KH, KW, VIGIL_WINDOW_MAX, VIGIL_ACT_NONE)                                                         \
    PLANE512(name##_average, KH, KW, VIGIL_WINDOW_AVERAGE, VIGIL_ACT_NONE)                                                 \
    AVX512 static void name(const vigil_depthwise *p, const float *x, const float *w, float b, const float *res, float *y) { \
        if (p->mode == VIGIL_WINDOW_MAX) name##_max(p, x, w, b, res, y);                                                   \
        else if (p->mode == VIGIL_WINDOW_AVERAGE) name##_average(p, x, w, b, res, y);                                      \
        else if (p->act.kind == VIGIL_ACT_NONE) name##_none(p, x, w, b, res, y);                                           \
        else if (p->act.kind == VIGIL_ACT_LINEAR) name##_linear(p, x, w, b, res, y);                                       \
        else name##_other(p, x, w, b, res, y);                                                                             \
    }
PLANES512(plane512_any, p->kernel_h, p->kernel_w)
// 3x3 convolutions (MobileNet, EfficientNet, ShuffleNet) and max pools, unrolled.
PLANE512(plane512_3x3_none, 3, 3, VIGIL_WINDOW_CONV, VIGIL_ACT_NONE)
PLANE512(plane512_3x3_linear, 3, 3, VIGIL_WINDOW_CONV, VIGIL_ACT_LINEAR)
PLANE512(plane512_3x3_other, 3, 3, VIGIL_WINDOW_CONV, -1)
PLANE512(plane512_3x3_max, 3, 3, VIGIL_WINDOW_MAX, VIGIL_ACT_NONE)
#undef PLANES512
#undef PLANE512

/// Splits `n` padded input rows from padded row r0 (input row r0 - pad_top; `pad` outside the input) into
/// `dst`: each as its even padded columns, then its odd ones, `phase_w` floats each (padded column c at
/// phase c % 2, index c / 2; input column c - pad_left). 32 columns per step: two loads (masked by
/// `masks`, two per step, where the step reaches past the input row) and two permutes.
AVX512 static inline VIGIL_ALWAYS_INLINE void split_rows(const vigil_depthwise *p, const float *x, __m512 pad, int64_t r0, int64_t n,
                                                         const __mmask16 *masks, int64_t phase_w, float *dst) {
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    for (int64_t r = 0; r < n; r++) {
        float *e = dst + r * 2 * phase_w, *o = e + phase_w;
        int64_t ih = r0 + r - p->pad_top;
        if (ih < 0 || ih >= p->h) {
            for (int64_t i = 0; i < phase_w; i += 16) {
                _mm512_storeu_ps(e + i, pad);
                _mm512_storeu_ps(o + i, pad);
            }
            continue;
        }
        const float *src = x + ih * p->w - p->pad_left;
        for (int64_t i = 0, c = 0; i < phase_w; i += 16, c += 2) {
            __m512 lo = _mm512_mask_loadu_ps(pad, masks[c], src + 2 * i), hi = _mm512_mask_loadu_ps(pad, masks[c + 1], src + 2 * i + 16);
            _mm512_storeu_ps(e + i, _mm512_permutex2var_ps(lo, even, hi));
            _mm512_storeu_ps(o + i, _mm512_permutex2var_ps(lo, odd, hi));
        }
    }
}

/// The 16 floats from `at + shift` (`at` 64-byte aligned; shift 0, 1 or 2, a constant in the unrolled
/// 3 x 3 form): for a shift, the aligned vectors at `at` and `at + 16` joined by valignd, where one load
/// from `at + shift` would cross a cache line. (Every third tap of a 3 x 3 window; C microbenchmark, one
/// thread: SqueezeNet's first max pool 0.109 -> 0.104 ms, MobileNetV2's 96- and 144-channel stride-2
/// depthwise layers 0.170 -> 0.161 and 0.080 -> 0.067 ms, the 128-channel pool 0.066 -> 0.058 ms.)
AVX512 static inline VIGIL_ALWAYS_INLINE __m512 shifted_load(const float *at, int64_t shift) {
    if (shift == 0) return _mm512_load_ps(at);
    __m512i lo = _mm512_castps_si512(_mm512_load_ps(at)), hi = _mm512_castps_si512(_mm512_load_ps(at + 16));
    if (shift == 1) return _mm512_castsi512_ps(_mm512_alignr_epi32(hi, lo, 1));
    return _mm512_castsi512_ps(_mm512_alignr_epi32(hi, lo, 2));
}

/// A stride-2 plane: blocks of VIGIL_PHASE_ROWS output rows, whose input rows are split into `ws` (the
/// rows shared with the block before moved up, the others split from the input), by 16 columns, one chain
/// of taps per row (tap (kh, kw) of output column ow is split row 2 * r + kh, phase kw % 2, index ow +
/// kw / 2: one plain load), in the order of the in-place kernel (kh, then kw), so the sums are the same;
/// then the epilogue of the rows inside the plane. KH, KW, MODE and ACT are compile-time constants in the
/// specialized forms.
#define PHASE512(name, KH, KW, MODE, ACT)                                                                                  \
    AVX512 static void name(const vigil_depthwise *p, const float *x, const __mmask16 *masks, float *ws, const float *w, float b, \
                            const float *res, float *y) {                                                                  \
        __m512 wv[MAX_TAPS * MAX_TAPS];                                                                                    \
        if (MODE == VIGIL_WINDOW_CONV)                                                                                     \
            for (int64_t i = 0; i < (KH) * (KW); i++) wv[i] = _mm512_set1_ps(w[i]);                                        \
        const __m512 pad = _mm512_set1_ps(MODE == VIGIL_WINDOW_MAX ? -__builtin_inff() : 0.0f);                            \
        const __m512 init = MODE == VIGIL_WINDOW_CONV ? _mm512_set1_ps(b) : pad;                                           \
        const int64_t phase_w = vigil_phase_width(p), row = 2 * phase_w, rows = vigil_phase_rows(p);                       \
        const int64_t carry = (KH) > 2 ? (KH) - 2 : 0;                                                                     \
        for (int64_t oh = 0; oh < p->out_h; oh += VIGIL_PHASE_ROWS) {                                                      \
            int64_t fresh = 0;                                                                                             \
            if (oh > 0) {                                                                                                  \
                for (int64_t i = 0; i < carry * row; i += 16)                                                              \
                    _mm512_storeu_ps(ws + i, _mm512_loadu_ps(ws + 2 * VIGIL_PHASE_ROWS * row + i));                        \
                fresh = carry;                                                                                             \
            }                                                                                                              \
            split_rows(p, x, pad, 2 * oh + fresh, rows - fresh, masks, phase_w, ws + fresh * row);                         \
            for (int64_t ow = 0; ow < p->out_w; ow += 16) {                                                                \
                __m512 acc[VIGIL_PHASE_ROWS];                                                                              \
                for (int r = 0; r < VIGIL_PHASE_ROWS; r++) acc[r] = init;                                                  \
                const float *top = ws + ow;                                                                                \
                UNROLL_FULL                                                                                                \
                for (int64_t kh = 0; kh < (KH); kh++) {                                                                    \
                    UNROLL_FULL                                                                                            \
                    for (int64_t kw = 0; kw < (KW); kw++) {                                                                \
                        const float *tap = top + kh * row + (kw & 1) * phase_w;                                            \
                        UNROLL_FULL                                                                                        \
                        for (int r = 0; r < VIGIL_PHASE_ROWS; r++)                                                         \
                            acc[r] = accumulate(MODE, acc[r], shifted_load(tap + 2 * r * row, (kw) >> 1), wv[kh * (KW) + kw]); \
                    }                                                                                                      \
                }                                                                                                          \
                __mmask16 store = v16_mask(p->out_w - ow);                                                                 \
                for (int r = 0; r < VIGIL_PHASE_ROWS; r++)                                                                 \
                    if (oh + r < p->out_h) finish16(p, MODE, ACT, acc[r], res, y, oh + r, ow, store);                      \
            }                                                                                                              \
        }                                                                                                                  \
        if (ACT == -1) vigil_depthwise_activate(y, p->out_h * p->out_w, &p->act);                                          \
    }
/// The stride-2 planes of one kernel size for each window and activation form.
#define PHASES512(name, KH, KW)                                                                                            \
    PHASE512(name##_none, KH, KW, VIGIL_WINDOW_CONV, VIGIL_ACT_NONE)                                                       \
    PHASE512(name##_linear, KH, KW, VIGIL_WINDOW_CONV, VIGIL_ACT_LINEAR)                                                   \
    PHASE512(name##_other, KH, KW, VIGIL_WINDOW_CONV, -1)                                                                  \
    PHASE512(name##_max, KH, KW, VIGIL_WINDOW_MAX, VIGIL_ACT_NONE)                                                         \
    PHASE512(name##_average, KH, KW, VIGIL_WINDOW_AVERAGE, VIGIL_ACT_NONE)                                                 \
    AVX512 static void name(const vigil_depthwise *p, const float *x, const __mmask16 *masks, float *ws, const float *w, float b, \
                            const float *res, float *y) {                                                                  \
        if (p->mode == VIGIL_WINDOW_MAX) name##_max(p, x, masks, ws, w, b, res, y);                                        \
        else if (p->mode == VIGIL_WINDOW_AVERAGE) name##_average(p, x, masks, ws, w, b, res, y);                           \
        else if (p->act.kind == VIGIL_ACT_NONE) name##_none(p, x, masks, ws, w, b, res, y);                                \
        else if (p->act.kind == VIGIL_ACT_LINEAR) name##_linear(p, x, masks, ws, w, b, res, y);                            \
        else name##_other(p, x, masks, ws, w, b, res, y);                                                                  \
    }
// 3x3 (MobileNet's and ShuffleNet's strided depthwise layers; ResNet's, DenseNet's and SqueezeNet's max
// pools) unrolled; any other size up to 5 x 5 with loops.
PHASES512(phase512_3x3, 3, 3)
PHASES512(phase512_any, p->kernel_h, p->kernel_w)
#undef PHASES512
#undef PHASE512

int vigil_depthwise_avx512_takes(const vigil_depthwise *p) {
    // Kernels up to 5 x 5: the looped form is as fast as the AVX2 kernel at 5 x 5 and slower beyond
    // (7 x 7 stride 1 on 56 x 56 planes: 0.99 against 0.63 ms in a C microbenchmark).
    return vigil_avx512_enabled() && (p->stride_h == 1 || p->stride_h == 2) && p->stride_w == p->stride_h && p->dilation_h == 1 &&
           p->dilation_w == 1 && p->kernel_h <= MAX_TAPS && p->kernel_w <= MAX_TAPS;
}

AVX512 void vigil_depthwise_avx512(const vigil_depthwise *p, const float *x, const float *weights, const float *bias, const float *residual,
                                   float *y, int64_t plane_begin, int64_t plane_end, float *workspace) {
    int64_t taps = p->kernel_h * p->kernel_w, multiplier = p->m / p->c, in_plane = p->h * p->w, out_plane = p->out_h * p->out_w;
    int s1 = p->stride_h == 1, kind = p->act.kind, is3x3 = p->kernel_h == 3 && p->kernel_w == 3;
    // Stride 1 reads the input in place.
    typedef void (*plane_fn)(const vigil_depthwise *, const float *, const float *, float, const float *, float *);
    plane_fn plane_of = plane512_any;
    if (is3x3 && p->mode == VIGIL_WINDOW_CONV)
        plane_of = kind == VIGIL_ACT_NONE ? plane512_3x3_none : kind == VIGIL_ACT_LINEAR ? plane512_3x3_linear : plane512_3x3_other;
    if (is3x3 && p->mode == VIGIL_WINDOW_MAX) plane_of = plane512_3x3_max;
    // Stride 2 on split rows (each block's input rows with their even and odd columns apart, split_rows):
    // every tap is then one plain load, where reading in place took two masked loads and a permute per tap
    // and output row (in the model, one thread: MobileNetV2's 96 channels 112 -> 56 0.315 -> 0.244 ms;
    // SqueezeNet's first max pool alone 0.26 -> 0.14 ms). The workspace: the split rows (from a 64-byte
    // boundary), 16 floats of slack, then the lanes of each split step's two loads that lie inside an
    // input row (the same for every row).
    typedef void (*phase_fn)(const vigil_depthwise *, const float *, const __mmask16 *, float *, const float *, float, const float *, float *);
    phase_fn phase_of = is3x3 ? phase512_3x3 : phase512_any;
    float *ws = s1 ? 0 : workspace + ((16 - ((uintptr_t)workspace / sizeof(float)) % 16) % 16);
    __mmask16 *masks = s1 ? 0 : (__mmask16 *)(ws + vigil_phase_rows(p) * 2 * vigil_phase_width(p) + 16);
    for (int64_t i = 0, c = 0; !s1 && i < vigil_phase_width(p); i += 16, c += 2) {
        masks[c] = inside(2 * i - p->pad_left, p->w);
        masks[c + 1] = inside(2 * i + 16 - p->pad_left, p->w);
    }
    for (int64_t plane = plane_begin; plane < plane_end; plane++) {
        int64_t image = plane / p->m, o = plane - image * p->m;
        const float *in = x + (image * p->c + o / multiplier) * in_plane;
        const float *w = weights ? weights + o * taps : 0;
        float b = bias ? bias[o] : 0.0f;
        const float *res = residual ? residual + plane * out_plane : 0;
        float *out = y + plane * out_plane;
        // The next plane's input into L2 while this one is computed: at batch 32 the planes come from
        // memory, and the kernel's 17-row window outran the hardware prefetcher (MobileNetV2's 144
        // channels at 56 x 56: 17.8 -> 12.1 ms; at batch 1 they are in the cache and nothing changes).
        if (plane + 1 < plane_end) {
            int64_t next = plane + 1, next_image = next / p->m, next_o = next - next_image * p->m;
            const char *from = (const char *)(x + (next_image * p->c + next_o / multiplier) * in_plane);
            for (int64_t byte = 0; byte < in_plane * (int64_t)sizeof(float); byte += 64) _mm_prefetch(from + byte, _MM_HINT_T1);
        }
        if (s1) plane_of(p, in, w, b, res, out);
        else phase_of(p, in, masks, ws, w, b, res, out);
    }
}

#else

int vigil_depthwise_avx512_takes(const vigil_depthwise *p) {
    (void)p;
    return 0;
}

void vigil_depthwise_avx512(const vigil_depthwise *p, const float *x, const float *weights, const float *bias, const float *residual,
                            float *y, int64_t plane_begin, int64_t plane_end, float *workspace) {
    // Never called: vigil_depthwise_avx512_takes is false.
    (void)p; (void)x; (void)weights; (void)bias; (void)residual; (void)y; (void)plane_begin; (void)plane_end; (void)workspace;
}

#endif
