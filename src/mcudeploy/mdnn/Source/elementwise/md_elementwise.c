/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: broadcasting and integer ADD, SUB, MUL, portable C (see md_nn.h). */
#include "md_elementwise_int.h"

#if !MD_PATH_DSP && !MD_PATH_MVE /* the ISA path this build takes: md_nn_support.h */

MD_PATH_SYMBOL(md_path_elementwise_portable);

void md_broadcast_rows(const md_broadcast *shape, const void *params, md_row_fn row, const void *input1,
                       const void *input2, void *output)
{
    md_broadcast_rows_portable(shape, params, row, input1, input2, output);
}

md_status md_arith_int(const md_arith_params *p, const md_broadcast *shape, const void *input1, const void *input2,
                       void *output)
{
    if (!md_add_sub_s8_tabled(p, shape, input1, input2, output, add_sub_fill_table, add_sub_row_tabled)) {
        md_broadcast_rows(shape, p, md_arith_row_portable, input1, input2, output);
    }
    return MD_OK;
}

#endif /* !MD_PATH_DSP && !MD_PATH_MVE */
