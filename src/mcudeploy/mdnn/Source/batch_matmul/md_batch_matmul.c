/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: BATCH_MATMUL (see md_nn.h): float32, and int8 and int16 in portable C. */
#include "md_batch_matmul_int.h"

#if !MD_PATH_DSP && !MD_PATH_MVE /* the ISA path this build takes: md_nn_support.h */

MD_PATH_SYMBOL(md_path_batch_matmul_portable);

md_status md_batch_matmul_s8(const md_batch_matmul_params *p, const md_broadcast *batches, const int8_t *lhs,
                             const int8_t *rhs, int8_t *output)
{
    md_broadcast_rows(batches, p, md_matmul_s8_portable, lhs, rhs, output);
    return MD_OK;
}

md_status md_batch_matmul_s16(const md_batch_matmul_params *p, const md_broadcast *batches, const int16_t *lhs,
                              const int16_t *rhs, int16_t *output)
{
    md_broadcast_rows(batches, p, md_matmul_s16_portable, lhs, rhs, output);
    return MD_OK;
}

#endif /* !MD_PATH_DSP && !MD_PATH_MVE */

MD_MATMUL_ROW(matmul_f32, float, {
    float acc = 0.0f;
    for (k = 0; k < p->depth; ++k) {
        acc += MD_LHS(k) * MD_RHS(k);
    }
    *result++ = acc;
})

md_status md_batch_matmul_f32(const md_batch_matmul_params *p, const md_broadcast *batches, const float *lhs,
                              const float *rhs, float *output)
{
    md_broadcast_rows(batches, p, matmul_f32, lhs, rhs, output);
    return MD_OK;
}
