// Vigil's own CPU kernels: a packed-weight direct convolution for x86-64 AVX2 + FMA.
//
// The convolution is a GEMM whose left operand (the weights, M output channels x K = channels x taps)
// is packed once, when a plan is built, into panels of 16 output channels, and whose right operand
// (the im2col matrix) is never materialized: pixels are packed K-block by K-block straight from the
// (zero-padded) input, 6 pixels per micro-tile. A 16 x 6 register tile accumulates with FMA; the
// epilogue adds the bias and an optional residual, applies a piecewise-linear activation, and writes NCHW.
// Everything else (threads, padding policy, fallbacks) is decided by the Swift caller.
#ifndef VIGIL_KERNELS_H
#define VIGIL_KERNELS_H

#include <stddef.h>
#include <stdint.h>

/// 1 when the CPU runs the AVX2 + FMA kernels (checked at run time), else 0.
int vigil_kernels_available(void);

/// Output channels per packed weight panel.
#define VIGIL_CONV_MR 16
/// Pixels per micro-tile.
#define VIGIL_CONV_NR 6
/// Pixels (or Winograd tiles) per block: the unit of work of one call.
#define VIGIL_CONV_NC 96

/// Floats needed to pack an M x K weight matrix (M rounded up to whole panels).
size_t vigil_conv_packed_weight_count(int64_t m, int64_t k);

/// Packs row-major weights `w` (M x K) into panels: panel p holds K rows of 16 floats
/// (output channels 16p ..< 16p + 16, zero beyond M).
void vigil_conv_pack_weights(const float *w, int64_t m, int64_t k, float *packed);

/// The activation an epilogue applies: when `active`, y = clamp(x < 0 ? slope * x : x, low, high),
/// which NaN passes through unchanged (Relu is slope 1, low 0; LeakyRelu slope alpha; Clip low, high).
typedef struct {
    int32_t active;
    float slope, low, high;
} vigil_activation;

/// One 2-D convolution (one group) over an already padded input.
typedef struct {
    /// Offsets of the K = channels x kernel taps rows, relative to a pixel's top-left input
    /// element: channel * channel_stride + kh * dilation_h * in_w + kw * dilation_w.
    const int64_t *row_offsets;
    int64_t k;
    /// Padded input plane width, and floats between images of the input.
    int64_t in_w, in_image_stride;
    int64_t out_h, out_w, stride_h, stride_w;
    /// Output channels (GEMM rows), and output strides in floats.
    int64_t m, out_channel_stride, out_image_stride;
    vigil_activation activation;
} vigil_conv_problem;

/// Floats of per-thread workspace `vigil_conv_compute` needs for `mblocks` weight panels.
size_t vigil_conv_workspace_count(int64_t mblocks);

/// Computes output pixels [pixel_begin, pixel_end) (pixels numbered image-major across the batch)
/// for weight panels [mblock_begin, mblock_end):
/// y = act(W x col + bias + residual). `bias` and `residual` may be NULL; `residual` is indexed like `y`.
void vigil_conv_compute(const vigil_conv_problem *p, const float *x, const float *packed_w, const float *bias,
                        const float *residual, float *y, int64_t pixel_begin, int64_t pixel_end,
                        int64_t mblock_begin, int64_t mblock_end, float *workspace);

/// Copies `planes` planes of h x w floats into planes of (h + top + bottom) x (w + left + right)
/// whose border is zero.
void vigil_pad_planes(const float *x, float *padded, int64_t planes, int64_t h, int64_t w, int64_t top,
                      int64_t bottom, int64_t left, int64_t right);

/// Winograd F(2x2, 3x3) for 3x3, stride-1, undilated convolutions (one group) over an already padded
/// input: each 2 x 2 output tile is computed from its 4 x 4 input patch with 16 multiplications per
/// (output channel, channel) instead of 36. The 16 products are GEMMs: on the direct path's 16 x 6 AVX2
/// micro-kernel (`wide` 0), or on the packed GEMM's 12 x 32 AVX-512 tile (`wide` 1, where
/// `vigil_avx512_enabled()`). The weights, the workspace and the computation must agree on `wide`.
typedef struct {
    /// Channels and output channels.
    int64_t c, m;
    /// Padded input width (out_w + 2), and floats between channels and between images of the input.
    int64_t in_w, in_channel_stride, in_image_stride;
    /// Output size, and output strides in floats. Both even for the AVX2 form; the AVX-512 form takes odd
    /// sizes too (the tiles of the last row or column then hang over by one output, and the padded input
    /// must have one more row or column of zeros: in_w >= out_w + 3).
    int64_t out_h, out_w, out_channel_stride, out_image_stride;
    vigil_activation activation;
    /// The untransformed weights (M x C x 3 x 3), for the tile blocks whose input holds NaN or infinity:
    /// those are computed by the definition, so that non-finite values stay in their own windows.
    const float *weights;
    /// 1: the AVX-512 form (weights packed with `wide` 1).
    int32_t wide;
} vigil_winograd_problem;

/// Output channels per weight panel (the unit in which `vigil_winograd_compute` takes them).
int64_t vigil_winograd_panel_rows(int32_t wide);

/// Floats needed for the 16 transformed, packed weight matrices of an M x C x 3 x 3 convolution.
size_t vigil_winograd_packed_weight_count(int64_t m, int64_t c, int32_t wide);

/// Floats of scratch `vigil_winograd_pack_weights` needs (0 when it needs none).
size_t vigil_winograd_pack_scratch_count(int64_t m, int64_t c, int32_t wide);

/// Transforms weights `w` (M x C x 3 x 3) into U = G g G^T (16 matrices of M x C) and packs each in panels.
void vigil_winograd_pack_weights(const float *w, int64_t m, int64_t c, int32_t wide, float *packed, float *scratch);

/// Floats of per-thread workspace `vigil_winograd_compute` needs for C channels.
size_t vigil_winograd_workspace_count(int64_t c, int32_t wide);

/// Computes the 2 x 2 output tiles [tile_begin, tile_end) (numbered image-major, row-major within an
/// image) for weight panels [mblock_begin, mblock_end): y = act(conv + bias + residual).
void vigil_winograd_compute(const vigil_winograd_problem *p, const float *x, const float *packed_u, const float *bias,
                            const float *residual, float *y, int64_t tile_begin, int64_t tile_end, int64_t mblock_begin,
                            int64_t mblock_end, float *workspace);

#endif
