/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: the portable BATCH_MATMUL kernels (see md_nn.h), shared by
 * md_batch_matmul.c and its variants. */
#ifndef MD_BATCH_MATMUL_INT_H
#define MD_BATCH_MATMUL_INT_H

#include "md_nn_support.h"

/* A md_row_fn: `count` output matrices from matrix `out` on, operand matrices from `index1` /
 * `index2` on with steps `step1` / `step2`, each computed by `call`, a statement on `p`, `lhs`, `rhs`
 * and `result` (the matrices' first values, of `type`). */
#define MD_MATMUL_MATRICES(name, type, call)                                                                        \
    static inline void name(const void *params, const void *input1, int32_t index1, int32_t step1,                 \
                            const void *input2, int32_t index2, int32_t step2, void *output, int32_t out,           \
                            int32_t count)                                                                          \
    {                                                                                                               \
        const md_batch_matmul_params *p = (const md_batch_matmul_params *)params;                                   \
        const size_t lhs_size = (size_t)p->rows * p->depth;                                                         \
        const size_t rhs_size = (size_t)p->depth * p->cols;                                                         \
        const size_t out_size = (size_t)p->rows * p->cols;                                                          \
        int32_t m;                                                                                                  \
        for (m = 0; m < count; ++m) {                                                                               \
            const type *lhs = (const type *)input1 + (size_t)(index1 + m * step1) * lhs_size;                       \
            const type *rhs = (const type *)input2 + (size_t)(index2 + m * step2) * rhs_size;                       \
            type *result = (type *)output + (size_t)(out + m) * out_size;                                           \
            call;                                                                                                   \
        }                                                                                                           \
    }

/* The portable kernels' md_row_fn: row by row, `body` giving each output value from lhs_row and
 * rhs_col (read through MD_LHS and MD_RHS) and storing it at *result++. */
#define MD_MATMUL_ROW(name, type, body)                                                                             \
    MD_MATMUL_MATRICES(name, type, {                                                                                \
        int32_t i;                                                                                                  \
        int32_t j;                                                                                                  \
        int32_t k;                                                                                                  \
        for (i = 0; i < p->rows; ++i) {                                                                             \
            const type *lhs_row = lhs + (size_t)i * p->lhs_row_step;                                                \
            for (j = 0; j < p->cols; ++j) {                                                                         \
                const type *rhs_col = rhs + (size_t)j * p->rhs_col_step;                                            \
                body                                                                                                \
            }                                                                                                       \
        }                                                                                                           \
    })

#define MD_LHS(k) lhs_row[(size_t)(k) * p->lhs_depth_step]
#define MD_RHS(k) rhs_col[(size_t)(k) * p->rhs_depth_step]

MD_MATMUL_ROW(md_matmul_s8_portable, int8_t, {
    uint32_t acc = 0u; /* int32 arithmetic that wraps */
    for (k = 0; k < p->depth; ++k) {
        acc += (uint32_t)(((int32_t)MD_LHS(k) + p->lhs_offset) * ((int32_t)MD_RHS(k) + p->rhs_offset));
    }
    *result++ = (int8_t)md_requantize32((int32_t)acc, p->multiplier, p->shift, p->output_offset, p->act_min,
                                        p->act_max);
})

MD_MATMUL_ROW(md_matmul_s16_portable, int16_t, {
    int64_t acc = 0;
    for (k = 0; k < p->depth; ++k) {
        acc += (int64_t)((int32_t)MD_LHS(k) * (int32_t)MD_RHS(k));
    }
    *result++ = (int16_t)md_requantize64(acc, p->multiplier, p->shift, 0, p->act_min, p->act_max);
})

#endif /* MD_BATCH_MATMUL_INT_H */
