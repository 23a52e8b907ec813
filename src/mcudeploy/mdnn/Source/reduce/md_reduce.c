/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: reduction walk and integer reductions (see md_nn.h). */
#include "md_nn_support.h"


void md_reduce_rows(const md_reduce_params *p, void *job, md_reduce_row_fn visit)
{
    const int32_t last = p->rank - 1;
    const int32_t width = p->input_shape[last];
    const int32_t rows = md_shape_size(p->input_shape, last);
    int32_t index[MD_MAX_DIMS] = {0};
    int32_t r;
    int32_t d;
    for (r = 0; r < rows; ++r) {
        int32_t output_index = 0;
        for (d = 0; d < last; ++d) {
            output_index += index[d] * p->output_strides[d];
        }
        visit(p, job, r * width, output_index, p->output_strides[last], width);
        for (d = last - 1; d >= 0; --d) {
            if (++index[d] < p->input_shape[d]) {
                break;
            }
            index[d] = 0;
        }
    }
}

typedef struct {
    const void *input;
    void *accumulators;
    int maximum;
} reduce_job;

static void sum_row(const md_reduce_params *p, void *context, int32_t input_index, int32_t output_index,
                    int32_t output_step, int32_t count)
{
    const reduce_job *job = (const reduce_job *)context;
    uint32_t *sums = (uint32_t *)job->accumulators; /* int32 sums wrap, as the reference's */
    int32_t i;
    for (i = 0; i < count; ++i) {
        const int32_t value = p->dtype == MD_INT16 ? ((const int16_t *)job->input)[input_index + i]
                                                    : ((const int8_t *)job->input)[input_index + i];
        sums[output_index + i * output_step] += (uint32_t)value;
    }
}

md_status md_sum_int(const md_reduce_params *p, const void *input, void *output, int32_t *scratch)
{
    reduce_job job;
    int32_t o;
    const int32_t zero_point_total = md_wrap_mul(p->input_zero_point, p->reduced_count);
    for (o = 0; o < p->output_count; ++o) {
        scratch[o] = 0;
    }
    job.input = input;
    job.accumulators = scratch;
    job.maximum = 0;
    md_reduce_rows(p, &job, sum_row);
    for (o = 0; o < p->output_count; ++o) {
        const int32_t centred = md_wrap_sub(scratch[o], zero_point_total);
        const int64_t value = (int64_t)md_mbqm(centred, p->multiplier, p->shift) + p->output_zero_point;
        if (p->dtype == MD_INT16) {
            ((int16_t *)output)[o] = (int16_t)md_saturate_i64(value, INT16_MIN, INT16_MAX);
        } else {
            ((int8_t *)output)[o] = (int8_t)md_saturate_i64(value, INT8_MIN, INT8_MAX);
        }
    }
    return MD_OK;
}

static void extreme_row(const md_reduce_params *p, void *context, int32_t input_index, int32_t output_index,
                        int32_t output_step, int32_t count)
{
    const reduce_job *job = (const reduce_job *)context;
    int8_t *result = (int8_t *)job->accumulators;
    int32_t i;
    (void)p;
    for (i = 0; i < count; ++i) {
        const int8_t value = ((const int8_t *)job->input)[input_index + i];
        int8_t *target = &result[output_index + i * output_step];
        if (job->maximum ? value > *target : value < *target) {
            *target = value;
        }
    }
}

md_status md_extreme_int8(const md_reduce_params *p, const int8_t *input, int8_t *output, int maximum)
{
    reduce_job job;
    int32_t o;
    for (o = 0; o < p->output_count; ++o) {
        output[o] = maximum ? INT8_MIN : INT8_MAX;
    }
    job.input = input;
    job.accumulators = output;
    job.maximum = maximum;
    md_reduce_rows(p, &job, extreme_row);
    return MD_OK;
}

md_status md_all_bool(const md_reduce_params *p, const uint8_t *input, uint8_t *output)
{
    reduce_job job;
    int32_t o;
    for (o = 0; o < p->output_count; ++o) {
        output[o] = 1u;
    }
    job.input = input;
    job.accumulators = output;
    job.maximum = 0; /* bytes 0 and 1 read as int8: their minimum is the AND */
    md_reduce_rows(p, &job, extreme_row);
    return MD_OK;
}
