/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: FULLY_CONNECTED (int8, 16x8, float32).
 *
 * The input is read as [batches, accum_depth], the filter as [output_depth,
 * accum_depth]; each output is one dot product reading the input row in place
 * (the output never overlaps the input).
 */
#ifndef MD_FULLY_CONNECTED_H
#define MD_FULLY_CONNECTED_H

#include "md_common.h"

typedef struct {
    int32_t batches;
    int32_t accum_depth;
    int32_t output_depth;
    int32_t input_offset;  /* -input zero point */
    int32_t filter_offset; /* -filter zero point for per-tensor filters, 0 per channel */
    int32_t output_offset;
    int32_t act_min, act_max;
    int32_t per_channel;   /* 1: a multiplier and shift per output, 0: one for all */
    int32_t accumulator64; /* 16x8: int64 accumulator and bias */
} md_fully_connected_params;

md_status md_fully_connected_s8(const md_fully_connected_params *p, const int8_t *input, const int8_t *filter,
                                const int32_t *bias, const int32_t *multipliers, const int32_t *shifts, int8_t *output);

/* bias int64 when p->accumulator64, else int32 (or NULL) */
md_status md_fully_connected_s16(const md_fully_connected_params *p, const int16_t *input, const int8_t *filter,
                                 const void *bias, const int32_t *multipliers, const int32_t *shifts, int16_t *output);

md_status md_fully_connected_f32(const md_fully_connected_params *p, const float *input, const float *filter,
                                 const float *bias, float act_low, float act_high, float *output);

#endif /* MD_FULLY_CONNECTED_H */
