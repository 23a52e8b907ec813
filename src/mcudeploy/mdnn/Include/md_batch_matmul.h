/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: BATCH_MATMUL (int8, int16, float32).
 *
 * output[..., i, j] = sum over k of lhs'[..., i, k] * rhs'[..., k, j], where lhs' and rhs' are the
 * operands read through element steps (an adjoint operand is read transposed in place, not copied
 * as TFLite Micro does). The batch axes broadcast as md_broadcast describes them, one "element"
 * being a whole matrix. Matrix by matrix, row by row: each output value is summed (k ascending, as
 * the reference kernels do) and written before the next. No scratch; the output must not overlap
 * an operand.
 */
#ifndef MD_BATCH_MATMUL_H
#define MD_BATCH_MATMUL_H

#include "md_elementwise.h"

typedef struct {
    int32_t rows, cols, depth;            /* the output matrix's rows and columns, the summed length */
    int32_t lhs_row_step, lhs_depth_step; /* lhs'[i, k] at i * lhs_row_step + k * lhs_depth_step */
    int32_t rhs_depth_step, rhs_col_step; /* rhs'[k, j] at k * rhs_depth_step + j * rhs_col_step */
    int32_t lhs_offset, rhs_offset;       /* -zero points, added before multiplying */
    int32_t output_offset;                /* the output zero point */
    int32_t multiplier, shift;            /* lhs scale * rhs scale / output scale */
    int32_t act_min, act_max;             /* the output type's range */
} md_batch_matmul_params;

/* int8: an int32 accumulator (wrapping, as TFLite Micro's). */
md_status md_batch_matmul_s8(const md_batch_matmul_params *p, const md_broadcast *batches, const int8_t *lhs,
                             const int8_t *rhs, int8_t *output);

/* int16 (zero points 0): an int64 accumulator. */
md_status md_batch_matmul_s16(const md_batch_matmul_params *p, const md_broadcast *batches, const int16_t *lhs,
                              const int16_t *rhs, int16_t *output);

/* float32; the params' integer fields are unused. */
md_status md_batch_matmul_f32(const md_batch_matmul_params *p, const md_broadcast *batches, const float *lhs,
                              const float *rhs, float *output);

#endif /* MD_BATCH_MATMUL_H */
