// Depthwise int8 convolution, zero-point padding, QuantizeLinear and DequantizeLinear loops (see
// include/vigil_int8_kernels.h).
#include "int8_common.h"

#include <string.h>

/// Output columns per accumulator run of the depthwise kernel.
#define RUN 256

void vigil_i8_pad_planes(const uint8_t *x, uint8_t *padded, int64_t planes, int64_t h, int64_t w, int64_t top,
                         int64_t bottom, int64_t left, int64_t right, uint8_t fill) {
    int64_t pw = w + left + right, ph = h + top + bottom;
    for (int64_t p = 0; p < planes; p++) {
        const uint8_t *src = x + p * h * w;
        uint8_t *dst = padded + p * ph * pw;
        memset(dst, fill, (size_t)(top * pw));
        for (int64_t r = 0; r < h; r++) {
            uint8_t *row = dst + (top + r) * pw;
            memset(row, fill, (size_t)left);
            memcpy(row + left, src + r * w, (size_t)w);
            memset(row + left + w, fill, (size_t)right);
        }
        memset(dst + (top + h) * pw, fill, (size_t)(bottom * pw));
    }
}

/// acc[0..n) += w * x[i * stride] for one kernel tap (uint8 or int8 input; the compiler vectorizes the
/// stride-1 loops).
static inline __attribute__((always_inline)) void tap(int32_t *acc, int64_t n, int32_t w, const uint8_t *x, int64_t stride, int is_signed) {
    if (is_signed) {
        const int8_t *s = (const int8_t *)x;
        if (stride == 1) { for (int64_t i = 0; i < n; i++) acc[i] += w * (int32_t)s[i]; }
        else { for (int64_t i = 0; i < n; i++) acc[i] += w * (int32_t)s[i * stride]; }
    } else {
        if (stride == 1) { for (int64_t i = 0; i < n; i++) acc[i] += w * (int32_t)x[i]; }
        else { for (int64_t i = 0; i < n; i++) acc[i] += w * (int32_t)x[i * stride]; }
    }
}

#if defined(__x86_64__)
static void store_run_avx2(const epilogue *e, int64_t m, const int32_t *acc, int64_t n, void *y, int64_t index);
static void tap_stride2_avx2(int32_t *acc, int64_t n, int32_t w, const uint8_t *x, int is_signed);
static void bytes_run_avx2(const epilogue *e, int64_t m, const int32_t *acc, int64_t n, uint8_t *bytes);
#endif

static inline __attribute__((always_inline)) void depthwise(const vigil_i8_depthwise *d, int64_t plane_begin, int64_t plane_end, int vector) {
    epilogue e = {d->row_offset, d->multiplier, d->float_bias, d->activation, d->slope, d->low, d->high, d->output,
                  d->output_zero_point, d->output == VIGIL_I8_OUT_INT8 ? -128 : 0, d->output == VIGIL_I8_OUT_INT8 ? 127 : 255};
    int32_t acc[RUN + 8];  // the vector epilogue may read past a run's end (values it does not store)
    int64_t taps = d->kernel_h * d->kernel_w;
    for (int64_t q = plane_begin; q < plane_end; q++) {
        int64_t c = q % d->channels, image = q / d->channels;
        const uint8_t *plane = d->x + q * d->padded_h * d->padded_w;
        const int16_t *w = d->w + c * taps;
        int64_t base = image * d->image_stride + c * d->channel_stride;
        if (d->stride_h == 1 && d->stride_w == 1) {
            // Stride 1: the outputs as one run over padded-width rows (output j at padded column j %
            // padded_w), so that every tap is one long contiguous loop even on small planes; the
            // padded_w - out_w extra columns of each row are computed and dropped.
            int64_t pw = d->padded_w, total = (d->out_h - 1) * pw + d->out_w;
            for (int64_t j0 = 0; j0 < total; j0 += RUN) {
                int64_t n = total - j0 < RUN ? total - j0 : RUN;
                memset(acc, 0, sizeof(int32_t) * (size_t)n);
                for (int64_t kh = 0; kh < d->kernel_h; kh++) {
                    for (int64_t kw = 0; kw < d->kernel_w; kw++) {
                        tap(acc, n, w[kh * d->kernel_w + kw], plane + j0 + kh * d->dilation_h * pw + kw * d->dilation_w, 1, d->x_signed);
                    }
                }
#if defined(__x86_64__)
                if (vector && (d->output == VIGIL_I8_OUT_UINT8 || d->output == VIGIL_I8_OUT_INT8)) {
                    // The whole run through the epilogue at once, then each row's outputs copied.
                    uint8_t bytes[RUN + 8];
                    bytes_run_avx2(&e, c, acc, n, bytes);
                    for (int64_t j = j0; j < j0 + n;) {
                        int64_t oh = j / pw, ow = j % pw;
                        if (ow >= d->out_w) { j += pw - ow; continue; }
                        int64_t run = d->out_w - ow < j0 + n - j ? d->out_w - ow : j0 + n - j;
                        memcpy((uint8_t *)d->y + base + oh * d->out_w + ow, bytes + (j - j0), (size_t)run);
                        j += run;
                    }
                    continue;
                }
#endif
                for (int64_t j = j0; j < j0 + n;) {
                    int64_t oh = j / pw, ow = j % pw;
                    if (ow >= d->out_w) { j += pw - ow; continue; }
                    int64_t run = d->out_w - ow < j0 + n - j ? d->out_w - ow : j0 + n - j;
#if defined(__x86_64__)
                    if (vector) store_run_avx2(&e, c, acc + (j - j0), run, d->y, base + oh * d->out_w + ow);
                    else
#endif
                    for (int64_t i = 0; i < run; i++) store_one(&e, c, acc[j - j0 + i], d->y, base + oh * d->out_w + ow + i);
                    j += run;
                }
            }
            continue;
        }
        for (int64_t oh = 0; oh < d->out_h; oh++) {
            for (int64_t ow0 = 0; ow0 < d->out_w; ow0 += RUN) {
                int64_t n = d->out_w - ow0 < RUN ? d->out_w - ow0 : RUN;
                memset(acc, 0, sizeof(int32_t) * (size_t)n);
                for (int64_t kh = 0; kh < d->kernel_h; kh++) {
                    const uint8_t *row = plane + (oh * d->stride_h + kh * d->dilation_h) * d->padded_w + ow0 * d->stride_w;
                    for (int64_t kw = 0; kw < d->kernel_w; kw++) {
#if defined(__x86_64__)
                        if (vector && d->stride_w == 2) {
                            tap_stride2_avx2(acc, n, w[kh * d->kernel_w + kw], row + kw * d->dilation_w, d->x_signed);
                            continue;
                        }
#endif
                        tap(acc, n, w[kh * d->kernel_w + kw], row + kw * d->dilation_w, d->stride_w, d->x_signed);
                    }
                }
#if defined(__x86_64__)
                if (vector) {
                    store_run_avx2(&e, c, acc, n, d->y, base + oh * d->out_w + ow0);
                    continue;
                }
#endif
                for (int64_t i = 0; i < n; i++) store_one(&e, c, acc[i], d->y, base + oh * d->out_w + ow0 + i);
            }
        }
    }
}

static inline __attribute__((always_inline)) void quantize(const float *x, int64_t n, float scale, int32_t zero_point,
                                                            int32_t qmin, int32_t qmax, int32_t is_signed, uint8_t *y) {
    float lo = (float)(qmin - zero_point) - 1.0f, hi = (float)(qmax - zero_point) + 1.0f;
    for (int64_t i = 0; i < n; i++) {
        float t = x[i] / scale;
        t = t != t ? 0.0f : (t < lo ? lo : (t > hi ? hi : t));
        int32_t q = (int32_t)nearbyintf(t) + zero_point;
        q = q < qmin ? qmin : (q > qmax ? qmax : q);
        y[i] = is_signed ? (uint8_t)(int8_t)q : (uint8_t)q;
    }
}

static inline __attribute__((always_inline)) void dequantize(const uint8_t *x, int64_t n, int32_t is_signed, int32_t zero_point,
                                                              float scale, float *y) {
    if (is_signed) {
        const int8_t *s = (const int8_t *)x;
        for (int64_t i = 0; i < n; i++) y[i] = (float)((int32_t)s[i] - zero_point) * scale;
    } else {
        for (int64_t i = 0; i < n; i++) y[i] = (float)((int32_t)x[i] - zero_point) * scale;
    }
}

/// y = saturate(round(v)), v = a * (sa / sy) + b * (sb / sy) + (zy - (za * sa / sy + zb * sb / sy)) with
/// a, b the stored integers: onnxruntime's QLinearAdd arithmetic (its AVX2 kernel: the ratios and fixed
/// part in float, two fused multiply-adds, round half to even), so that the results are the same to
/// the bit; the activation applies to v - zy, in units of sy.
static inline __attribute__((always_inline)) void add(const uint8_t *a, int32_t as, float sa, int32_t za, const uint8_t *b, int32_t bs,
                                                        float sb, int32_t zb, int64_t n, int32_t act, float slope, float low, float high,
                                                        float sy, int32_t zy, int32_t ys, uint8_t *y) {
    int32_t qmin = ys ? -128 : 0, qmax = ys ? 127 : 255;
    float lo = (float)qmin - 1.0f, hi = (float)qmax + 1.0f;
    const float rac = sa / sy, rbc = sb / sy, fixed = (float)zy - fmaf(rac, (float)za, rbc * (float)zb);
    const float zero = (float)zy, low_q = low / sy, high_q = high / sy;
    for (int64_t i = 0; i < n; i++) {
        float fa = (float)(as ? (int32_t)(int8_t)a[i] : (int32_t)a[i]);
        float fb = (float)(bs ? (int32_t)(int8_t)b[i] : (int32_t)b[i]);
        float v = fmaf(fa, rac, fmaf(fb, rbc, fixed));
        if (act) {
            float u = v - zero;
            u = u < 0.0f ? u * slope : u;
            u = u < low_q ? low_q : (u > high_q ? high_q : u);
            v = u + zero;
        }
        v = v < lo ? lo : (v > hi ? hi : v);
        int32_t q = (int32_t)nearbyintf(v);
        q = q < qmin ? qmin : (q > qmax ? qmax : q);
        y[i] = (uint8_t)q;
    }
}

/// Max pooling over bytes compared as `T` (uint8_t or int8_t): for each output row, each tap's valid
/// output columns take the maximum with one input row (loops the compiler vectorizes for stride 1).
#define MAXPOOL_BODY(T, MINIMUM)                                                                                        \
    for (int64_t q = 0; q < planes; q++) {                                                                              \
        const T *plane = (const T *)x + q * in_h * in_w;                                                                \
        T *out = (T *)y + q * out_h * out_w;                                                                            \
        for (int64_t oh = 0; oh < out_h; oh++) {                                                                        \
            T *row = out + oh * out_w;                                                                                  \
            for (int64_t ow = 0; ow < out_w; ow++) row[ow] = MINIMUM;                                                   \
            for (int64_t kh = 0; kh < kernel_h; kh++) {                                                                 \
                int64_t ih = oh * stride_h - pad_top + kh * dilation_h;                                                 \
                if (ih < 0 || ih >= in_h) continue;                                                                     \
                const T *line = plane + ih * in_w;                                                                      \
                for (int64_t kw = 0; kw < kernel_w; kw++) {                                                             \
                    int64_t off = kw * dilation_w - pad_left;                                                           \
                    int64_t lo = off >= 0 ? 0 : (-off + stride_w - 1) / stride_w;                                       \
                    int64_t hi = in_w - off <= 0 ? 0 : (in_w - off + stride_w - 1) / stride_w;                          \
                    if (hi > out_w) hi = out_w;                                                                         \
                    for (int64_t ow = lo; ow < hi; ow++) {                                                              \
                        T v = line[ow * stride_w + off];                                                                \
                        row[ow] = v > row[ow] ? v : row[ow];                                                            \
                    }                                                                                                   \
                }                                                                                                       \
            }                                                                                                           \
        }                                                                                                               \
    }

static inline __attribute__((always_inline)) void maxpool(const uint8_t *x, int32_t is_signed, int64_t planes, int64_t in_h, int64_t in_w,
                                                          int64_t out_h, int64_t out_w, int64_t kernel_h, int64_t kernel_w, int64_t stride_h,
                                                          int64_t stride_w, int64_t dilation_h, int64_t dilation_w, int64_t pad_top,
                                                          int64_t pad_left, uint8_t *y) {
    if (is_signed) { MAXPOOL_BODY(int8_t, -128) } else { MAXPOOL_BODY(uint8_t, 0) }
}

void vigil_i8_lookup(const uint8_t *x, int64_t n, const uint8_t *table, uint8_t *y) {
    for (int64_t i = 0; i < n; i++) y[i] = table[x[i]];
}

// The same loops compiled for AVX2 (vectorized rounding and 32-bit multiplies), chosen at run time.
#if defined(__x86_64__)
#include <immintrin.h>
#define AVX2 __attribute__((target("avx2,fma")))
AVX2 static void depthwise_avx2(const vigil_i8_depthwise *d, int64_t b, int64_t e) { depthwise(d, b, e, 1); }

/// The epilogue of `n` consecutive outputs of channel m, eight at a time.
AVX2 static void store_run_avx2(const epilogue *e, int64_t m, const int32_t *acc, int64_t n, void *y, int64_t index) {
    const __m256i offset = _mm256_set1_epi32(e->row_offset[m]);
    const __m256 mul = _mm256_set1_ps(e->multiplier ? e->multiplier[m] : 1.0f), bias = _mm256_set1_ps(e->float_bias ? e->float_bias[m] : 0.0f);
    epilogue_avx2 c = epilogue_avx2_make(e);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256i v = _mm256_add_epi32(_mm256_loadu_si256((const __m256i *)(acc + i)), offset);
        if (e->output == VIGIL_I8_OUT_INT32) { _mm256_storeu_si256((__m256i *)((int32_t *)y + index + i), v); continue; }
        __m256 t = epilogue_avx2_float(&c, v, mul, bias);
        if (e->output == VIGIL_I8_OUT_FLOAT) { _mm256_storeu_ps((float *)y + index + i, t); continue; }
        __m256i q = epilogue_avx2_quantized(&c, t);
        __m128i words = _mm_packs_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1));
        __m128i bytes = e->output == VIGIL_I8_OUT_INT8 ? _mm_packs_epi16(words, words) : _mm_packus_epi16(words, words);
        _mm_storel_epi64((__m128i *)((uint8_t *)y + index + i), bytes);
    }
    if (i < n && e->output != VIGIL_I8_OUT_INT32 && e->output != VIGIL_I8_OUT_FLOAT) {
        // The last 1-7 outputs: eight computed (acc has room past n), the first n - i stored.
        uint8_t bytes[8];
        store_run_avx2(e, m, acc + i, 8, bytes, 0);
        memcpy((uint8_t *)y + index + i, bytes, (size_t)(n - i));
        return;
    }
    for (; i < n; i++) store_one(e, m, acc[i], y, index + i);
}

/// The epilogue of `n` consecutive quantized outputs of channel m into bytes[0 ..< n rounded up to 8).
AVX2 static void bytes_run_avx2(const epilogue *e, int64_t m, const int32_t *acc, int64_t n, uint8_t *bytes) {
    const __m256i offset = _mm256_set1_epi32(e->row_offset[m]);
    const __m256 mul = _mm256_set1_ps(e->multiplier ? e->multiplier[m] : 1.0f), bias = _mm256_set1_ps(e->float_bias ? e->float_bias[m] : 0.0f);
    epilogue_avx2 c = epilogue_avx2_make(e);
    int is_signed = e->output == VIGIL_I8_OUT_INT8;
    for (int64_t i = 0; i < n; i += 8) {
        __m256i v = _mm256_add_epi32(_mm256_loadu_si256((const __m256i *)(acc + i)), offset);
        __m256i q = epilogue_avx2_quantized(&c, epilogue_avx2_float(&c, v, mul, bias));
        __m128i words = _mm_packs_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1));
        _mm_storel_epi64((__m128i *)(bytes + i), is_signed ? _mm_packs_epi16(words, words) : _mm_packus_epi16(words, words));
    }
}

/// `tap` for stride 2: the even bytes of 16, eight outputs at a time. Reads stay below x[2 * (n - 1)].
AVX2 static void tap_stride2_avx2(int32_t *acc, int64_t n, int32_t w, const uint8_t *x, int is_signed) {
    const __m128i even = _mm_setr_epi8(0, 2, 4, 6, 8, 10, 12, 14, -1, -1, -1, -1, -1, -1, -1, -1);
    const __m256i weight = _mm256_set1_epi32(w);
    int64_t i = 0;
    for (; i + 8 < n; i += 8) {
        __m128i b = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(x + 2 * i)), even);
        __m256i v = is_signed ? _mm256_cvtepi8_epi32(b) : _mm256_cvtepu8_epi32(b);
        __m256i *a = (__m256i *)(acc + i);
        _mm256_storeu_si256(a, _mm256_add_epi32(_mm256_loadu_si256(a), _mm256_mullo_epi32(v, weight)));
    }
    if (is_signed) { for (; i < n; i++) acc[i] += w * (int32_t)(int8_t)x[2 * i]; }
    else { for (; i < n; i++) acc[i] += w * (int32_t)x[2 * i]; }
}
AVX2 static void quantize_avx2(const float *x, int64_t n, float s, int32_t z, int32_t lo, int32_t hi, int32_t sg, uint8_t *y) {
    quantize(x, n, s, z, lo, hi, sg, y);
}
AVX2 static void dequantize_avx2(const uint8_t *x, int64_t n, int32_t sg, int32_t z, float s, float *y) { dequantize(x, n, sg, z, s, y); }
AVX2 static void add_avx2(const uint8_t *a, int32_t as, float sa, int32_t za, const uint8_t *b, int32_t bs, float sb, int32_t zb, int64_t n,
                          int32_t act, float slope, float low, float high, float sy, int32_t zy, int32_t ys, uint8_t *y) {
    add(a, as, sa, za, b, bs, sb, zb, n, act, slope, low, high, sy, zy, ys, y);
}
/// The maximum of 16 bytes, as int8 or as uint8.
AVX2 static inline __m128i max16(__m128i a, __m128i b, int32_t is_signed) { return is_signed ? _mm_max_epi8(a, b) : _mm_max_epu8(a, b); }

/// row[0..16) = max(row[0..16), src[0], src[s], …, src[15 s]) for s = 1 or 2, reading src[0 ..< 16 s − s + 1).
AVX2 static inline void max_columns(const uint8_t *src, uint8_t *row, int64_t stride, int32_t is_signed) {
    __m128i v = _mm_loadu_si128((const __m128i *)src);
    if (stride == 2) {
        const __m128i even = _mm_setr_epi8(0, 2, 4, 6, 8, 10, 12, 14, -1, -1, -1, -1, -1, -1, -1, -1);
        const __m128i odd = _mm_setr_epi8(1, 3, 5, 7, 9, 11, 13, 15, -1, -1, -1, -1, -1, -1, -1, -1);
        // Columns 8..15 are bytes 16, 18, …, 30: the odd bytes of the 16 from src + 15.
        v = _mm_unpacklo_epi64(_mm_shuffle_epi8(v, even), _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(src + 15)), odd));
    }
    _mm_storeu_si128((__m128i *)row, max16(_mm_loadu_si128((const __m128i *)row), v, is_signed));
}

/// `maxpool` with stride-1 and stride-2 columns 16 outputs at a time (the last 16 of a row overlapping
/// the others), every window column clipped to the row as the portable loop clips it; what is left,
/// and other strides, byte by byte. A vector never reads past the row it is on. (Long for a kernel:
/// the clipping and both strides in one loop nest.)
AVX2 static void maxpool_avx2(const uint8_t *x, int32_t sg, int64_t planes, int64_t in_h, int64_t in_w, int64_t out_h, int64_t out_w,
                              int64_t kernel_h, int64_t kernel_w, int64_t stride_h, int64_t stride_w, int64_t dilation_h, int64_t dilation_w,
                              int64_t pad_top, int64_t pad_left, uint8_t *y) {
    if (stride_w != 1 && stride_w != 2) {
        maxpool(x, sg, planes, in_h, in_w, out_h, out_w, kernel_h, kernel_w, stride_h, stride_w, dilation_h, dilation_w, pad_top, pad_left, y);
        return;
    }
    const int64_t reach = stride_w == 1 ? 16 : 31;  // the bytes one vector of 16 columns reads
    const uint8_t minimum = sg ? 0x80 : 0;
    for (int64_t q = 0; q < planes; q++) {
        const uint8_t *plane = x + q * in_h * in_w;
        for (int64_t oh = 0; oh < out_h; oh++) {
            uint8_t *row = y + (q * out_h + oh) * out_w;
            memset(row, minimum, (size_t)out_w);
            for (int64_t kh = 0; kh < kernel_h; kh++) {
                int64_t ih = oh * stride_h - pad_top + kh * dilation_h;
                if (ih < 0 || ih >= in_h) continue;
                const uint8_t *line = plane + ih * in_w;
                for (int64_t kw = 0; kw < kernel_w; kw++) {
                    int64_t off = kw * dilation_w - pad_left;
                    int64_t lo = off >= 0 ? 0 : (-off + stride_w - 1) / stride_w;
                    int64_t hi = in_w - off <= 0 ? 0 : (in_w - off + stride_w - 1) / stride_w;
                    if (hi > out_w) hi = out_w;
                    int64_t ow = lo;
                    for (; ow + 16 <= hi && ow * stride_w + off + reach <= in_w; ow += 16) max_columns(line + ow * stride_w + off, row + ow, stride_w, sg);
                    if (ow < hi && hi - 16 >= lo && (hi - 16) * stride_w + off + reach <= in_w) {
                        // The last 16 columns again, overlapping the ones done (a maximum does not mind).
                        max_columns(line + (hi - 16) * stride_w + off, row + hi - 16, stride_w, sg);
                        ow = hi;
                    }
                    for (; ow < hi; ow++) {
                        uint8_t v = line[ow * stride_w + off];
                        if (sg) { if ((int8_t)v > (int8_t)row[ow]) row[ow] = v; }
                        else if (v > row[ow]) row[ow] = v;
                    }
                }
            }
        }
    }
}
static int has_avx2(void) {
    static int cached = -1;
    if (cached < 0) cached = vigil_i8_variant_available(VIGIL_I8_AVX2);
    return cached;
}
#else
static void depthwise_avx2(const vigil_i8_depthwise *d, int64_t b, int64_t e) { depthwise(d, b, e, 0); }
static void quantize_avx2(const float *x, int64_t n, float s, int32_t z, int32_t lo, int32_t hi, int32_t sg, uint8_t *y) {
    quantize(x, n, s, z, lo, hi, sg, y);
}
static void dequantize_avx2(const uint8_t *x, int64_t n, int32_t sg, int32_t z, float s, float *y) { dequantize(x, n, sg, z, s, y); }
static void add_avx2(const uint8_t *a, int32_t as, float sa, int32_t za, const uint8_t *b, int32_t bs, float sb, int32_t zb, int64_t n,
                     int32_t act, float slope, float low, float high, float sy, int32_t zy, int32_t ys, uint8_t *y) {
    add(a, as, sa, za, b, bs, sb, zb, n, act, slope, low, high, sy, zy, ys, y);
}
static void maxpool_avx2(const uint8_t *x, int32_t sg, int64_t p, int64_t ih, int64_t iw, int64_t oh, int64_t ow, int64_t kh, int64_t kw,
                         int64_t sh, int64_t sw, int64_t dh, int64_t dw, int64_t pt, int64_t pl, uint8_t *y) {
    maxpool(x, sg, p, ih, iw, oh, ow, kh, kw, sh, sw, dh, dw, pt, pl, y);
}
static int has_avx2(void) { return 0; }
#endif

void vigil_i8_depthwise_compute(const vigil_i8_depthwise *d, int64_t plane_begin, int64_t plane_end) {
    if (has_avx2()) depthwise_avx2(d, plane_begin, plane_end); else depthwise(d, plane_begin, plane_end, 0);
}

void vigil_i8_quantize(const float *x, int64_t n, float scale, int32_t zero_point, int32_t qmin, int32_t qmax,
                       int32_t is_signed, uint8_t *y) {
    if (has_avx2()) quantize_avx2(x, n, scale, zero_point, qmin, qmax, is_signed, y);
    else quantize(x, n, scale, zero_point, qmin, qmax, is_signed, y);
}

void vigil_i8_dequantize(const uint8_t *x, int64_t n, int32_t is_signed, int32_t zero_point, float scale, float *y) {
    if (has_avx2()) dequantize_avx2(x, n, is_signed, zero_point, scale, y); else dequantize(x, n, is_signed, zero_point, scale, y);
}

void vigil_i8_add(const uint8_t *a, int32_t a_signed, float sa, int32_t za, const uint8_t *b, int32_t b_signed, float sb, int32_t zb,
                  int64_t n, int32_t activation, float slope, float low, float high, float sy, int32_t zy, int32_t y_signed, uint8_t *y) {
    if (has_avx2()) add_avx2(a, a_signed, sa, za, b, b_signed, sb, zb, n, activation, slope, low, high, sy, zy, y_signed, y);
    else add(a, a_signed, sa, za, b, b_signed, sb, zb, n, activation, slope, low, high, sy, zy, y_signed, y);
}

void vigil_i8_maxpool2d(const uint8_t *x, int32_t is_signed, int64_t planes, int64_t in_h, int64_t in_w, int64_t out_h, int64_t out_w,
                        int64_t kernel_h, int64_t kernel_w, int64_t stride_h, int64_t stride_w, int64_t dilation_h, int64_t dilation_w,
                        int64_t pad_top, int64_t pad_left, uint8_t *y) {
    if (has_avx2()) maxpool_avx2(x, is_signed, planes, in_h, in_w, out_h, out_w, kernel_h, kernel_w, stride_h, stride_w, dilation_h, dilation_w, pad_top, pad_left, y);
    else maxpool(x, is_signed, planes, in_h, in_w, out_h, out_w, kernel_h, kernel_w, stride_h, stride_w, dilation_h, dilation_w, pad_top, pad_left, y);
}
