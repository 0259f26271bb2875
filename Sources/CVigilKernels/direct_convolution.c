// Direct 3x3 convolution, stride 1 or 2 (see include/vigil_direct_convolution.h). The packed GEMM
// gathers a 3x3 convolution's columns (im2col) before multiplying; with few output channels (DenseNet's
// 32) or few input channels (the 3-channel stems of MobileNet, EfficientNet, RegNet, ShuffleNet and
// SqueezeNet: 27 products per column) the gathering costs as much as the products. Here the taps are
// read straight from the padded planes.
#include "vector_math.h"
#include "vigil_direct_convolution.h"

#if defined(__x86_64__)

#define AVX512 __attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,avx2,fma")))
#define VIGIL_PRAGMA(x) _Pragma(#x)
#define UNROLL_FULL VIGIL_PRAGMA(clang loop unroll(full))

/// Any activation, called (not inlined) from the unrolled stores: its exp-based forms are large.
AVX512 __attribute__((noinline)) static __m512 activate_any(__m512 v, const vigil_act *act) { return v16_activate(v, act); }

/// The activation of one stored vector: the piecewise-linear forms (Relu, Clip, LeakyRelu) and HardSwish
/// inline, the others through `activate_any` (a call per vector cost as much as the 27 taps of a
/// 3-channel stem's run).
AVX512 static inline VIGIL_ALWAYS_INLINE __m512 activate(__m512 a, const vigil_act *act) {
    // The same operations as v16_activate's, so the same bits.
    if (act->kind == VIGIL_ACT_HARDSWISH) {
        __m512 g = _mm512_fmadd_ps(a, _mm512_set1_ps(1.0f / 6.0f), _mm512_set1_ps(0.5f));
        return _mm512_mul_ps(a, _mm512_max_ps(_mm512_setzero_ps(), _mm512_min_ps(_mm512_set1_ps(1.0f), g)));
    }
    if (act->kind == VIGIL_ACT_LINEAR) return v16_linear(a, act);
    return act->kind == VIGIL_ACT_NONE ? a : activate_any(a, act);
}

/// One run: output channels [o0, o0 + O) of row `row`, V vectors of columns from `col` (`masks` the lanes
/// inside the row; for stride S = 2, `in_masks` the input lanes of each vector's two loads), summed over
/// input channels [c0, c1) and added to the sum so far in `y` unless c0 is 0; the epilogue when c1 is the last channel, else the sum so far is stored. O and V are compile-time
/// constants in the callers below.
// Long function: the O x V accumulators stay in registers across every input channel and tap.
AVX512 static inline VIGIL_ALWAYS_INLINE void run(const vigil_direct_convolution *p, const int O, const int V, const int S,
                                                  const float *x, const float *w, const float *bias, const float *res, float *y,
                                                  int64_t o0, int64_t row, int64_t col, const __mmask16 *masks, const __mmask16 *in_masks,
                                                  int64_t c0, int64_t c1) {
    __m512 acc[16][3];
    UNROLL_FULL
    for (int o = 0; o < O; o++) {
        UNROLL_FULL
        for (int v = 0; v < V; v++) acc[o][v] = _mm512_setzero_ps();
    }
    const int64_t plane = p->padded_h * p->padded_w, pw = p->padded_w;
    const float *xr = x + c0 * plane + S * row * pw + S * col;
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    w += c0 * 9 * O;
    for (int64_t ci = c0; ci < c1; ci++, xr += plane, w += 9 * O) {
        UNROLL_FULL
        for (int t = 0; t < 9; t++) {
            const float *xt = xr + (t / 3) * pw + t % 3;
            __m512 in[3];
            UNROLL_FULL
            for (int v = 0; v < V; v++) {
                if (S == 1) {
                    in[v] = _mm512_maskz_loadu_ps(masks[v], xt + 16 * v);
                } else {
                    __m512 lo = _mm512_maskz_loadu_ps(in_masks[2 * v], xt + 32 * v), hi = _mm512_maskz_loadu_ps(in_masks[2 * v + 1], xt + 32 * v + 16);
                    in[v] = _mm512_permutex2var_ps(lo, even, hi);
                }
            }
            UNROLL_FULL
            for (int o = 0; o < O; o++) {
                __m512 wv = _mm512_set1_ps(w[t * O + o]);
                UNROLL_FULL
                for (int v = 0; v < V; v++) acc[o][v] = _mm512_fmadd_ps(wv, in[v], acc[o][v]);
            }
        }
    }
    const int64_t size = p->out_h * p->out_w;
    for (int o = 0; o < O && o0 + o < p->m; o++) {
        const int64_t at = (o0 + o) * size + row * p->out_w + col;
        UNROLL_FULL
        for (int v = 0; v < V; v++) {
            __m512 a = acc[o][v];
            if (c0 > 0) a = _mm512_add_ps(_mm512_maskz_loadu_ps(masks[v], y + at + 16 * v), a);
            if (c1 < p->c) {
                _mm512_mask_storeu_ps(y + at + 16 * v, masks[v], a);
                continue;
            }
            if (bias) a = _mm512_add_ps(a, _mm512_set1_ps(bias[o0 + o]));
            if (res) a = _mm512_add_ps(a, _mm512_maskz_loadu_ps(masks[v], res + at + 16 * v));
            a = activate(a, &p->act);
            _mm512_mask_storeu_ps(y + at + 16 * v, masks[v], a);
        }
    }
}

#define RUN(O, V, S)                                                                                                       \
    AVX512 static void run_##O##_##V##_##S(const vigil_direct_convolution *p, const float *x, const float *w, const float *bias, \
                                           const float *res, float *y, int64_t o0, int64_t row, int64_t col, const __mmask16 *m,   \
                                           const __mmask16 *im, int64_t c0, int64_t c1) {                                          \
        run(p, O, V, S, x, w, bias, res, y, o0, row, col, m, im, c0, c1);                                                      \
    }
RUN(8, 1, 1)
RUN(8, 2, 1)
RUN(8, 3, 1)
RUN(16, 1, 1)
RUN(8, 1, 2)
RUN(8, 2, 2)
RUN(8, 3, 2)
RUN(16, 1, 2)

int64_t vigil_direct_convolution_block(const vigil_direct_convolution *p) { return p->out_w <= 16 ? 16 : 8; }

size_t vigil_direct_convolution_packed_count(const vigil_direct_convolution *p) {
    int64_t b = vigil_direct_convolution_block(p);
    return (size_t)((p->m + b - 1) / b * b * p->c * 9);
}

void vigil_direct_convolution_pack(const vigil_direct_convolution *p, const float *weights, float *packed) {
    int64_t b = vigil_direct_convolution_block(p), blocks = (p->m + b - 1) / b;
    for (int64_t k = 0; k < blocks; k++)
        for (int64_t ci = 0; ci < p->c; ci++)
            for (int t = 0; t < 9; t++)
                for (int64_t o = 0; o < b; o++) {
                    int64_t oc = k * b + o;
                    packed[((k * p->c + ci) * 9 + t) * b + o] = oc < p->m ? weights[(oc * p->c + ci) * 9 + t] : 0.0f;
                }
}

void vigil_direct_convolution_compute(const vigil_direct_convolution *p, const float *x, const float *packed, const float *bias,
                                      const float *residual, float *y, int64_t block_begin, int64_t block_end, int64_t row_begin,
                                      int64_t row_end) {
    int64_t b = vigil_direct_convolution_block(p);
    // The sum over channels in chunks of at most 56 (504 products), as even as possible, each chunk's sum
    // added to the total in the output: the GEMM's blocks of at most 512 along K, and so its rounding.
    int64_t chunks = (p->c * 9 + 511) / 512, chunk = (p->c + chunks - 1) / chunks;
    for (int64_t c0 = 0; c0 < p->c; c0 += chunk) {
        int64_t c1 = c0 + chunk < p->c ? c0 + chunk : p->c;
        for (int64_t k = block_begin; k < block_end; k++) {
            const float *w = packed + k * p->c * 9 * b;
            for (int64_t row = row_begin; row < row_end; row++) {
                // Runs of 3 vectors, or 2 where 3 would leave a lone one (56 columns: 32 + 24, not 48 + 8).
                for (int64_t col = 0, vectors; col < p->out_w; col += 16 * vectors) {
                    int64_t left = p->out_w - col, remaining = (left + 15) / 16;
                    vectors = b == 16 ? 1 : remaining == 3 || remaining >= 5 ? 3 : remaining >= 2 ? 2 : 1;
                    __mmask16 masks[3] = {v16_mask(left), v16_mask(left - 16), v16_mask(left - 32)}, in_masks[6];
                    // Stride 2: vector v's outputs j < n read input offsets 2j (from its first load at 32v):
                    // lanes up to 2n - 1 of the two loads, none past the padded row.
                    for (int v = 0; v < 3; v++) {
                        int64_t n = left - 16 * v;
                        in_masks[2 * v] = v16_mask(2 * n - 1);
                        in_masks[2 * v + 1] = v16_mask(2 * n - 17);
                    }
#define CALL(O, V)                                                                                                         \
    (p->stride == 2 ? run_##O##_##V##_2 : run_##O##_##V##_1)(p, x, w, bias, residual, y, k * b, row, col, masks, in_masks, c0, c1)
                    if (b == 16) CALL(16, 1);
                    else if (vectors == 3) CALL(8, 3);
                    else if (vectors == 2) CALL(8, 2);
                    else CALL(8, 1);
#undef CALL
                }
            }
        }
    }
}

#else

int64_t vigil_direct_convolution_block(const vigil_direct_convolution *p) { (void)p; return 8; }
size_t vigil_direct_convolution_packed_count(const vigil_direct_convolution *p) { (void)p; return 0; }
void vigil_direct_convolution_pack(const vigil_direct_convolution *p, const float *weights, float *packed) { (void)p; (void)weights; (void)packed; }
void vigil_direct_convolution_compute(const vigil_direct_convolution *p, const float *x, const float *packed, const float *bias,
                                      const float *residual, float *y, int64_t block_begin, int64_t block_end, int64_t row_begin,
                                      int64_t row_end) {
    (void)p; (void)x; (void)packed; (void)bias; (void)residual; (void)y; (void)block_begin; (void)block_end; (void)row_begin; (void)row_end;
}

#endif
