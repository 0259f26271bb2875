// Depthwise 2-D convolution (one filter per output channel, each reading one input channel) and window pools
// on NCHW. Three kernels, chosen per window (callers check `vigil_vector_available()`): on AVX-512,
// convolutions of any window but 3x3 (5x5, 7x7, strided, dilated) and 3x3 ones with output rows of at most 8
// columns hold 16 channels per vector (depthwise_lanes_avx512.c: 16 planes transposed into a padded
// pixel-major workspace, one load and one FMA per tap, transposed back); pools and the other 3x3 convolutions
// of strides 1 and 2 read each plane in place, 16 output columns per vector (depthwise_avx512.c); on AVX2 +
// FMA CPUs, strided convolutions and those with output rows of at most 28 columns hold 8 channels per vector
// (depthwise_lanes_avx2.c, the same scheme); the rest, pools and wide stride-1 convolutions, copy each plane
// into a zero-padded, stride-phase-split buffer (so that every tap of every stride and dilation is a
// contiguous load) and accumulate each output row tap by tap (depthwise.c). All write the bias, a residual
// and the activation with the output.
#ifndef VIGIL_DEPTHWISE_H
#define VIGIL_DEPTHWISE_H

#include "vigil_activation.h"

#include <stddef.h>
#include <stdint.h>

/// What a window computes (`vigil_depthwise.mode`).
enum {
    /// The weighted sum of the taps (a depthwise convolution).
    VIGIL_WINDOW_CONV = 0,
    /// Their maximum (padding is -inf; NaN taps are skipped, as by MaxPool's scalar kernel).
    VIGIL_WINDOW_MAX = 1,
    /// Their sum times inv_h[oh] * inv_w[ow] (an average pool: the reciprocals of the counted taps).
    VIGIL_WINDOW_AVERAGE = 2,
};

/// Kernels of at most this many taps per row and column.
#define VIGIL_WINDOW_MAX_TAPS 16

typedef struct {
    /// Input channels and size; output channels (a multiple of the input channels: output channel o
    /// reads input channel o / (m / c)) and size.
    int64_t c, h, w, m, out_h, out_w;
    int64_t kernel_h, kernel_w, stride_h, stride_w, dilation_h, dilation_w;
    int64_t pad_top, pad_left;
    vigil_act act;
    /// VIGIL_WINDOW_CONV, _MAX or _AVERAGE; for averages, the per-row and per-column reciprocal counts.
    int32_t mode;
    const float *inv_h, *inv_w;
} vigil_depthwise;

/// Floats of per-thread workspace `vigil_depthwise_compute` needs.
size_t vigil_depthwise_workspace_count(const vigil_depthwise *p);

/// Planes best computed together (16 when the channels-in-lanes AVX-512 kernel takes the window, 8 when the
/// AVX2 one does, else 1): callers splitting the planes among threads cut them at multiples of this within each image.
int64_t vigil_depthwise_plane_group(const vigil_depthwise *p);

/// Which convolutions the AVX2 channels-in-lanes kernel (8 channels per vector) takes on CPUs without
/// AVX-512 in use: 0 none (the row kernel computes them), 1 those where it was measured faster (the
/// default), 2 every convolution whose padded group of planes fits its workspace (tests).
void vigil_depthwise_lanes8_set_mode(int mode);

/// Computes output planes [plane_begin, plane_end) (plane = image * m + output channel):
/// y = act(window + bias + residual); weights are m x kernel_h x kernel_w (NULL for pools); `bias` and
/// `residual` may be NULL.
void vigil_depthwise_compute(const vigil_depthwise *p, const float *x, const float *weights, const float *bias, const float *residual,
                             float *y, int64_t plane_begin, int64_t plane_end, float *workspace);

#endif
