/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: float32 FULLY_CONNECTED (see md_nn.h).
 * Products added one at a time from 0 in input order, then the bias, as the reference. */
#include "md_nn_support.h"

md_status md_fully_connected_f32(const md_fully_connected_params *p, const float *input, const float *filter,
                                 const float *bias, float act_low, float act_high, float *output)
{
    int32_t b;
    int32_t o;
    int32_t k;
    for (b = 0; b < p->batches; ++b) {
        const float *row = input + b * p->accum_depth;
        for (o = 0; o < p->output_depth; ++o) {
            const float *weights = filter + o * p->accum_depth;
            float acc = 0.0f;
            for (k = 0; k < p->accum_depth; ++k) {
                acc += row[k] * weights[k];
            }
            if (bias) {
                acc += bias[o];
            }
            output[b * p->output_depth + o] = md_clamp_f32(acc, act_low, act_high);
        }
    }
    return MD_OK;
}
