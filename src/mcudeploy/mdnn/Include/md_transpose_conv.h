/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: TRANSPOSE_CONV (int8, 16x8, float32).
 *
 * The parameters are md_window_params: input_* the data input's size, output_* the output's,
 * filter [output_c, filter_h, filter_w, input_c], stride_*, and pad_top/pad_left as TFLite Micro
 * derives them (the padding of a convolution over the output size); dilation 1. Input pixel y
 * feeds output row y * stride_h - pad_top + fy through filter row fy (columns alike).
 *
 * Gathered, not scattered as TFLite Micro's reference kernel does into an arena buffer as large as
 * the output: each output value sums the input values that reach it, input row, column and
 * channel ascending (the reference's order, so float sums round alike), and is written before the
 * next one is computed. No scratch; the output must not overlap the input.
 */
#ifndef MD_TRANSPOSE_CONV_H
#define MD_TRANSPOSE_CONV_H

#include "md_window.h"

/* int8 input and output, int32 bias (or NULL), int32 multipliers and shifts. */
md_status md_transpose_conv_s8(const md_window_params *p, const int8_t *input, const int8_t *filter,
                               const int32_t *bias, const int32_t *multipliers, const int32_t *shifts,
                               int8_t *output);

/* 16x8: int16 input and output, int64 bias (or NULL), an int64 accumulator. */
md_status md_transpose_conv_s16(const md_window_params *p, const int16_t *input, const int8_t *filter,
                                const int64_t *bias, const int32_t *multipliers, const int32_t *shifts,
                                int16_t *output);

/* float32; the fused activation's clamp bounds are given. */
md_status md_transpose_conv_f32(const md_window_params *p, const float *input, const float *filter,
                                const float *bias, float act_low, float act_high, float *output);

#endif /* MD_TRANSPOSE_CONV_H */
