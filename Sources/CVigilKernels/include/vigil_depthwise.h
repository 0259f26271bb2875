// Depthwise 2-D convolution (one filter per output channel, each reading one input channel) on NCHW,
// vectorized along the output rows (AVX2 + FMA; callers check `vigil_vector_available()`): each plane is
// copied into a zero-padded, stride-phase-split buffer (so that every tap of every stride and dilation
// is a contiguous load), then each output row is accumulated tap by tap and written with the bias, a
// residual and the activation applied.
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

/// Planes best computed together (16 when the channels-in-lanes AVX-512 kernel takes the window, else
/// 1): callers splitting the planes among threads cut them at multiples of this within each image.
int64_t vigil_depthwise_plane_group(const vigil_depthwise *p);

/// Computes output planes [plane_begin, plane_end) (plane = image * m + output channel):
/// y = act(window + bias + residual); weights are m x kernel_h x kernel_w (NULL for pools); `bias` and
/// `residual` may be NULL.
void vigil_depthwise_compute(const vigil_depthwise *p, const float *x, const float *weights, const float *bias, const float *residual,
                             float *y, int64_t plane_begin, int64_t plane_end, float *workspace);

#endif
