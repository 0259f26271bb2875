// Activations over arrays, and the CPU feature switches (see include/vigil_activation.h).
#include "vector_math.h"

static int avx512_enabled = -1;

#if defined(__x86_64__)

static int vector_flag = -1;

int vigil_vector_available(void) {
    if (vector_flag < 0) {
        __builtin_cpu_init();
        vector_flag = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    }
    return vector_flag;
}

int vigil_avx512_available(void) {
    __builtin_cpu_init();
    return vigil_vector_available() && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
           __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq");
}

#else

int vigil_vector_available(void) { return 0; }
int vigil_avx512_available(void) { return 0; }

#endif

void vigil_set_avx512(int enabled) { avx512_enabled = enabled && vigil_avx512_available(); }

int vigil_avx512_enabled(void) {
    if (avx512_enabled < 0) avx512_enabled = vigil_avx512_available();
    return avx512_enabled;
}

static float sigmoid_scalar(float x) { return x >= 0 ? 1.0f / (1.0f + expf(-x)) : expf(x) / (1.0f + expf(x)); }

float vigil_activate_scalar(float x, const vigil_act *act) {
    switch (act->kind) {
    case VIGIL_ACT_LINEAR: {
        float v = x < 0 ? x * act->a : x;
        return v < act->b ? act->b : (v > act->c ? act->c : v);
    }
    case VIGIL_ACT_SIGMOID: return sigmoid_scalar(x);
    case VIGIL_ACT_SWISH: return x * sigmoid_scalar(act->a * x);
    case VIGIL_ACT_HARDSIGMOID: {
        float g = act->a * x + act->b;
        return g != g ? g : (g < 0 ? 0 : (g > 1 ? 1 : g));
    }
    case VIGIL_ACT_HARDSWISH: {
        float g = x / 6 + 0.5f;
        return x * (g != g ? g : (g < 0 ? 0 : (g > 1 ? 1 : g)));
    }
    case VIGIL_ACT_TANH: return tanhf(x);
    case VIGIL_ACT_GELU: return 0.5f * x * (1 + erff(x * 0.70710678118654752f));
    case VIGIL_ACT_GELU_TANH: return 0.5f * x * (1 + tanhf(0.7978845608028654f * (x + 0.044715f * x * x * x)));
    default: return x;
    }
}

#if defined(__x86_64__)

__attribute__((target("avx2,fma"))) static void activate_avx2(const float *x, float *y, int64_t n, const vigil_act *act) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, v8_activate(_mm256_loadu_ps(x + i), act));
    if (i < n) {
        __m256i mask = v8_mask(n - i);
        _mm256_maskstore_ps(y + i, mask, v8_activate(_mm256_maskload_ps(x + i, mask), act));
    }
}

__attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,avx2,fma"))) static void activate_avx512(const float *x, float *y, int64_t n,
                                                                                                const vigil_act *act) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, v16_activate(_mm512_loadu_ps(x + i), act));
    if (i < n) {
        __mmask16 mask = v16_mask(n - i);
        _mm512_mask_storeu_ps(y + i, mask, v16_activate(_mm512_maskz_loadu_ps(mask, x + i), act));
    }
}

#endif

void vigil_activate(const float *x, float *y, int64_t n, const vigil_act *act) {
    if (act->kind == VIGIL_ACT_NONE) {
        if (x != y) for (int64_t i = 0; i < n; i++) y[i] = x[i];
        return;
    }
#if defined(__x86_64__)
    if (vigil_avx512_enabled()) {
        activate_avx512(x, y, n, act);
        return;
    }
    if (vigil_vector_available()) {
        activate_avx2(x, y, n, act);
        return;
    }
#endif
    for (int64_t i = 0; i < n; i++) y[i] = vigil_activate_scalar(x[i], act);
}

#if defined(__x86_64__)
#include <xmmintrin.h>

uint32_t vigil_flush_subnormals(void) {
    uint32_t state = _mm_getcsr();
    _mm_setcsr(state | 0x8040);  // FTZ (bit 15) and DAZ (bit 6)
    return state;
}

void vigil_restore_float_mode(uint32_t state) { _mm_setcsr(state); }

void vigil_spin_pause(void) { _mm_pause(); }

#else

uint32_t vigil_flush_subnormals(void) { return 0; }
void vigil_restore_float_mode(uint32_t state) { (void)state; }
void vigil_spin_pause(void) {}

#endif
