/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: the portable integer pooling kernels (see md_nn.h), shared by md_pool.c
 * and its variants. */
#ifndef MD_POOL_INT_H
#define MD_POOL_INT_H

#include "md_nn_support.h"

typedef struct {
    const md_window_params *p;
    md_dtype dtype; /* of input and output: MD_INT8 or MD_INT16 */
    void *output;
} pool_int_job;

static inline void store_int(const pool_int_job *job, int32_t index, int32_t value)
{
    md_store_saturated(job->output, index, job->dtype, md_clamp_i32(value, job->p->act_min, job->p->act_max));
}

/* The average of `count` values summing to `total`, rounded half away from zero (with C's
 * truncating division); 0 without values. */
static inline int32_t md_pool_average(int32_t total, int32_t count)
{
    if (count == 0) {
        return 0;
    }
    return total > 0 ? (total + count / 2) / count : -((count / 2 - total) / count);
}

static inline void average_channel(void *context, const void *source, int32_t base, int32_t stride, int32_t oy,
                                   int32_t ox, int32_t channel, int32_t out_index)
{
    const pool_int_job *job = (const pool_int_job *)context;
    const md_window_params *p = job->p;
    const md_taps taps = md_window_taps(p, oy, ox);
    const int32_t count = (taps.y_last - taps.y_first) * (taps.x_last - taps.x_first); /* taps inside */
    int32_t total = 0;
    int32_t fy;
    int32_t fx;
    (void)channel;
    for (fy = taps.y_first; fy < taps.y_last; ++fy) {
        for (fx = taps.x_first; fx < taps.x_last; ++fx) {
            const int32_t pixel = md_taps_pixel(p, &taps, fy, fx);
            total += md_load_activation(source, base + pixel * stride, job->dtype);
        }
    }
    store_int(job, out_index, md_pool_average(total, count));
}

static inline void max_channel(void *context, const void *source, int32_t base, int32_t stride, int32_t oy,
                               int32_t ox, int32_t channel, int32_t out_index)
{
    const pool_int_job *job = (const pool_int_job *)context;
    const md_window_params *p = job->p;
    const md_taps taps = md_window_taps(p, oy, ox);
    int32_t largest = job->dtype == MD_INT16 ? INT16_MIN : INT8_MIN;
    int32_t fy;
    int32_t fx;
    (void)channel;
    for (fy = taps.y_first; fy < taps.y_last; ++fy) {
        for (fx = taps.x_first; fx < taps.x_last; ++fx) {
            const int32_t pixel = md_taps_pixel(p, &taps, fy, fx);
            largest = md_max_i32(largest, md_load_activation(source, base + pixel * stride, job->dtype));
        }
    }
    store_int(job, out_index, largest);
}

static inline void md_pool_portable(const md_window_params *p, const void *input, void *output,
                                    int32_t element_bytes, md_channel_fn compute)
{
    pool_int_job job;
    job.p = p;
    job.dtype = element_bytes == 2 ? MD_INT16 : MD_INT8;
    job.output = output;
    md_window_stream(p, &job, compute, input);
}

#endif /* MD_POOL_INT_H */
