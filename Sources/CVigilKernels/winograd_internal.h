// Shared by the two forms of the Winograd F(2x2, 3x3) kernel (not part of the public headers): the
// by-definition path both use (winograd_convolution.c), and the AVX-512 form that vigil_winograd_compute
// dispatches to (winograd_avx512.c).
#ifndef VIGIL_WINOGRAD_INTERNAL_H
#define VIGIL_WINOGRAD_INTERNAL_H

#include "vigil_kernels.h"

/// Tiles [t0, t0 + count) of output channels [row_begin, row_end) by the definition (sum over channels
/// and taps of the untransformed weights), for chunks whose input holds NaN or infinity: each output is
/// NaN or infinite exactly when a value in its own 3 x 3 window is, as with the direct convolution.
void vigil_winograd_exact_rows(const vigil_winograd_problem *p, const float *x, int64_t t0, int64_t count, int64_t row_begin,
                               int64_t row_end, const float *bias, const float *residual, float *y);

/// The AVX-512 form: its weight layout (the packed GEMM's A panels, one matrix per xi), workspace and
/// computation (`vigil_winograd_compute` with `wide` set).
#define WINOGRAD512_PANEL_ROWS 12
size_t vigil_winograd512_packed_weight_count(int64_t m, int64_t c);
void vigil_winograd512_pack_weights(const float *u, int64_t m, int64_t c, float *packed);
size_t vigil_winograd512_workspace_count(int64_t c);
void vigil_winograd512_compute(const vigil_winograd_problem *p, const float *x, const float *packed_u, const float *bias,
                               const float *residual, float *y, int64_t tile_begin, int64_t tile_end, int64_t panel_begin,
                               int64_t panel_end, float *workspace);

#endif
