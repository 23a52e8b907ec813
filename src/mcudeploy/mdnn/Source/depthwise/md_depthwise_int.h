/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: the portable integer DEPTHWISE_CONV_2D kernel (see md_nn.h),
 * shared by md_depthwise.c and its variants. */
#ifndef MD_DEPTHWISE_INT_H
#define MD_DEPTHWISE_INT_H

#include "md_nn_support.h"

typedef struct {
    const md_window_params *p;
    md_dtype dtype; /* of input and output: MD_INT8 or MD_INT16 */
    const int8_t *filter;
    const void *bias;
    const int32_t *multipliers;
    const int32_t *shifts;
    void *output;
} depthwise_int_job;

static inline int32_t requantize_channel(const depthwise_int_job *job, int32_t oc, int64_t sum)
{
    const md_window_params *p = job->p;
    const int32_t q = p->per_channel ? oc : 0;
    return md_requantize_sum(sum, job->bias, oc, p->accumulator64, job->multipliers[q], job->shifts[q],
                             p->output_offset, p->act_min, p->act_max);
}

/* Sum over the taps inside the image of (input + offset) * filter for output channel `oc` (depth
 * multiplier 1: input channel oc). */
static inline int64_t tap_sum(const depthwise_int_job *job, const void *source, int32_t base, int32_t stride,
                       const md_taps *taps, int32_t oc)
{
    const md_window_params *p = job->p;
    int64_t sum = 0;
    int32_t fy;
    int32_t fx;
    for (fy = taps->y_first; fy < taps->y_last; ++fy) {
        for (fx = taps->x_first; fx < taps->x_last; ++fx) {
            const int32_t pixel = md_taps_pixel(p, taps, fy, fx);
            const int32_t value = md_load_activation(source, base + pixel * stride, job->dtype) + p->input_offset;
            sum += value * job->filter[(fy * p->filter_w + fx) * p->output_c + oc];
        }
    }
    return sum;
}

/* The `count` sums of output channels first_oc .. first_oc + count - 1, fed by one input channel. */
static inline void tap_sums(const depthwise_int_job *job, const void *source, int32_t base, int32_t stride,
                     const md_taps *taps, int32_t first_oc, int32_t count, int64_t *sums)
{
    const md_window_params *p = job->p;
    int32_t m;
    int32_t fy;
    int32_t fx;
    for (m = 0; m < count; ++m) {
        sums[m] = 0;
    }
    for (fy = taps->y_first; fy < taps->y_last; ++fy) {
        for (fx = taps->x_first; fx < taps->x_last; ++fx) {
            const int32_t pixel = md_taps_pixel(p, taps, fy, fx);
            const int32_t value = md_load_activation(source, base + pixel * stride, job->dtype) + p->input_offset;
            const int8_t *weights = job->filter + (fy * p->filter_w + fx) * p->output_c + first_oc;
            for (m = 0; m < count; ++m) {
                sums[m] += value * weights[m];
            }
        }
    }
}

static inline void compute_channel_int(void *context, const void *source, int32_t base, int32_t stride, int32_t oy,
                                int32_t ox, int32_t channel, int32_t out_index)
{
    const depthwise_int_job *job = (const depthwise_int_job *)context;
    const md_window_params *p = job->p;
    const int32_t multiplier = p->output_c / p->input_c;
    const md_taps taps = md_window_taps(p, oy, ox);
    int64_t sums[MD_DEPTHWISE_CHUNK];
    int32_t first;
    int32_t m;
    if (multiplier == 1) { /* the usual case, kept in registers */
        const int64_t sum = tap_sum(job, source, base, stride, &taps, channel);
        md_store_saturated(job->output, out_index, job->dtype, requantize_channel(job, channel, sum));
        return;
    }
    for (first = 0; first < multiplier; first += MD_DEPTHWISE_CHUNK) {
        const int32_t count = md_min_i32(MD_DEPTHWISE_CHUNK, multiplier - first);
        const int32_t first_oc = channel * multiplier + first;
        tap_sums(job, source, base, stride, &taps, first_oc, count, sums);
        for (m = 0; m < count; ++m) {
            const int32_t value = requantize_channel(job, first_oc + m, sums[m]);
            md_store_saturated(job->output, out_index + first + m, job->dtype, value);
        }
    }
}

static inline void depthwise_int(const md_window_params *p, depthwise_int_job *job, const void *input, void *scratch)
{
    if (scratch) {
        md_window_planes(p, job, compute_channel_int, input, job->dtype == MD_INT16 ? 2 : 1, scratch);
    } else {
        md_window_stream(p, job, compute_channel_int, input);
    }
}

/* The portable integer depthwise convolution of `dtype` (MD_INT8 or MD_INT16) activations. */
static inline void md_depthwise_portable(const md_window_params *p, const void *input, md_dtype dtype,
                                         const int8_t *filter, const void *bias, const int32_t *multipliers,
                                         const int32_t *shifts, void *output, void *scratch)
{
    depthwise_int_job job;
    job.p = p;
    job.dtype = dtype;
    job.filter = filter;
    job.bias = bias;
    job.multipliers = multipliers;
    job.shifts = shifts;
    job.output = output;
    depthwise_int(p, &job, input, scratch);
}

#endif /* MD_DEPTHWISE_INT_H */
