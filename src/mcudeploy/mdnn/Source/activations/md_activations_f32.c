/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: float32 activations (see md_nn.h). */
#include <math.h>

#include "md_nn_support.h"

static float activation(const md_activation_f32_params *p, float x)
{
    float clipped;
    switch (p->function) {
    case MD_RELU_F32:
        clipped = x < p->low ? p->low : x; /* keeps NaN and -0.0, as the reference comparisons */
        return clipped > p->high ? p->high : clipped;
    case MD_LEAKY_RELU_F32:
        return x > 0.0f ? x : x * p->alpha;
    case MD_HARD_SWISH_F32:
        clipped = x + 3.0f;
        clipped = clipped < 0.0f ? 0.0f : (clipped > 6.0f ? 6.0f : clipped);
        return x * clipped / 6.0f;
    case MD_LOGISTIC_F32:
        if (x > 16.619047164916992188f) {
            return 1.0f;
        }
        return x < -9.0f ? expf(x) : 1.0f / (1.0f + expf(-x));
    default:
        return tanhf(x);
    }
}

md_status md_activation_f32_run(const md_activation_f32_params *p, const float *input, float *output)
{
    int32_t i;
    for (i = 0; i < p->count; ++i) {
        output[i] = activation(p, input[i]);
    }
    return MD_OK;
}
