/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: the portable integer DEPTHWISE_CONV_2D kernel (see md_nn.h),
 * shared by md_depthwise.c and its variants. */
#ifndef MD_DEPTHWISE_INT_H
#define MD_DEPTHWISE_INT_H

#include <string.h>

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

/* ---- 16x8 on the DSP and Helium paths (md_depthwise_s16_dsp.c, md_depthwise_s16_mve.c): depth
 * multiplier 1, input offset 0 (int16 zero points are 0); the others run the portable kernel. */

static inline int depthwise_s16_fast(const md_window_params *p)
{
    return p->output_c == p->input_c && p->input_offset == 0;
}

/* Whether the layer's sums need int64 (md_s16_sums_fit_int32 over each channel's taps). */
static inline int depthwise_s16_wide(const md_window_params *p, const int8_t *filter)
{
    return p->accumulator64 && !md_s16_sums_fit_int32(filter, p->output_c, p->filter_h * p->filter_w, 1, p->output_c);
}

/* md_requantize_sum for the sums of one channel, its constants fetched and derived once for the
 * channel's whole plane. */
typedef struct {
    int64_t bias;    /* 0 without */
    int64_t reduced; /* accumulator64: md_multiplier16 of the multiplier */
    int32_t multiplier, shift;
    int32_t offset, low, high;
    int32_t accumulator64;
} dw_s16_requant;

static inline dw_s16_requant dw_s16_requant_of(const depthwise_int_job *job, int32_t channel)
{
    const md_window_params *p = job->p;
    const int32_t q = p->per_channel ? channel : 0;
    dw_s16_requant r;
    r.accumulator64 = p->accumulator64;
    r.bias = job->bias == NULL ? 0
             : r.accumulator64 ? ((const int64_t *)job->bias)[channel]
                               : ((const int32_t *)job->bias)[channel];
    r.multiplier = job->multipliers[q];
    r.shift = job->shifts[q];
    r.reduced = md_multiplier16(r.multiplier);
    r.offset = p->output_offset;
    r.low = p->act_min;
    r.high = p->act_max;
    return r;
}

static inline int16_t dw_s16_requantize(const dw_s16_requant *r, int64_t sum)
{
    if (r->accumulator64) {
        const int32_t scaled = md_mbqm64_reduced(md_wrap_add64(sum, r->bias), r->reduced, 15 - r->shift);
        return (int16_t)md_clamp_i32(md_wrap_add(scaled, r->offset), r->low, r->high);
    }
    return (int16_t)md_requantize32(md_wrap_add((int32_t)(uint32_t)(uint64_t)sum, (int32_t)r->bias), r->multiplier,
                                    r->shift, r->offset, r->low, r->high);
}

/* The taps of an output pixel's window inside the image, as strides (streaming order): tap (row r,
 * column t) of channel c reads image[value + r * value_row + t * value_column + c] and weighs it by
 * filter[weight + r * weight_row + t * channels + c]. */
typedef struct {
    int32_t value, value_row, value_column;
    int32_t weight, weight_row;
    int32_t rows, columns;
} dw_window;

static inline dw_window dw_window_of(const md_window_params *p, int32_t oy, int32_t ox)
{
    const md_taps taps = md_window_taps(p, oy, ox);
    const int32_t channels = p->input_c;
    dw_window w;
    w.value = md_taps_pixel(p, &taps, taps.y_first, taps.x_first) * channels;
    w.value_row = p->dilation_h * p->input_w * channels;
    w.value_column = p->dilation_w * channels;
    w.weight = (taps.y_first * p->filter_w + taps.x_first) * channels;
    w.weight_row = p->filter_w * channels;
    w.rows = taps.y_last - taps.y_first;
    w.columns = taps.x_last - taps.x_first;
    return w;
}

/* A channel plane with the padding its windows reach (zeros: the padding adds nothing), `width`
 * values a row: the window of output pixel (oy, ox) starts at row oy * stride_h, column ox * stride_w. */
typedef struct {
    int16_t *values;
    int32_t rows, width;
} dw_s16_plane;

/* Output plane `channel` of one batch (`out` at its first output) from its copied input plane. */
typedef void (*dw_s16_plane_fn)(const depthwise_int_job *job, const dw_s16_plane *plane, int32_t channel,
                                int16_t *out);

/* The channel-plane loop order the memory contract declares: plane c copied, then output plane c. */
static inline void depthwise_s16_planes(const depthwise_int_job *job, const int16_t *input, int16_t *scratch,
                                        dw_s16_plane_fn compute)
{
    const md_window_params *p = job->p;
    const int32_t channels = p->input_c;
    dw_s16_plane plane;
    int32_t batch;
    int32_t c;
    int32_t y;
    int32_t x;
    plane.values = scratch;
    plane.rows = md_padded_extent(p->input_h, p->output_h, p->stride_h, p->pad_top, p->filter_h, p->dilation_h);
    plane.width = md_padded_extent(p->input_w, p->output_w, p->stride_w, p->pad_left, p->filter_w, p->dilation_w);
    memset(scratch, 0, (size_t)(plane.rows * plane.width) * sizeof(int16_t) + MD_PLANE_SLACK);
    for (batch = 0; batch < p->batches; ++batch) {
        const int16_t *image = input + batch * p->input_h * p->input_w * channels;
        int16_t *out = (int16_t *)job->output + batch * p->output_h * p->output_w * channels;
        for (c = 0; c < channels; ++c) {
            for (y = 0; y < p->input_h; ++y) {
                int16_t *row = plane.values + (y + p->pad_top) * plane.width + p->pad_left;
                const int16_t *from = image + y * p->input_w * channels + c;
                for (x = 0; x < p->input_w; ++x) {
                    row[x] = from[x * channels];
                }
            }
            compute(job, &plane, c, out + c);
        }
    }
}

static inline depthwise_int_job depthwise_s16_job(const md_window_params *p, const int8_t *filter, const int64_t *bias,
                                                  const int32_t *multipliers, const int32_t *shifts, int16_t *output)
{
    depthwise_int_job job;
    job.p = p;
    job.dtype = MD_INT16;
    job.filter = filter;
    job.bias = bias;
    job.multipliers = multipliers;
    job.shifts = shifts;
    job.output = output;
    return job;
}

#endif /* MD_DEPTHWISE_INT_H */
