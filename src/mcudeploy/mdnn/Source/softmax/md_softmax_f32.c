/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: float32 SOFTMAX (see md_nn.h): exp((x - max) * beta) summed
 * in order, each divided by the sum; LOG_SOFTMAX: x - max - log of that sum (beta 1). */
#include <math.h>

#include "md_nn_support.h"

md_status md_softmax_f32(const md_softmax_params *p, float beta, const float *input, float *output)
{
    int32_t r;
    int32_t j;
    for (r = 0; r < p->rows; ++r) {
        const float *row = input + r * p->depth;
        float largest = row[0];
        float sum = 0.0f;
        for (j = 1; j < p->depth; ++j) {
            largest = row[j] > largest ? row[j] : largest;
        }
        for (j = 0; j < p->depth; ++j) {
            sum += expf((row[j] - largest) * beta);
        }
        for (j = 0; j < p->depth; ++j) {
            output[r * p->depth + j] = expf((row[j] - largest) * beta) / sum;
        }
    }
    return MD_OK;
}

md_status md_log_softmax_f32(const md_softmax_params *p, const float *input, float *output)
{
    int32_t r;
    int32_t j;
    for (r = 0; r < p->rows; ++r) {
        const float *row = input + r * p->depth;
        float largest = row[0];
        float sum = 0.0f;
        float log_sum;
        for (j = 1; j < p->depth; ++j) {
            largest = row[j] > largest ? row[j] : largest;
        }
        for (j = 0; j < p->depth; ++j) {
            sum += expf(row[j] - largest);
        }
        log_sum = logf(sum);
        for (j = 0; j < p->depth; ++j) {
            output[r * p->depth + j] = row[j] - largest - log_sum;
        }
    }
    return MD_OK;
}
