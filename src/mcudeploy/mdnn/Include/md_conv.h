/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: CONV_2D (int8, 16x8, float32, hybrid float32 x int8).
 *
 * Two output pixels at a time, as the memory contract declares: the receptive
 * fields of two consecutive output pixels (all input channels) are copied into
 * the two columns of the scratch buffer, then every output channel of both
 * pixels is computed from the columns and written. So the output may overlap
 * the part of the input no later pixel pair reads.
 *
 * Scratch: 2 columns of filter_h * filter_w * input_c values, int16 for the
 * integer kernels, float32 (int32 for the hybrid kernel) for the float ones.
 * Without scratch (NULL: the contract's direct path, chosen where the columns
 * would cost more bytes than they let the output share, or a plan that reserves
 * none, such as TFLite Micro's), each output value is computed straight from the
 * input, pixel by pixel, output channel by output channel, and written before the
 * next one is computed: the output may overlap the part of the input no later
 * value reads (every variant runs the portable direct kernel then).
 */
#ifndef MD_CONV_H
#define MD_CONV_H

#include "md_window.h"

/* How a kernel fills a column with a receptive field, and computes a pixel from one. */
typedef void (*md_fill_column_fn)(void *job, int32_t batch, int32_t oy, int32_t ox, void *column);
typedef void (*md_compute_pixel_fn)(void *job, const void *column, int32_t pixel);

/* Computes a pixel straight from the input. */
typedef void (*md_compute_direct_fn)(void *job, int32_t batch, int32_t oy, int32_t ox, int32_t pixel);

typedef struct {
    md_fill_column_fn fill;
    md_compute_pixel_fn compute;
    md_compute_direct_fn direct;
    size_t column_bytes;
} md_conv_kernel;

/* With scratch: fill and compute over every pair of consecutive output pixels of every batch.
 * Without: direct over every output pixel. */
void md_conv_run(const md_window_params *p, void *job, const md_conv_kernel *kernel, void *scratch);

/* Bytes of scratch the im2col path takes: two columns (one when the output has a single pixel) of
 * filter_h x filter_w x input_c values, `value_bytes` each. kernels/contracts.py plans this size. */
static inline int32_t md_conv_im2col_bytes(const md_window_params *p, int32_t value_bytes)
{
    const int32_t columns = p->output_h * p->output_w < 2 ? p->output_h * p->output_w : 2;
    return columns * p->filter_h * p->filter_w * p->input_c * value_bytes;
}

/* Scratch of each kernel's im2col path, in bytes (int16 columns for the integer kernels, float32
 * for the float one, int32 for the hybrid one). Pass NULL instead for the direct path. */
static inline int32_t md_conv_s8_get_buffer_size(const md_window_params *p)
{
    return md_conv_im2col_bytes(p, 2);
}

static inline int32_t md_conv_s16_get_buffer_size(const md_window_params *p)
{
    return md_conv_im2col_bytes(p, 2);
}

static inline int32_t md_conv_f32_get_buffer_size(const md_window_params *p)
{
    return md_conv_im2col_bytes(p, 4);
}

static inline int32_t md_conv_hybrid_f32_get_buffer_size(const md_window_params *p)
{
    return md_conv_im2col_bytes(p, 4);
}

/* int8 input and output, int32 bias (or NULL), int32 multipliers and shifts. */
md_status md_conv_s8(const md_window_params *p, const int8_t *input, const int8_t *filter, const int32_t *bias,
                     const int32_t *multipliers, const int32_t *shifts, int8_t *output, int16_t *scratch);

/* 16x8: int16 input and output; bias int64 when p->accumulator64, else int32 (or NULL). */
md_status md_conv_s16(const md_window_params *p, const int16_t *input, const int8_t *filter, const void *bias,
                      const int32_t *multipliers, const int32_t *shifts, int16_t *output, int16_t *scratch);

/* float32; act_min/act_max of the params are unused: the float clamp bounds are given. */
md_status md_conv_f32(const md_window_params *p, const float *input, const float *filter, const float *bias,
                      float act_low, float act_high, float *output, float *scratch);

/* Hybrid (float32 input and output, int8 filter with one scale, batch 1): the input is quantized
 * symmetrically at run time, convolved in integers, and the sums scaled back to float32. */
md_status md_conv_hybrid_f32(const md_window_params *p, const float *input, const int8_t *filter, float filter_scale,
                             const float *bias, float act_low, float act_high, float *output, int32_t *scratch);

#endif /* MD_CONV_H */
