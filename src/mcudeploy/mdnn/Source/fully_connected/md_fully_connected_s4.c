/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: FULLY_CONNECTED with an int4 filter, through the int8 kernel (see md_nn.h). */
#include "md_nn_support.h"

md_status md_fully_connected_s4(const md_fully_connected_params *p, const int8_t *input, const int8_t *filter,
                                const int32_t *bias, const int32_t *multipliers, const int32_t *shifts, int8_t *output,
                                int8_t *scratch)
{
    const int32_t rows = md_fully_connected_s4_block_rows(p);
    md_fully_connected_params block = *p;
    int32_t first;
    int32_t batch;
    block.batches = 1;
    for (first = 0; first < p->output_depth; first += rows) {
        const int32_t step = p->per_channel ? first : 0; /* into the multipliers and shifts */
        block.output_depth = md_min_i32(rows, p->output_depth - first);
        md_unpack_s4(filter, first * p->accum_depth, block.output_depth * p->accum_depth, scratch);
        for (batch = 0; batch < p->batches; ++batch) {
            const md_status status =
                md_fully_connected_s8(&block, input + batch * p->accum_depth, scratch, bias ? bias + first : NULL,
                                      multipliers + step, shifts + step, output + batch * p->output_depth + first);
            if (status != MD_OK) {
                return status;
            }
        }
    }
    return MD_OK;
}
