// The core's measured FMA throughput (see include/vigil_activation.h).
#include "vigil_activation.h"

#include <time.h>

static double thread_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

#if defined(__x86_64__)
#include <immintrin.h>

/// 12 independent chains of 8-wide FMAs (enough to cover the FMA latency on two ports); the best of a few
/// repetitions of thread CPU time, so that other processes on the core do not lower it.
__attribute__((target("avx2,fma"))) static double avx2_peak(void) {
    const __m256 b = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(1e-7f);
    double best = 0;
    for (int rep = 0; rep < 5; rep++) {
        __m256 a0 = _mm256_set1_ps(1), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0;
        const long iterations = 200000;
        double start = thread_seconds();
        for (long i = 0; i < iterations; i++) {
            a0 = _mm256_fmadd_ps(a0, b, c); a1 = _mm256_fmadd_ps(a1, b, c); a2 = _mm256_fmadd_ps(a2, b, c);
            a3 = _mm256_fmadd_ps(a3, b, c); a4 = _mm256_fmadd_ps(a4, b, c); a5 = _mm256_fmadd_ps(a5, b, c);
            a6 = _mm256_fmadd_ps(a6, b, c); a7 = _mm256_fmadd_ps(a7, b, c); a8 = _mm256_fmadd_ps(a8, b, c);
            a9 = _mm256_fmadd_ps(a9, b, c); a10 = _mm256_fmadd_ps(a10, b, c); a11 = _mm256_fmadd_ps(a11, b, c);
            __asm__ volatile("" : "+x"(a0), "+x"(a1), "+x"(a2), "+x"(a3), "+x"(a4), "+x"(a5));
            __asm__ volatile("" : "+x"(a6), "+x"(a7), "+x"(a8), "+x"(a9), "+x"(a10), "+x"(a11));
        }
        double seconds = thread_seconds() - start;
        if (seconds > 0) {
            double gflops = 12.0 * 16.0 * (double)iterations / seconds / 1e9;
            if (gflops > best) best = gflops;
        }
    }
    return best;
}

/// The same with 16 chains of 16-wide FMAs.
__attribute__((target("avx512f"))) static double avx512_peak(void) {
    const __m512 b = _mm512_set1_ps(0.999999f), c = _mm512_set1_ps(1e-7f);
    double best = 0;
    for (int rep = 0; rep < 5; rep++) {
        __m512 a0 = _mm512_set1_ps(1), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
        __m512 a8 = a0, a9 = a0, a10 = a0, a11 = a0, a12 = a0, a13 = a0, a14 = a0, a15 = a0;
        const long iterations = 100000;
        double start = thread_seconds();
        for (long i = 0; i < iterations; i++) {
            a0 = _mm512_fmadd_ps(a0, b, c); a1 = _mm512_fmadd_ps(a1, b, c); a2 = _mm512_fmadd_ps(a2, b, c); a3 = _mm512_fmadd_ps(a3, b, c);
            a4 = _mm512_fmadd_ps(a4, b, c); a5 = _mm512_fmadd_ps(a5, b, c); a6 = _mm512_fmadd_ps(a6, b, c); a7 = _mm512_fmadd_ps(a7, b, c);
            a8 = _mm512_fmadd_ps(a8, b, c); a9 = _mm512_fmadd_ps(a9, b, c); a10 = _mm512_fmadd_ps(a10, b, c); a11 = _mm512_fmadd_ps(a11, b, c);
            a12 = _mm512_fmadd_ps(a12, b, c); a13 = _mm512_fmadd_ps(a13, b, c); a14 = _mm512_fmadd_ps(a14, b, c); a15 = _mm512_fmadd_ps(a15, b, c);
            __asm__ volatile("" : "+v"(a0), "+v"(a1), "+v"(a2), "+v"(a3), "+v"(a4), "+v"(a5), "+v"(a6), "+v"(a7));
            __asm__ volatile("" : "+v"(a8), "+v"(a9), "+v"(a10), "+v"(a11), "+v"(a12), "+v"(a13), "+v"(a14), "+v"(a15));
        }
        double seconds = thread_seconds() - start;
        if (seconds > 0) {
            double gflops = 16.0 * 32.0 * (double)iterations / seconds / 1e9;
            if (gflops > best) best = gflops;
        }
    }
    return best;
}
#endif

double vigil_measure_fma_peak(void) {
#if defined(__x86_64__)
    if (vigil_avx512_enabled()) return avx512_peak();
    if (vigil_vector_available()) return avx2_peak();
#endif
    return 0;
}
