/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: float32 SVDF (see md_nn.h), each sum in TFLM's order. */
#include <string.h>

#include "md_nn_support.h"

md_status md_svdf_f32(const md_svdf_params *p, float low, float high, const float *input, const float *features,
                      const float *time_weights, const float *bias, float *state, float *output)
{
    const int32_t values = p->batches * p->filters * p->memory;
    int32_t b;
    int32_t f;
    int32_t u;
    int32_t j;
    if (values > 1) {
        memmove(state, state + 1, (size_t)(values - 1) * sizeof *state);
    }
    for (b = 0; b < p->batches; ++b) {
        const float *row = input + b * p->input_size;
        float *batch_state = state + b * p->filters * p->memory;
        for (f = 0; f < p->filters; ++f) {
            const float *weights = features + f * p->input_size;
            float sum = 0.0f;
            for (j = 0; j < p->input_size; ++j) {
                sum += weights[j] * row[j];
            }
            batch_state[(f + 1) * p->memory - 1] = sum;
        }
        for (u = 0; u < p->units; ++u) {
            float sum = bias != NULL ? bias[u] : 0.0f;
            for (f = u * p->rank; f < (u + 1) * p->rank; ++f) {
                float filter_sum = 0.0f;
                for (j = 0; j < p->memory; ++j) {
                    filter_sum += time_weights[f * p->memory + j] * batch_state[f * p->memory + j];
                }
                sum += filter_sum;
            }
            output[b * p->units + u] = md_clamp_f32(sum, low, high);
        }
    }
    return MD_OK;
}
