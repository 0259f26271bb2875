// Elementwise arithmetic and row reductions (see include/vigil_elementwise.h).
#include "vector_math.h"
#include "vigil_elementwise.h"

static inline float scalar_op(int32_t op, float a, float b) {
    switch (op) {
    case VIGIL_ADD: return a + b;
    case VIGIL_SUB: return a - b;
    case VIGIL_MUL: return a * b;
    case VIGIL_DIV: return a / b;
    case VIGIL_MAX: return a != a || b != b ? a + b : (a > b ? a : b);
    default: return a != a || b != b ? a + b : (a < b ? a : b);
    }
}

#if defined(__x86_64__)

#define AVX2 __attribute__((target("avx2,fma")))
#define AVX512 __attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,avx2,fma")))

AVX2 static inline VIGIL_ALWAYS_INLINE __m256 op8(int32_t op, __m256 a, __m256 b) {
    switch (op) {
    case VIGIL_ADD: return _mm256_add_ps(a, b);
    case VIGIL_SUB: return _mm256_sub_ps(a, b);
    case VIGIL_MUL: return _mm256_mul_ps(a, b);
    case VIGIL_DIV: return _mm256_div_ps(a, b);
    case VIGIL_MAX: {
        __m256 nan = _mm256_cmp_ps(a, b, _CMP_UNORD_Q);
        return _mm256_blendv_ps(_mm256_max_ps(a, b), _mm256_add_ps(a, b), nan);
    }
    default: {
        __m256 nan = _mm256_cmp_ps(a, b, _CMP_UNORD_Q);
        return _mm256_blendv_ps(_mm256_min_ps(a, b), _mm256_add_ps(a, b), nan);
    }
    }
}

AVX512 static inline VIGIL_ALWAYS_INLINE __m512 op16(int32_t op, __m512 a, __m512 b) {
    switch (op) {
    case VIGIL_ADD: return _mm512_add_ps(a, b);
    case VIGIL_SUB: return _mm512_sub_ps(a, b);
    case VIGIL_MUL: return _mm512_mul_ps(a, b);
    case VIGIL_DIV: return _mm512_div_ps(a, b);
    case VIGIL_MAX: return _mm512_mask_add_ps(_mm512_max_ps(a, b), _mm512_cmp_ps_mask(a, b, _CMP_UNORD_Q), a, b);
    default: return _mm512_mask_add_ps(_mm512_min_ps(a, b), _mm512_cmp_ps_mask(a, b, _CMP_UNORD_Q), a, b);
    }
}

/// The loop for one operation and operand steps (constants in each specialization).
AVX512 static inline VIGIL_ALWAYS_INLINE void binary512(int32_t op, const float *a, int64_t as, const float *b, int64_t bs,
                                                                    float *y, int64_t n) {
    __m512 av = _mm512_set1_ps(a[0]), bv = _mm512_set1_ps(b[0]);
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512 x = as ? _mm512_loadu_ps(a + i) : av, z = bs ? _mm512_loadu_ps(b + i) : bv;
        _mm512_storeu_ps(y + i, op16(op, x, z));
    }
    if (i < n) {
        __mmask16 m = v16_mask(n - i);
        __m512 x = as ? _mm512_maskz_loadu_ps(m, a + i) : av, z = bs ? _mm512_maskz_loadu_ps(m, b + i) : bv;
        _mm512_mask_storeu_ps(y + i, m, op16(op, x, z));
    }
}

AVX2 static inline VIGIL_ALWAYS_INLINE void binary256(int32_t op, const float *a, int64_t as, const float *b, int64_t bs,
                                                                  float *y, int64_t n) {
    __m256 av = _mm256_set1_ps(a[0]), bv = _mm256_set1_ps(b[0]);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 x = as ? _mm256_loadu_ps(a + i) : av, z = bs ? _mm256_loadu_ps(b + i) : bv;
        _mm256_storeu_ps(y + i, op8(op, x, z));
    }
    for (; i < n; i++) y[i] = scalar_op(op, a[as ? i : 0], b[bs ? i : 0]);
}

#define SPECIALIZE(name, body)                                                                                   \
    static void name(int32_t op, const float *a, int64_t as, const float *b, int64_t bs, float *y, int64_t n) { \
        switch (op) {                                                                                            \
        case VIGIL_ADD: body(VIGIL_ADD); break;                                                                  \
        case VIGIL_SUB: body(VIGIL_SUB); break;                                                                  \
        case VIGIL_MUL: body(VIGIL_MUL); break;                                                                  \
        case VIGIL_DIV: body(VIGIL_DIV); break;                                                                  \
        case VIGIL_MAX: body(VIGIL_MAX); break;                                                                  \
        default: body(VIGIL_MIN); break;                                                                         \
        }                                                                                                        \
    }
#define STEPS512(o)                                                                                   \
    if (as && bs) binary512(o, a, 1, b, 1, y, n);                                                     \
    else if (as) binary512(o, a, 1, b, 0, y, n);                                                      \
    else if (bs) binary512(o, a, 0, b, 1, y, n);                                                      \
    else binary512(o, a, 0, b, 0, y, n)
#define STEPS256(o)                                                                                   \
    if (as && bs) binary256(o, a, 1, b, 1, y, n);                                                     \
    else if (as) binary256(o, a, 1, b, 0, y, n);                                                      \
    else if (bs) binary256(o, a, 0, b, 1, y, n);                                                      \
    else binary256(o, a, 0, b, 0, y, n)
AVX512 SPECIALIZE(binary_avx512, STEPS512)
AVX2 SPECIALIZE(binary_avx2, STEPS256)

/// Sum or maximum of one run, 4 vectors of partial results (the maximum propagates NaN).
AVX512 static float reduce512(const float *x, int64_t n, int32_t max) {
    __m512 init = max ? _mm512_set1_ps(-__builtin_inff()) : _mm512_setzero_ps();
    __m512 s0 = init, s1 = init, s2 = init, s3 = init;
    __mmask16 nan = 0;
    int64_t i = 0;
    for (; i + 64 <= n; i += 64) {
        __m512 a = _mm512_loadu_ps(x + i), b = _mm512_loadu_ps(x + i + 16), c = _mm512_loadu_ps(x + i + 32), d = _mm512_loadu_ps(x + i + 48);
        if (max) {
            nan |= _mm512_cmp_ps_mask(a, b, _CMP_UNORD_Q) | _mm512_cmp_ps_mask(c, d, _CMP_UNORD_Q);
            s0 = _mm512_max_ps(s0, a); s1 = _mm512_max_ps(s1, b); s2 = _mm512_max_ps(s2, c); s3 = _mm512_max_ps(s3, d);
        } else {
            s0 = _mm512_add_ps(s0, a); s1 = _mm512_add_ps(s1, b); s2 = _mm512_add_ps(s2, c); s3 = _mm512_add_ps(s3, d);
        }
    }
    for (; i < n; i += 16) {
        __mmask16 m = v16_mask(n - i);
        __m512 a = _mm512_mask_loadu_ps(init, m, x + i);
        if (max) {
            nan |= _mm512_cmp_ps_mask(a, a, _CMP_UNORD_Q);
            s0 = _mm512_max_ps(s0, a);
        } else {
            s0 = _mm512_add_ps(s0, a);
        }
    }
    if (max) {
        if (nan) return __builtin_nanf("");
        return _mm512_reduce_max_ps(_mm512_max_ps(_mm512_max_ps(s0, s1), _mm512_max_ps(s2, s3)));
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
}

AVX2 static float reduce256(const float *x, int64_t n, int32_t max) {
    __m256 init = max ? _mm256_set1_ps(-__builtin_inff()) : _mm256_setzero_ps();
    __m256 s0 = init, s1 = init;
    int nan = 0;
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256 a = _mm256_loadu_ps(x + i), b = _mm256_loadu_ps(x + i + 8);
        if (max) {
            nan |= _mm256_movemask_ps(_mm256_cmp_ps(a, b, _CMP_UNORD_Q));
            s0 = _mm256_max_ps(s0, a); s1 = _mm256_max_ps(s1, b);
        } else {
            s0 = _mm256_add_ps(s0, a); s1 = _mm256_add_ps(s1, b);
        }
    }
    float lanes[8];
    _mm256_storeu_ps(lanes, max ? _mm256_max_ps(s0, s1) : _mm256_add_ps(s0, s1));
    float r = lanes[0];
    for (int l = 1; l < 8; l++) r = max ? (lanes[l] > r ? lanes[l] : r) : r + lanes[l];
    for (; i < n; i++) {
        if (max) {
            if (x[i] != x[i]) nan = 1;
            r = x[i] > r ? x[i] : r;
        } else {
            r += x[i];
        }
    }
    return max && nan ? __builtin_nanf("") : r;
}

#endif

void vigil_binary(int32_t op, const float *a, int64_t a_step, const float *b, int64_t b_step, float *y, int64_t n) {
#if defined(__x86_64__)
    if (vigil_avx512_enabled()) { binary_avx512(op, a, a_step, b, b_step, y, n); return; }
    if (vigil_vector_available()) { binary_avx2(op, a, a_step, b, b_step, y, n); return; }
#endif
    for (int64_t i = 0; i < n; i++) y[i] = scalar_op(op, a[a_step ? i : 0], b[b_step ? i : 0]);
}

void vigil_row_reduce(const float *x, int64_t rows, int64_t n, int32_t max, float scale, float *y) {
    for (int64_t r = 0; r < rows; r++) {
        const float *row = x + r * n;
        float v;
#if defined(__x86_64__)
        if (vigil_avx512_enabled()) v = reduce512(row, n, max);
        else if (vigil_vector_available()) v = reduce256(row, n, max);
        else
#endif
        {
            v = max ? -__builtin_inff() : 0.0f;
            for (int64_t i = 0; i < n; i++) v = max ? (row[i] != row[i] || v != v ? row[i] + v : (row[i] > v ? row[i] : v)) : v + row[i];
        }
        y[r] = max ? v : v * scale;
    }
}
