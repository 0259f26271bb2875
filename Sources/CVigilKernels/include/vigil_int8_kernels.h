// Vigil's integer kernels for quantized networks: an int8 GEMM with int32 accumulation and a
// requantizing epilogue (the core of QLinearConv, ConvInteger, QLinearMatMul, MatMulInteger and
// Vigil's fused quantized ops), a depthwise int8 convolution, and QuantizeLinear/DequantizeLinear
// loops. Results are exact integer arithmetic: no intermediate saturation, whatever the inputs.
//
// Three variants, chosen at run time (the caller may force one, as the tests do):
// - AVX2: `vpmaddubsw` / `vpmaddwd` on 16 x 4 register tiles. `vpmaddubsw` multiplies unsigned by
//   signed bytes and adds pairs into saturating int16; to stay exact, activations are stored as int8
//   (uint8 sources shifted by -128) and multiplied as |x| (at most 128) by the weight with x's sign
//   (`vpsignb`), weights in [-127, 127]: a pair sums to at most 2 * 128 * 127 = 32512 < 32767.
// - AVX-VNNI: `vpdpbusd` (uint8 x int8, four products summed into int32 with no intermediate
//   saturation); activations stored as uint8 (int8 sources shifted by +128), weights in [-128, 127].
// - AVX-512 VNNI: the same products on 512-bit registers, two weight panels (32 channels) per tile,
//   with the AVX-VNNI variant's packing.
// - portable: int16 dot products in plain C, for weights outside those ranges (uint8 weights with a
//   zero point) and CPUs without AVX2.
// The shift and the activations' zero point come back as a per-channel correction of the int32
// accumulator (shift - zero point) * sum of the channel's weights, which the caller adds (`vigil_i8_activation_shift`).
#ifndef VIGIL_INT8_KERNELS_H
#define VIGIL_INT8_KERNELS_H

#include <stddef.h>
#include <stdint.h>

/// Output channels per packed weight panel.
#define VIGIL_I8_MR 16
/// Pixels (GEMM columns) per register tile.
#define VIGIL_I8_NR 4
/// Pixels per packed activation block: the unit of work of one `vigil_i8_compute` call.
#define VIGIL_I8_NC 96

/// Kernel variants.
#define VIGIL_I8_PORTABLE 0
#define VIGIL_I8_AVX2 1
#define VIGIL_I8_AVXVNNI 2
#define VIGIL_I8_AVX512VNNI 3

/// Output kinds of the epilogue.
#define VIGIL_I8_OUT_INT32 0
#define VIGIL_I8_OUT_FLOAT 1
#define VIGIL_I8_OUT_UINT8 2
#define VIGIL_I8_OUT_INT8 3

/// The fastest variant this CPU runs (checked at run time).
int vigil_i8_best_variant(void);

/// Whether this CPU runs `variant`.
int vigil_i8_variant_available(int variant);

/// Bytes of packed weights of an M x K matrix for `variant` (whole panels of 16 rows).
size_t vigil_i8_packed_weight_bytes(int variant, int64_t m, int64_t k);

/// Packs weights `w` (M x K, row-major, int16 values already minus their zero point) for `variant` and
/// sums each row into `row_sums`. Returns 0, packing nothing, when a value does not fit the variant
/// ([-127, 127] for AVX2, [-128, 127] for the VNNI variants, [-32768, 32767] for portable).
int vigil_i8_pack_weights(int variant, const int16_t *w, int64_t m, int64_t k, void *packed, int32_t *row_sums);

/// The constant by which each channel's weight sum is multiplied and added to the accumulator:
/// the difference between the stored activation value and the real one, minus the activations' zero point.
int32_t vigil_i8_activation_shift(int variant, int source_signed, int32_t zero_point);

/// Where the activations of a block of pixels are read: pixel i's K values are at
/// `data + pixel_offsets[i] + row_offsets[k]` (a convolution's taps) or, without row offsets,
/// `data + pixel_offsets[i] + k` (a row of a matrix).
typedef struct {
    const uint8_t *data;
    /// Element type of the source: int8 (1) or uint8 (0).
    int32_t is_signed;
    /// The source's zero point (the portable variant subtracts it while packing).
    int32_t zero_point;
    const int64_t *row_offsets;
} vigil_i8_source;

/// Bytes of workspace one packed block of VIGIL_I8_NC pixels of K values needs.
size_t vigil_i8_block_bytes(int variant, int64_t k);

/// Packs `count` (at most VIGIL_I8_NC) pixels into `packed` for `variant`.
void vigil_i8_pack_block(int variant, const vigil_i8_source *s, const int64_t *pixel_offsets, int64_t count, int64_t k,
                         void *packed);

/// One integer GEMM with its epilogue: for output channel m and pixel p,
///   v = sum_k w'[m][k] * x[p][k] + row_offset[m]                    (int32, exact)
///   t = act(v * multiplier[m] + float_bias[m])                      (float)
/// written as v (INT32), t (FLOAT) or saturate(round_half_even(t) + output_zero_point) (UINT8, INT8),
/// at y + image * image_stride + (p % pixels_per_image) * pixel_stride + m * channel_stride (in elements),
/// image = p / pixels_per_image.
typedef struct {
    int32_t variant;
    int64_t m, k;
    const void *packed_w;
    const int32_t *row_offset;
    /// Per channel; unused for INT32 output.
    const float *multiplier;
    /// Per channel, or NULL.
    const float *float_bias;
    /// When `activation`: t = clamp(t < 0 ? slope * t : t, low, high).
    int32_t activation;
    float slope, low, high;
    int32_t output;
    int32_t output_zero_point;
    void *y;
    int64_t pixels_per_image, image_stride, pixel_stride, channel_stride;
} vigil_i8_gemm;

/// Computes pixels [first_pixel, first_pixel + count) of weight panels [panel_begin, panel_end) from a
/// block packed by `vigil_i8_pack_block`.
void vigil_i8_compute(const vigil_i8_gemm *g, const void *packed_block, int64_t first_pixel, int64_t count,
                      int64_t panel_begin, int64_t panel_end);

/// A depthwise 2-D convolution (one filter per channel) over zero-point-padded input planes, with the
/// epilogue of `vigil_i8_gemm` per channel. Plane q = image * channels + channel.
typedef struct {
    /// Padded input planes (padded_h x padded_w bytes each), int8 or uint8.
    const uint8_t *x;
    int32_t x_signed;
    int64_t channels, padded_h, padded_w, out_h, out_w;
    int64_t kernel_h, kernel_w, stride_h, stride_w, dilation_h, dilation_w;
    /// Per channel: kernel_h * kernel_w weights minus their zero point.
    const int16_t *w;
    /// Per channel, as in `vigil_i8_gemm` (the caller includes -x_zero_point * sum of the channel's weights).
    const int32_t *row_offset;
    const float *multiplier;
    const float *float_bias;
    int32_t activation;
    float slope, low, high;
    int32_t output;
    int32_t output_zero_point;
    void *y;
    /// Output strides, in elements.
    int64_t image_stride, channel_stride;
} vigil_i8_depthwise;

/// Computes planes [plane_begin, plane_end).
void vigil_i8_depthwise_compute(const vigil_i8_depthwise *d, int64_t plane_begin, int64_t plane_end);

/// Copies `planes` planes of h x w bytes into planes of (h + top + bottom) x (w + left + right) whose
/// border holds `fill` (the zero point).
void vigil_i8_pad_planes(const uint8_t *x, uint8_t *padded, int64_t planes, int64_t h, int64_t w, int64_t top,
                         int64_t bottom, int64_t left, int64_t right, uint8_t fill);

/// QuantizeLinear on n floats: y = saturate(round_half_even(x / scale) + zero_point) into [qmin, qmax],
/// stored as int8 (`is_signed`) or uint8 bytes. NaN becomes the zero point.
void vigil_i8_quantize(const float *x, int64_t n, float scale, int32_t zero_point, int32_t qmin, int32_t qmax,
                       int32_t is_signed, uint8_t *y);

/// DequantizeLinear of n int8 (`is_signed`) or uint8 values: y = (x - zero_point) * scale.
void vigil_i8_dequantize(const uint8_t *x, int64_t n, int32_t is_signed, int32_t zero_point, float scale, float *y);

/// The Add of two int8/uint8 tensors between DequantizeLinear and QuantizeLinear, on n elements:
/// y = saturate(round_half_even(act((a - za) * sa + (b - zb) * sb) / sy) + zy), act as in `vigil_i8_gemm`,
/// computed as onnxruntime's QLinearAdd computes it on x86 (a * sa/sy + b * sb/sy + a fixed part, two
/// fused multiply-adds): its bytes on every pair of inputs (QuantizedModelTests, Fixtures/quantized/
/// qadd_exact), where the separate nodes' arithmetic rounds a few pairs per scale set differently.
void vigil_i8_add(const uint8_t *a, int32_t a_signed, float sa, int32_t za, const uint8_t *b, int32_t b_signed, float sb, int32_t zb,
                  int64_t n, int32_t activation, float slope, float low, float high, float sy, int32_t zy, int32_t y_signed, uint8_t *y);

/// 2-D max pooling of int8 (`is_signed`) or uint8 planes (padding ignored, as MaxPool's): plane q's
/// output (out_h x out_w) from its input (in_h x in_w).
void vigil_i8_maxpool2d(const uint8_t *x, int32_t is_signed, int64_t planes, int64_t in_h, int64_t in_w, int64_t out_h, int64_t out_w,
                        int64_t kernel_h, int64_t kernel_w, int64_t stride_h, int64_t stride_w, int64_t dilation_h, int64_t dilation_w,
                        int64_t pad_top, int64_t pad_left, uint8_t *y);

/// y[i] = table[x[i]] for n bytes (int8 values index the table by their bit pattern).
void vigil_i8_lookup(const uint8_t *x, int64_t n, const uint8_t *table, uint8_t *y);

#endif
