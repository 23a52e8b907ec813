/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: integer requantization (see md_nn.h). */
#include "md_nn_support.h"


md_status md_requantize(const md_quantize_params *p, const void *input, void *output)
{
    int32_t i;
    for (i = 0; i < p->count; ++i) {
        const int32_t centered = md_wrap_sub(md_load(input, i, p->input_dtype), p->input_zero_point);
        const int32_t scaled = md_wrap_add(md_mbqm(centered, p->multiplier, p->shift), p->output_zero_point);
        md_store_saturated(output, i, p->output_dtype, scaled);
    }
    return MD_OK;
}
