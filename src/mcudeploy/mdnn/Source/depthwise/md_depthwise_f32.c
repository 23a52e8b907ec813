/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: float32 DEPTHWISE_CONV_2D (see md_nn.h).
 *
 * Each output adds its products tap by tap from 0 in (filter row, filter column)
 * order, then the bias. Taps outside the image are skipped: adding the reference's
 * 0 * w to a sum that starts at +0 never changes it.
 */
#include "md_nn_support.h"

typedef struct {
    const md_window_params *p;
    const float *filter;
    const float *bias;
    float act_low;
    float act_high;
    float *output;
} depthwise_float_job;

static void compute_channel_f32(void *context, const void *source, int32_t base, int32_t stride, int32_t oy,
                                int32_t ox, int32_t channel, int32_t out_index)
{
    const depthwise_float_job *job = (const depthwise_float_job *)context;
    const md_window_params *p = job->p;
    const int32_t multiplier = p->output_c / p->input_c;
    const md_taps taps = md_window_taps(p, oy, ox);
    float sums[MD_DEPTHWISE_CHUNK];
    int32_t first;
    int32_t m;
    int32_t fy;
    int32_t fx;
    for (first = 0; first < multiplier; first += MD_DEPTHWISE_CHUNK) {
        const int32_t count = md_min_i32(MD_DEPTHWISE_CHUNK, multiplier - first);
        const int32_t first_oc = channel * multiplier + first;
        for (m = 0; m < count; ++m) {
            sums[m] = 0.0f;
        }
        for (fy = taps.y_first; fy < taps.y_last; ++fy) {
            for (fx = taps.x_first; fx < taps.x_last; ++fx) {
                const int32_t pixel = md_taps_pixel(p, &taps, fy, fx);
                const float *weights = job->filter + (fy * p->filter_w + fx) * p->output_c + first_oc;
                const float value = ((const float *)source)[base + pixel * stride];
                for (m = 0; m < count; ++m) {
                    sums[m] += value * weights[m];
                }
            }
        }
        for (m = 0; m < count; ++m) {
            const float acc = job->bias ? sums[m] + job->bias[first_oc + m] : sums[m];
            job->output[out_index + first + m] = md_clamp_f32(acc, job->act_low, job->act_high);
        }
    }
}

md_status md_depthwise_f32(const md_window_params *p, const float *input, const float *filter, const float *bias,
                           float act_low, float act_high, float *output, float *scratch)
{
    depthwise_float_job job;
    job.p = p;
    job.filter = filter;
    job.bias = bias;
    job.act_low = act_low;
    job.act_high = act_high;
    job.output = output;
    if (scratch) {
        md_window_planes(p, &job, compute_channel_f32, input, (int32_t)sizeof(float), scratch);
    } else {
        md_window_stream(p, &job, compute_channel_f32, input);
    }
    return MD_OK;
}
