/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: int8 SVDF (see md_nn.h), with int8 or int16 state. */
#include <string.h>

#include "md_nn_support.h"

static MD_ALWAYS_INLINE int32_t md_svdf_get(const void *values, int32_t index, int is16)
{
    return is16 ? ((const int16_t *)values)[index] : ((const int8_t *)values)[index];
}

/* The newest state value: the clamped feature sum plus the zero point, truncated to the
 * state type as TFLM's store does. */
static MD_ALWAYS_INLINE void md_svdf_set(void *values, int32_t index, int32_t value, int is16)
{
    if (is16) {
        ((int16_t *)values)[index] = (int16_t)value;
    } else {
        ((int8_t *)values)[index] = (int8_t)value;
    }
}

/* One body, compiled once per state type (is16 is a constant in each caller). */
static MD_ALWAYS_INLINE void md_svdf_s8_body(const md_svdf_params *p, const int8_t *input, const int8_t *features,
                                             const void *time_weights, const int32_t *bias, void *state,
                                             int8_t *output, const int is16)
{
    const int32_t element = is16 ? 2 : 1;
    const int32_t values = p->batches * p->filters * p->memory;
    int32_t b;
    int32_t f;
    int32_t u;
    int32_t j;
    if (values > 1) { /* every value one place left; each filter's last place is rewritten below */
        memmove(state, (const uint8_t *)state + element, (size_t)(values - 1) * (size_t)element);
    }
    for (b = 0; b < p->batches; ++b) {
        const int8_t *row = input + b * p->input_size;
        const int32_t batch_state = b * p->filters * p->memory;
        for (f = 0; f < p->filters; ++f) {
            const int8_t *weights = features + f * p->input_size;
            int32_t sum = 0;
            for (j = 0; j < p->input_size; ++j) {
                sum = md_wrap_add(sum, weights[j] * (row[j] - p->input_zero_point));
            }
            sum = md_clamp_i32(md_mbqm(sum, p->feature_multiplier, p->feature_shift), p->state_min, p->state_max);
            md_svdf_set(state, batch_state + (f + 1) * p->memory - 1, p->state_zero_point + sum, is16);
        }
        for (u = 0; u < p->units; ++u) {
            int32_t sum = bias != NULL ? bias[u] : 0;
            for (f = u * p->rank; f < (u + 1) * p->rank; ++f) {
                const int32_t past = batch_state + f * p->memory;
                for (j = 0; j < p->memory; ++j) {
                    const int32_t centred = md_svdf_get(state, past + j, is16) - p->state_zero_point;
                    sum = md_wrap_add(sum, md_wrap_mul(md_svdf_get(time_weights, f * p->memory + j, is16), centred));
                }
            }
            sum = md_mbqm(sum, p->output_multiplier, p->output_shift) + p->output_zero_point;
            output[b * p->units + u] = (int8_t)md_clamp_i32(sum, INT8_MIN, INT8_MAX);
        }
    }
}

md_status md_svdf_s8(const md_svdf_params *p, const int8_t *input, const int8_t *features, const void *time_weights,
                     const int32_t *bias, void *state, int state_is16, int8_t *output)
{
    if (state_is16) {
        md_svdf_s8_body(p, input, features, time_weights, bias, state, output, 1);
    } else {
        md_svdf_s8_body(p, input, features, time_weights, bias, state, output, 0);
    }
    return MD_OK;
}
