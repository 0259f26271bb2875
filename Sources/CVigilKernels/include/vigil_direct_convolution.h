// Direct 3x3 convolution, stride 1 or 2, on NCHW for AVX-512 (callers check `vigil_avx512_enabled()`):
// no im2col (stride 2: each tap's 16 columns are the even lanes of two loads, gathered by a permute).
// The input is one image's zero-padded planes; each output row is cut into runs of up to 48
// columns (three 16-float vectors), and a block of 8 (or, on planes at most 16 wide, 16) output channels
// accumulates in registers over the input channels and taps: each tap's input vectors are loaded once
// for the whole block, each weight is broadcast once for the run. Channels are summed in chunks of
// at most 512 products whose sums are added in the output, as the packed GEMM blocks its reduction. Weights are repacked once into
// blocks of output channels, [block][input channel][tap][channel in block], zero-filled past the
// last channel. Bias, a residual and the activation are applied as the run is stored.
#ifndef VIGIL_DIRECT_CONVOLUTION_H
#define VIGIL_DIRECT_CONVOLUTION_H

#include "vigil_activation.h"

#include <stddef.h>
#include <stdint.h>

typedef struct {
    /// Input channels, padded plane height and width (the input planes as read); output channels and size.
    int64_t c, padded_h, padded_w, m, out_h, out_w;
    /// 1 or 2, down and across.
    int64_t stride;
    vigil_act act;
} vigil_direct_convolution;

/// Output channels per block for this problem (8, or 16 on planes at most 16 wide).
int64_t vigil_direct_convolution_block(const vigil_direct_convolution *p);

/// Floats of the repacked weights.
size_t vigil_direct_convolution_packed_count(const vigil_direct_convolution *p);

/// Repacks m x c x 3 x 3 weights.
void vigil_direct_convolution_pack(const vigil_direct_convolution *p, const float *weights, float *packed);

/// Output rows [row_begin, row_end) of output channel blocks [block_begin, block_end) of one image:
/// y = act(conv + bias + residual). `x` is the image's padded planes (c x padded_h x padded_w), `y` and
/// `residual` its output planes (m x out_h x out_w); `bias` and `residual` may be NULL.
void vigil_direct_convolution_compute(const vigil_direct_convolution *p, const float *x, const float *packed, const float *bias,
                                      const float *residual, float *y, int64_t block_begin, int64_t block_end, int64_t row_begin,
                                      int64_t row_end);

#endif
