/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: the portable integer FULLY_CONNECTED kernel (see md_nn.h),
 * shared by md_fully_connected.c and its variants. */
#ifndef MD_FULLY_CONNECTED_INT_H
#define MD_FULLY_CONNECTED_INT_H

#include "md_nn_support.h"

/* Exact sum of (input + input offset) * (weight + filter offset) over row `row` of the input. */
static inline int64_t fc_dot(const md_fully_connected_params *p, const void *input, md_dtype dtype, int32_t row,
                             const int8_t *weights)
{
    int64_t sum = 0;
    int32_t k;
    for (k = 0; k < p->accum_depth; ++k) {
        const int32_t value = md_load(input, row * p->accum_depth + k, dtype);
        sum += (value + p->input_offset) * (weights[k] + p->filter_offset); /* fits int32 */
    }
    return sum;
}

static inline void md_fully_connected_portable(const md_fully_connected_params *p, const void *input,
                                               md_dtype dtype, const int8_t *filter, const void *bias,
                                               const int32_t *multipliers, const int32_t *shifts, void *output)
{
    int32_t b;
    int32_t o;
    for (b = 0; b < p->batches; ++b) {
        for (o = 0; o < p->output_depth; ++o) {
            const int64_t sum = fc_dot(p, input, dtype, b, filter + o * p->accum_depth);
            const int32_t q = p->per_channel ? o : 0;
            const int32_t value = md_requantize_sum(sum, bias, o, p->accumulator64, multipliers[q], shifts[q],
                                                    p->output_offset, p->act_min, p->act_max);
            md_store_saturated(output, b * p->output_depth + o, dtype, value);
        }
    }
}

/* Where md_fully_connected_s8_w16's int16 filter holds the weight of output o for input value k
 * (md_nn.h): rows in blocks of 4, each block the 4 rows' values 4k to 4k + 3 side by side, group
 * after group, then the 4 rows' last depth % 4 values; the rows after the last whole block as
 * they are. */
static inline int32_t md_fc_w16_index(int32_t o, int32_t k, int32_t depth, int32_t outputs)
{
    const int32_t whole = depth & ~3;
    const int32_t block = (o & ~3) * depth;
    if (o >= (outputs & ~3)) {
        return o * depth + k;
    }
    if (k < whole) {
        return block + (k & ~3) * 4 + (o & 3) * 4 + (k & 3);
    }
    return block + 4 * whole + (o & 3) * (depth - whole) + (k - whole);
}

static inline void md_fully_connected_w16_portable(const md_fully_connected_params *p, const int8_t *input,
                                                   const int16_t *filter, const int32_t *bias,
                                                   const int32_t *multipliers, const int32_t *shifts, int8_t *output)
{
    int32_t b;
    int32_t o;
    int32_t k;
    for (b = 0; b < p->batches; ++b) {
        for (o = 0; o < p->output_depth; ++o) {
            const int32_t q = p->per_channel ? o : 0;
            uint32_t sum = 0; /* the int32 accumulator, wrapping */
            for (k = 0; k < p->accum_depth; ++k) {
                const int32_t weight = filter[md_fc_w16_index(o, k, p->accum_depth, p->output_depth)];
                sum += (uint32_t)((input[b * p->accum_depth + k] + p->input_offset) * weight);
            }
            output[b * p->output_depth + o] =
                (int8_t)md_requantize_sum((int32_t)sum, bias, o, 0, multipliers[q], shifts[q], p->output_offset,
                                          p->act_min, p->act_max);
        }
    }
}

#endif /* MD_FULLY_CONNECTED_INT_H */
