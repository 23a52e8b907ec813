/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: DEPTHWISE_CONV_2D (int8, 16x8, float32).
 *
 * Two loop orders, chosen by the generator as the memory contract declares:
 * - streaming (scratch NULL): pixel by pixel, channel by channel, reading the
 *   input in place; all output channels fed by input channel c of a pixel are
 *   computed before any of them is written (at most MD_DEPTHWISE_CHUNK at a time:
 *   the generator refuses a larger depth multiplier when input and output overlap);
 * - planes (depth multiplier 1): plane c is copied to the scratch buffer, then output
 *   plane c is computed from the copy. The scratch holds the plane with the padding its
 *   windows reach (md_padded_extent along each axis) and MD_PLANE_SLACK bytes more.
 * Filter layout [1, filter_h, filter_w, output_c].
 */
#ifndef MD_DEPTHWISE_H
#define MD_DEPTHWISE_H

#include "md_window.h"

#define MD_DEPTHWISE_CHUNK 16
#define MD_PLANE_SLACK 4 /* kernels/contracts.py PLANE_SLACK */

/* Bytes of scratch the channel-plane path takes: one input plane with the padding its windows reach,
 * `element_bytes` per value, and MD_PLANE_SLACK bytes more. kernels/contracts.py plans this size. */
static inline int32_t md_depthwise_plane_bytes(const md_window_params *p, int32_t element_bytes)
{
    const int32_t rows =
        md_padded_extent(p->input_h, p->output_h, p->stride_h, p->pad_top, p->filter_h, p->dilation_h);
    const int32_t columns =
        md_padded_extent(p->input_w, p->output_w, p->stride_w, p->pad_left, p->filter_w, p->dilation_w);
    return rows * columns * element_bytes + MD_PLANE_SLACK;
}

/* Scratch of each kernel's channel-plane path (depth multiplier 1), in bytes. Pass NULL instead for
 * the streaming path. */
static inline int32_t md_depthwise_s8_get_buffer_size(const md_window_params *p)
{
    return md_depthwise_plane_bytes(p, 1);
}

static inline int32_t md_depthwise_s16_get_buffer_size(const md_window_params *p)
{
    return md_depthwise_plane_bytes(p, 2);
}

static inline int32_t md_depthwise_f32_get_buffer_size(const md_window_params *p)
{
    return md_depthwise_plane_bytes(p, 4);
}

/* int8; int32 bias or NULL. */
md_status md_depthwise_s8(const md_window_params *p, const int8_t *input, const int8_t *filter, const int32_t *bias,
                          const int32_t *multipliers, const int32_t *shifts, int8_t *output, int8_t *scratch);

/* 16x8: int64 bias or NULL, int64 accumulator. */
md_status md_depthwise_s16(const md_window_params *p, const int16_t *input, const int8_t *filter, const int64_t *bias,
                           const int32_t *multipliers, const int32_t *shifts, int16_t *output, int16_t *scratch);

md_status md_depthwise_f32(const md_window_params *p, const float *input, const float *filter, const float *bias,
                           float act_low, float act_high, float *output, float *scratch);

#endif /* MD_DEPTHWISE_H */
