/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: PRELU (see md_nn.h). */
#include "md_nn_support.h"

static void prelu_row(const void *params, const void *input1, int32_t index1, int32_t step1, const void *input2,
                      int32_t index2, int32_t step2, void *output, int32_t out, int32_t count)
{
    const md_prelu_params *p = (const md_prelu_params *)params;
    int32_t i;
    if (p->dtype == MD_FLOAT32) {
        const float *x = (const float *)input1;
        const float *alpha = (const float *)input2;
        for (i = 0; i < count; ++i) {
            const float value = x[index1 + i * step1];
            ((float *)output)[out + i] = value >= 0.0f ? value : value * alpha[index2 + i * step2];
        }
        return;
    }
    for (i = 0; i < count; ++i) {
        const int32_t centred = md_load(input1, index1 + i * step1, p->dtype) + p->input_offset;
        int32_t value;
        if (centred >= 0) {
            value = md_mbqm(centred, p->positive_multiplier, p->positive_shift);
        } else {
            const int32_t alpha = md_load(input2, index2 + i * step2, p->alpha_dtype) + p->alpha_offset;
            value = md_mbqm(centred * alpha, p->negative_multiplier, p->negative_shift);
        }
        md_store_saturated(output, out + i, p->dtype, (int64_t)value + p->output_offset);
    }
}

md_status md_prelu(const md_prelu_params *p, const md_broadcast *shape, const void *input, const void *alpha,
                   void *output)
{
    md_broadcast_rows(shape, p, prelu_row, input, alpha, output);
    return MD_OK;
}
