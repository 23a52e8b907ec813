/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: ADD, SUB, MUL and SQUARED_DIFFERENCE with broadcasting (int8, int16, int32, float32).
 *
 * One pass in output element order: output element k is computed from, then
 * written after, element k of each input of the output's shape (so such an input
 * may share the output's bytes). Broadcasting is described by element strides
 * per output dimension, 0 along a broadcast dimension.
 */
#ifndef MD_ELEMENTWISE_H
#define MD_ELEMENTWISE_H

#include "md_common.h"

typedef enum {
    MD_OP_ADD = 0,
    MD_OP_SUB = 1,
    MD_OP_MUL = 2,
    MD_OP_SQUARED_DIFFERENCE = 3
} md_arith_op;

typedef struct {
    int32_t rank; /* 1 .. MD_MAX_DIMS */
    int32_t shape[MD_MAX_DIMS];
    int32_t strides1[MD_MAX_DIMS];
    int32_t strides2[MD_MAX_DIMS];
} md_broadcast;

/* Computes `count` output elements from index `out` on, reading the inputs from `index1` and
 * `index2` on with element strides `step1` and `step2` (0 or 1 ...). */
typedef void (*md_row_fn)(const void *params, const void *input1, int32_t index1, int32_t step1, const void *input2,
                          int32_t index2, int32_t step2, void *output, int32_t out, int32_t count);

/* Calls `row` once per innermost row of the output, in output order. */
void md_broadcast_rows(const md_broadcast *shape, const void *params, md_row_fn row, const void *input1,
                       const void *input2, void *output);

typedef struct {
    md_arith_op op;
    md_dtype dtype;          /* MD_INT8, MD_INT16 or MD_INT32 */
    int32_t input1_offset;   /* -zero points */
    int32_t input2_offset;
    int32_t output_offset;   /* +zero point */
    int32_t left_shift;      /* ADD/SUB headroom: 20 (int8) or 15 (int16); SQUARED_DIFFERENCE: 7 or 0 */
    int32_t input1_multiplier, input1_shift;
    int32_t input2_multiplier, input2_shift;
    int32_t output_multiplier, output_shift;
    int32_t act_min, act_max;
} md_arith_params;

md_status md_arith_int(const md_arith_params *p, const md_broadcast *shape, const void *input1, const void *input2,
                       void *output);

typedef struct {
    md_arith_op op;
    float act_low;
    float act_high;
} md_arith_f32_params;

md_status md_arith_f32(const md_arith_f32_params *p, const md_broadcast *shape, const float *input1,
                       const float *input2, float *output);

#endif /* MD_ELEMENTWISE_H */
