// The depthwise window kernel's AVX-512 form, which vigil_depthwise_compute (depthwise.c) dispatches to
// (not part of the public headers).
#ifndef VIGIL_DEPTHWISE_INTERNAL_H
#define VIGIL_DEPTHWISE_INTERNAL_H

#include "vigil_depthwise.h"

/// Output pixels of one row that the channels-in-lanes kernels (AVX-512 and AVX2) compute together.
#define VIGIL_LANES_BLOCK 8
/// The largest padded workspace of one group of planes in those kernels, in floats (1 MiB).
#define VIGIL_LANES_MAX_PADDED_FLOATS (1 << 18)

/// The padded input of one group of planes in the channels-in-lanes kernels, in pixels: every row and
/// column a window reads, plus the columns a row's last block reads past its end (their sums are not kept).
typedef struct {
    int64_t rows, cols;
} vigil_lanes_shape;

static inline vigil_lanes_shape vigil_lanes_shape_of(const vigil_depthwise *p) {
    vigil_lanes_shape s;
    s.rows = (p->out_h - 1) * p->stride_h + (p->kernel_h - 1) * p->dilation_h + 1;
    s.cols = (p->out_w - 1 + VIGIL_LANES_BLOCK - 1) * p->stride_w + (p->kernel_w - 1) * p->dilation_w + 1;
    return s;
}

/// Whether a channels-in-lanes kernel with `lanes` channels per vector can take the window: a convolution
/// whose sizes are bounded (so that the padded shape's products cannot overflow) and whose padded group of
/// planes fits the workspace bound.
static inline int vigil_lanes_bounded(const vigil_depthwise *p, int64_t lanes) {
    if (p->mode != VIGIL_WINDOW_CONV || p->out_h > 4096 || p->out_w > 4096 || p->kernel_h > VIGIL_WINDOW_MAX_TAPS ||
        p->kernel_w > VIGIL_WINDOW_MAX_TAPS || p->stride_h > 256 || p->stride_w > 256 || p->dilation_h > 256 || p->dilation_w > 256)
        return 0;
    vigil_lanes_shape s = vigil_lanes_shape_of(p);
    return s.rows * s.cols * lanes <= VIGIL_LANES_MAX_PADDED_FLOATS;
}

/// Floats of workspace a channels-in-lanes kernel with `lanes` channels per vector needs: alignment, the
/// padded input, the output sums (with a block's and a transpose's overrun), the taps' weights.
static inline size_t vigil_lanes_workspace(const vigil_depthwise *p, int64_t lanes) {
    vigil_lanes_shape s = vigil_lanes_shape_of(p);
    return (size_t)(lanes + s.rows * s.cols * lanes + (p->out_h * p->out_w + lanes) * lanes + p->kernel_h * p->kernel_w * lanes);
}

/// Whether the AVX-512 kernel computes this window (the CPU has it, Vigil uses it, and the window's
/// strides, dilations and size are ones it takes).
int vigil_depthwise_avx512_takes(const vigil_depthwise *p);

/// Output rows the AVX-512 kernel's stride-2 form computes together (each its own chain of taps).
#define VIGIL_PHASE_ROWS 4

/// The AVX-512 kernel's stride-2 form splits the input rows of each block of VIGIL_PHASE_ROWS output rows
/// into their even and odd padded columns: the split rows one block reads, and floats per phase of a row
/// (whole vectors holding every column an output reads; the lanes of a last vector past the output row
/// read on into the next phase or row, or the workspace's 16 floats of slack, and are not stored).
static inline int64_t vigil_phase_rows(const vigil_depthwise *p) { return 2 * VIGIL_PHASE_ROWS + p->kernel_h - 2; }
static inline int64_t vigil_phase_width(const vigil_depthwise *p) { return (p->out_w + (p->kernel_w - 1) / 2 + 15) / 16 * 16; }

/// Floats of workspace the AVX-512 kernel's stride-2 form needs (0 at other strides): alignment, the split
/// rows, 16 floats of slack, and the masks of a row's split steps (two 16-bit masks per 16 floats of a phase).
static inline size_t vigil_phase_workspace(const vigil_depthwise *p) {
    if (p->stride_h != 2 || p->stride_w != 2) return 0;
    return (size_t)(16 + vigil_phase_rows(p) * 2 * vigil_phase_width(p) + 16 + vigil_phase_width(p) / 16 + 1);
}

/// Output planes [plane_begin, plane_end) on the AVX-512 kernel: stride 1 reads the input in place;
/// stride 2 splits each block's input rows into `workspace` (at least vigil_phase_workspace floats) and
/// reads them there.
void vigil_depthwise_avx512(const vigil_depthwise *p, const float *x, const float *weights, const float *bias, const float *residual,
                            float *y, int64_t plane_begin, int64_t plane_end, float *workspace);

/// Applies the activation (any kind) to n floats in place, on AVX-512.
void vigil_depthwise_activate(float *y, int64_t n, const vigil_act *act);

/// Whether the channels-in-lanes AVX-512 kernel computes this window (the CPU has it, Vigil uses it,
/// it is a convolution and its output rows are narrow; depthwise_lanes_avx512.c).
int vigil_depthwise_lanes_takes(const vigil_depthwise *p);

/// Floats of per-thread workspace the channels-in-lanes kernel needs (0 for windows it never takes).
size_t vigil_depthwise_lanes_workspace_count(const vigil_depthwise *p);

/// Output planes [plane_begin, plane_end) on the channels-in-lanes kernel, 16 planes at a time.
void vigil_depthwise_lanes(const vigil_depthwise *p, const float *x, const float *weights, const float *bias, const float *residual,
                           float *y, int64_t plane_begin, int64_t plane_end, float *workspace);

/// Whether the channels-in-lanes AVX2 kernel (8 channels per vector, depthwise_lanes_avx2.c) computes this
/// window: on AVX2 machines (and AVX-512 ones with AVX-512 off), convolutions where it was measured faster.
int vigil_depthwise_lanes8_takes(const vigil_depthwise *p);

/// Floats of per-thread workspace the AVX2 channels-in-lanes kernel needs (0 for windows it never takes).
size_t vigil_depthwise_lanes8_workspace_count(const vigil_depthwise *p);

/// Output planes [plane_begin, plane_end) on the AVX2 channels-in-lanes kernel, 8 planes at a time.
void vigil_depthwise_lanes8(const vigil_depthwise *p, const float *x, const float *weights, const float *bias, const float *residual,
                            float *y, int64_t plane_begin, int64_t plane_end, float *workspace);

#endif
