/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: MEAN, SUM, REDUCE_MAX and REDUCE_MIN over any set of axes.
 *
 * One pass over the input in element order: each value is added to (or compared
 * with) the accumulator of the output element it reduces into, so every output
 * sees its values in input order. MEAN and SUM accumulate in the scratch buffer
 * (one int32 or float32 per output element), then scale each output.
 */
#ifndef MD_REDUCE_H
#define MD_REDUCE_H

#include "md_common.h"

typedef struct {
    int32_t rank;
    int32_t input_shape[MD_MAX_DIMS];
    int32_t output_strides[MD_MAX_DIMS]; /* output element stride per input dimension, 0 along reduced ones */
    int32_t output_count;
    int32_t reduced_count; /* input values per output value */
    md_dtype dtype;        /* input and output */
    int32_t input_zero_point;
    int32_t output_zero_point;
    int32_t multiplier, shift; /* integer MEAN/SUM: input to output scale (the mean's 1/count folded in) */
    int32_t mean;              /* float32: divide the sums by reduced_count */
} md_reduce_params;

/* Calls `visit` for each innermost input row: its first input index, the output index of its
 * first value and the output stride along the row. */
typedef void (*md_reduce_row_fn)(const md_reduce_params *p, void *job, int32_t input_index, int32_t output_index,
                                 int32_t output_step, int32_t count);
void md_reduce_rows(const md_reduce_params *p, void *job, md_reduce_row_fn visit);

/* Bytes of scratch md_sum_int takes: one int32 accumulator per output element (the float kernel
 * accumulates in its output). kernels/contracts.py plans this size. */
static inline int32_t md_sum_int_get_buffer_size(const md_reduce_params *p) { return 4 * p->output_count; }

/* int8/int16 MEAN and SUM. */
md_status md_sum_int(const md_reduce_params *p, const void *input, void *output, int32_t *scratch);
/* int8 REDUCE_MAX (maximum != 0) and REDUCE_MIN. */
md_status md_extreme_int8(const md_reduce_params *p, const int8_t *input, int8_t *output, int maximum);

md_status md_sum_f32(const md_reduce_params *p, const float *input, float *output);
md_status md_extreme_f32(const md_reduce_params *p, const float *input, float *output, int maximum);

#endif /* MD_REDUCE_H */
