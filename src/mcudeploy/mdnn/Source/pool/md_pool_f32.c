/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: float32 pooling (see md_nn.h). Sums in tap order, as the reference. */
#include <float.h>
#include <math.h>

#include "md_nn_support.h"

typedef struct {
    const md_window_params *p;
    float act_low;
    float act_high;
    float *output;
} pool_float_job;

static void average_channel(void *context, const void *source, int32_t base, int32_t stride, int32_t oy, int32_t ox,
                            int32_t channel, int32_t out_index)
{
    const pool_float_job *job = (const pool_float_job *)context;
    const md_window_params *p = job->p;
    const md_taps taps = md_window_taps(p, oy, ox);
    const int32_t count = (taps.y_last - taps.y_first) * (taps.x_last - taps.x_first); /* taps inside */
    float total = 0.0f;
    int32_t fy;
    int32_t fx;
    (void)channel;
    for (fy = taps.y_first; fy < taps.y_last; ++fy) {
        for (fx = taps.x_first; fx < taps.x_last; ++fx) {
            const int32_t pixel = md_taps_pixel(p, &taps, fy, fx);
            total += ((const float *)source)[base + pixel * stride];
        }
    }
    job->output[out_index] = md_clamp_f32(total / (float)count, job->act_low, job->act_high);
}

static void l2_channel(void *context, const void *source, int32_t base, int32_t stride, int32_t oy, int32_t ox,
                       int32_t channel, int32_t out_index)
{
    const pool_float_job *job = (const pool_float_job *)context;
    const md_window_params *p = job->p;
    const md_taps taps = md_window_taps(p, oy, ox);
    const int32_t count = (taps.y_last - taps.y_first) * (taps.x_last - taps.x_first); /* taps inside */
    float squares = 0.0f;
    int32_t fy;
    int32_t fx;
    (void)channel;
    for (fy = taps.y_first; fy < taps.y_last; ++fy) {
        for (fx = taps.x_first; fx < taps.x_last; ++fx) {
            const float value = ((const float *)source)[base + md_taps_pixel(p, &taps, fy, fx) * stride];
            squares += value * value;
        }
    }
    job->output[out_index] = md_clamp_f32(sqrtf(squares / (float)count), job->act_low, job->act_high);
}

static void max_channel(void *context, const void *source, int32_t base, int32_t stride, int32_t oy, int32_t ox,
                        int32_t channel, int32_t out_index)
{
    const pool_float_job *job = (const pool_float_job *)context;
    const md_window_params *p = job->p;
    const md_taps taps = md_window_taps(p, oy, ox);
    float largest = -FLT_MAX;
    int32_t fy;
    int32_t fx;
    (void)channel;
    for (fy = taps.y_first; fy < taps.y_last; ++fy) {
        for (fx = taps.x_first; fx < taps.x_last; ++fx) {
            const int32_t pixel = md_taps_pixel(p, &taps, fy, fx);
            const float value = ((const float *)source)[base + pixel * stride];
            largest = value > largest ? value : largest; /* NaN never wins, as fmax */
        }
    }
    job->output[out_index] = md_clamp_f32(largest, job->act_low, job->act_high);
}

static void pool_f32(const md_window_params *p, const float *input, float act_low, float act_high, float *output,
                     md_channel_fn compute)
{
    pool_float_job job;
    job.p = p;
    job.act_low = act_low;
    job.act_high = act_high;
    job.output = output;
    md_window_stream(p, &job, compute, input);
}

md_status md_average_pool_f32(const md_window_params *p, const float *input, float act_low, float act_high,
                              float *output)
{
    pool_f32(p, input, act_low, act_high, output, average_channel);
    return MD_OK;
}

md_status md_max_pool_f32(const md_window_params *p, const float *input, float act_low, float act_high, float *output)
{
    pool_f32(p, input, act_low, act_high, output, max_channel);
    return MD_OK;
}

md_status md_l2_pool_f32(const md_window_params *p, const float *input, float act_low, float act_high, float *output)
{
    pool_f32(p, input, act_low, act_high, output, l2_channel);
    return MD_OK;
}
