/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: float32 reductions (see md_nn.h). Each output adds its values in
 * input order from 0; a maximum or minimum skips NaN, as fmax and fmin. */
#include <float.h>

#include "md_nn_support.h"

typedef struct {
    const float *input;
    float *accumulators;
    int maximum;
} reduce_f32_job;

static void sum_row(const md_reduce_params *p, void *context, int32_t input_index, int32_t output_index,
                    int32_t output_step, int32_t count)
{
    const reduce_f32_job *job = (const reduce_f32_job *)context;
    int32_t i;
    (void)p;
    for (i = 0; i < count; ++i) {
        job->accumulators[output_index + i * output_step] += job->input[input_index + i];
    }
}

static void extreme_row(const md_reduce_params *p, void *context, int32_t input_index, int32_t output_index,
                        int32_t output_step, int32_t count)
{
    const reduce_f32_job *job = (const reduce_f32_job *)context;
    int32_t i;
    (void)p;
    for (i = 0; i < count; ++i) {
        const float value = job->input[input_index + i];
        float *target = &job->accumulators[output_index + i * output_step];
        if (job->maximum ? value > *target : value < *target) {
            *target = value;
        }
    }
}

static void walk(const md_reduce_params *p, const float *input, float *accumulators, float initial, int maximum,
                 md_reduce_row_fn visit)
{
    reduce_f32_job job;
    int32_t o;
    for (o = 0; o < p->output_count; ++o) {
        accumulators[o] = initial;
    }
    job.input = input;
    job.accumulators = accumulators;
    job.maximum = maximum;
    md_reduce_rows(p, &job, visit);
}

md_status md_sum_f32(const md_reduce_params *p, const float *input, float *output)
{
    int32_t o;
    walk(p, input, output, 0.0f, 0, sum_row);
    for (o = 0; p->mean && p->reduced_count > 0 && o < p->output_count; ++o) {
        output[o] /= (float)p->reduced_count;
    }
    return MD_OK;
}

md_status md_extreme_f32(const md_reduce_params *p, const float *input, float *output, int maximum)
{
    walk(p, input, output, maximum ? -FLT_MAX : FLT_MAX, maximum, extreme_row);
    return MD_OK;
}
