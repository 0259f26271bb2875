// Shared by Vigil's convolution kernels (not part of the public header): blocking constants, the packed
// weight layout, and the 16 x 6 AVX2/FMA micro-kernel both the direct and the Winograd convolution run.
#ifndef VIGIL_MICRO_KERNEL_H
#define VIGIL_MICRO_KERNEL_H

#include "vigil_kernels.h"

// K rows per block: a 16 x KC weight panel (16 KB) stays in L1 across the tiles.
#define KC 256
// Pixels (or Winograd tiles) per block: the KC x NC pixel block (96 KB) stays in L2.
#define NC VIGIL_CONV_NC
#define MR VIGIL_CONV_MR
#define NR VIGIL_CONV_NR

// Loop unrolling that clang's -O3 does on its own and -O2 does not. The kernels build at SwiftPM's
// default optimization (-O2 in release; no unsafeFlags, so that a package depending on Vigil by
// version can build them), and these hints on the loops where -O3's unrolling differs (found with
// -Rpass=loop-unroll) keep the -O3 code there. Ignored without optimization.
#define VIGIL_PRAGMA(x) _Pragma(#x)
#define UNROLL_FULL VIGIL_PRAGMA(clang loop unroll(full))
#define UNROLL_COUNT(n) VIGIL_PRAGMA(clang loop unroll_count(n))

/// Packed layout: K blocks of KC rows one after another; within a block, panel after panel of kc x 16,
/// so a run over all panels of one K block (what a thin output needs) reads memory in order.
static inline int64_t panel_offset(int64_t m_padded, int64_t mb, int64_t k0, int64_t kc) {
    return k0 * m_padded + mb * MR * kc;
}

/// The epilogue activation on one value when `active` (a compile-time constant in each caller's
/// specialization); NaN stays NaN, as Relu keeps it.
static inline __attribute__((always_inline)) float activate(int active, float v, const vigil_activation *a) {
    if (!active) return v;
    v = v < 0.0f ? v * a->slope : v;
    return v < a->low ? a->low : (v > a->high ? a->high : v);
}

#if defined(__x86_64__)
#include <immintrin.h>

#define AVX2 __attribute__((target("avx2,fma")))

/// c[j][0..16) (+)= sum over kc of a[k][0..16) * b[k][j], for the 6 pixels j of one tile.
/// Row k of the tile is `b + 6k` (packed) or, for `direct`, `xb + offsets[k]` (in place).
AVX2 static inline __attribute__((always_inline)) void micro_body(int64_t kc, const float *a, const float *b,
                                                                  const float *xb, const int64_t *offsets, int direct,
                                                                  float *c, int accumulate) {
    __m256 c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51;
    if (accumulate) {
        c00 = _mm256_loadu_ps(c + 0); c01 = _mm256_loadu_ps(c + 8);
        c10 = _mm256_loadu_ps(c + 16); c11 = _mm256_loadu_ps(c + 24);
        c20 = _mm256_loadu_ps(c + 32); c21 = _mm256_loadu_ps(c + 40);
        c30 = _mm256_loadu_ps(c + 48); c31 = _mm256_loadu_ps(c + 56);
        c40 = _mm256_loadu_ps(c + 64); c41 = _mm256_loadu_ps(c + 72);
        c50 = _mm256_loadu_ps(c + 80); c51 = _mm256_loadu_ps(c + 88);
    } else {
        c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = c40 = c41 = c50 = c51 = _mm256_setzero_ps();
    }
    for (int64_t k = 0; k < kc; k++) {
        if (direct) b = xb + offsets[k];
        __m256 a0 = _mm256_loadu_ps(a), a1 = _mm256_loadu_ps(a + 8);
        __m256 b0 = _mm256_broadcast_ss(b + 0);
        c00 = _mm256_fmadd_ps(a0, b0, c00); c01 = _mm256_fmadd_ps(a1, b0, c01);
        __m256 b1 = _mm256_broadcast_ss(b + 1);
        c10 = _mm256_fmadd_ps(a0, b1, c10); c11 = _mm256_fmadd_ps(a1, b1, c11);
        __m256 b2 = _mm256_broadcast_ss(b + 2);
        c20 = _mm256_fmadd_ps(a0, b2, c20); c21 = _mm256_fmadd_ps(a1, b2, c21);
        __m256 b3 = _mm256_broadcast_ss(b + 3);
        c30 = _mm256_fmadd_ps(a0, b3, c30); c31 = _mm256_fmadd_ps(a1, b3, c31);
        __m256 b4 = _mm256_broadcast_ss(b + 4);
        c40 = _mm256_fmadd_ps(a0, b4, c40); c41 = _mm256_fmadd_ps(a1, b4, c41);
        __m256 b5 = _mm256_broadcast_ss(b + 5);
        c50 = _mm256_fmadd_ps(a0, b5, c50); c51 = _mm256_fmadd_ps(a1, b5, c51);
        _mm_prefetch((const char *)(a + 32 * MR), _MM_HINT_T0);  // 2 KB ahead: weights may come from memory
        a += MR;
        if (!direct) b += NR;
    }
    _mm256_storeu_ps(c + 0, c00); _mm256_storeu_ps(c + 8, c01);
    _mm256_storeu_ps(c + 16, c10); _mm256_storeu_ps(c + 24, c11);
    _mm256_storeu_ps(c + 32, c20); _mm256_storeu_ps(c + 40, c21);
    _mm256_storeu_ps(c + 48, c30); _mm256_storeu_ps(c + 56, c31);
    _mm256_storeu_ps(c + 64, c40); _mm256_storeu_ps(c + 72, c41);
    _mm256_storeu_ps(c + 80, c50); _mm256_storeu_ps(c + 88, c51);
}

AVX2 static inline void micro_16x6(int64_t kc, const float *a, const float *b, float *c, int accumulate) {
    micro_body(kc, a, b, 0, 0, 0, c, accumulate);
}

AVX2 static inline void micro_16x6_direct(int64_t kc, const float *a, const float *xb, const int64_t *offsets, float *c,
                                   int accumulate) {
    micro_body(kc, a, 0, xb, offsets, 1, c, accumulate);
}

#endif
#endif
