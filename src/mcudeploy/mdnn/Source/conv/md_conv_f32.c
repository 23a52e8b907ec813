/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: float32 and hybrid CONV_2D (see md_nn.h).
 *
 * Float sums add the products one at a time in (filter row, filter column,
 * channel) order from 0, then the bias, as the reference kernels do.
 */
#include <math.h>
#include <string.h>

#include "md_nn_support.h"

typedef struct {
    const md_window_params *p;
    const float *input;
    const void *filter;
    const float *bias;
    float act_low;
    float act_high;
    float *output;
    float inverse_scale; /* hybrid: 127 / max|x| (0 when the input is all zeros) */
    float sum_scale;     /* hybrid: input scale * filter scale */
    int32_t whole_blocks; /* hybrid: input values rounded blockwise (a multiple of 8) */
} conv_float_job;

/* ---- float32 ---- */

/* Writes the `count` 4-byte column values of one in-image tap starting at input index `first`. */
typedef void (*tap_writer)(const conv_float_job *job, int32_t first, int32_t count, void *values);

/* The receptive field of one output pixel as a column of 4-byte values; taps in the padding are 0
 * (all-zero bits are 0.0f and 0 alike). */
static void fill_column_words(const conv_float_job *job, int32_t batch, int32_t oy, int32_t ox, void *column,
                              tap_writer write_tap)
{
    const md_window_params *p = job->p;
    uint8_t *values = (uint8_t *)column;
    const size_t tap_bytes = (size_t)p->input_c * 4u;
    int32_t fy;
    int32_t fx;
    for (fy = 0; fy < p->filter_h; ++fy) {
        for (fx = 0; fx < p->filter_w; ++fx) {
            const int32_t first = md_tap_index(p, batch, oy, ox, fy, fx);
            if (first >= 0) {
                write_tap(job, first, p->input_c, values);
            } else {
                memset(values, 0, tap_bytes);
            }
            values += tap_bytes;
        }
    }
}

static void copy_tap_f32(const conv_float_job *job, int32_t first, int32_t count, void *values)
{
    memcpy(values, job->input + first, (size_t)count * sizeof(float));
}

static void fill_column_f32(void *context, int32_t batch, int32_t oy, int32_t ox, void *column)
{
    fill_column_words((const conv_float_job *)context, batch, oy, ox, column, copy_tap_f32);
}

/* The bias added to the finished sum, then the clamp. */
static void store_float(const conv_float_job *job, int32_t pixel, int32_t oc, float acc)
{
    const md_window_params *p = job->p;
    if (job->bias) {
        acc += job->bias[oc];
    }
    job->output[pixel * p->output_c + oc] = md_clamp_f32(acc, job->act_low, job->act_high);
}

static void compute_pixel_f32(void *context, const void *column, int32_t pixel)
{
    const conv_float_job *job = (const conv_float_job *)context;
    const md_window_params *p = job->p;
    const int32_t taps = p->filter_h * p->filter_w;
    const int32_t filters_per_group = p->output_c / (p->input_c / p->filter_c);
    int32_t oc;
    int32_t tap;
    int32_t k;
    for (oc = 0; oc < p->output_c; ++oc) {
        const float *start = (const float *)column + (oc / filters_per_group) * p->filter_c;
        const float *weights = (const float *)job->filter + oc * taps * p->filter_c;
        float acc = 0.0f;
        for (tap = 0; tap < taps; ++tap) {
            for (k = 0; k < p->filter_c; ++k) {
                acc += start[tap * p->input_c + k] * weights[tap * p->filter_c + k];
            }
        }
        store_float(job, pixel, oc, acc);
    }
}

/* Straight from the input: taps outside the image are skipped (adding 0 * w to a sum that
 * starts at +0 never changes it). */
static void compute_direct_f32(void *context, int32_t batch, int32_t oy, int32_t ox, int32_t pixel)
{
    const conv_float_job *job = (const conv_float_job *)context;
    const md_window_params *p = job->p;
    const int32_t filters_per_group = p->output_c / (p->input_c / p->filter_c);
    int32_t oc;
    int32_t fy;
    int32_t fx;
    int32_t k;
    for (oc = 0; oc < p->output_c; ++oc) {
        const int32_t group_start = (oc / filters_per_group) * p->filter_c;
        const float *weights = (const float *)job->filter + oc * p->filter_h * p->filter_w * p->filter_c;
        float acc = 0.0f;
        for (fy = 0; fy < p->filter_h; ++fy) {
            for (fx = 0; fx < p->filter_w; ++fx) {
                const int32_t first = md_tap_index(p, batch, oy, ox, fy, fx);
                const float *tap_weights = weights + (fy * p->filter_w + fx) * p->filter_c;
                for (k = 0; first >= 0 && k < p->filter_c; ++k) {
                    acc += job->input[first + group_start + k] * tap_weights[k];
                }
            }
        }
        store_float(job, pixel, oc, acc);
    }
}

static void init_job(conv_float_job *job, const md_window_params *p, const float *input, const void *filter,
                     const float *bias, float act_low, float act_high, float *output)
{
    job->p = p;
    job->input = input;
    job->filter = filter;
    job->bias = bias;
    job->act_low = act_low;
    job->act_high = act_high;
    job->output = output;
    job->inverse_scale = 0.0f;
    job->sum_scale = 0.0f;
    job->whole_blocks = 0;
}

static size_t column_bytes(const md_window_params *p, size_t element_bytes)
{
    return (size_t)(p->filter_h * p->filter_w * p->input_c) * element_bytes;
}

md_status md_conv_f32(const md_window_params *p, const float *input, const float *filter, const float *bias,
                      float act_low, float act_high, float *output, float *scratch)
{
    conv_float_job job;
    md_conv_kernel kernel;
    init_job(&job, p, input, filter, bias, act_low, act_high, output);
    kernel.fill = fill_column_f32;
    kernel.compute = compute_pixel_f32;
    kernel.direct = compute_direct_f32;
    kernel.column_bytes = column_bytes(p, sizeof(float));
    md_conv_run(p, &job, &kernel, scratch);
    return MD_OK;
}

/* ---- hybrid: float32 activations, int8 filter ---- */

/* The symmetric int8 value of x, rounded as LiteRT's vectorised quantizer does: values in whole
 * blocks of 8 add +-0.5 and truncate, the tail rounds half away from zero. Clamped before the
 * conversion (the same result as after it); a NaN (an infinite input times a zero inverse scale)
 * gives 0, as the float-to-integer conversions of Cortex-M and NEON do. */
static int32_t quantize_symmetric(const conv_float_job *job, int32_t index)
{
    const float product = job->input[index] * job->inverse_scale;
    if (!(product > -127.0f)) {
        return product != product ? 0 : -127;
    }
    if (product >= 127.0f) {
        return 127;
    }
    return (int32_t)(index < job->whole_blocks ? (float)(int32_t)(product + (product < 0.0f ? -0.5f : 0.5f))
                                               : roundf(product));
}

static void quantize_tap(const conv_float_job *job, int32_t first, int32_t count, void *values)
{
    int32_t *quantized = (int32_t *)values;
    int32_t c;
    for (c = 0; c < count; ++c) {
        quantized[c] = quantize_symmetric(job, first + c);
    }
}

static void fill_column_hybrid(void *context, int32_t batch, int32_t oy, int32_t ox, void *column)
{
    fill_column_words((const conv_float_job *)context, batch, oy, ox, column, quantize_tap);
}

/* The integer sum scaled back to float32, then the bias and the clamp. */
static void store_hybrid(const conv_float_job *job, int32_t pixel, int32_t oc, int32_t sum)
{
    store_float(job, pixel, oc, (float)sum * job->sum_scale);
}

static void compute_pixel_hybrid(void *context, const void *column, int32_t pixel)
{
    const conv_float_job *job = (const conv_float_job *)context;
    const md_window_params *p = job->p;
    const int32_t depth = p->filter_h * p->filter_w * p->input_c;
    int32_t oc;
    int32_t k;
    for (oc = 0; oc < p->output_c; ++oc) {
        const int8_t *weights = (const int8_t *)job->filter + oc * depth;
        int32_t sum = 0;
        for (k = 0; k < depth; ++k) {
            sum += ((const int32_t *)column)[k] * weights[k];
        }
        store_hybrid(job, pixel, oc, sum);
    }
}

static void compute_direct_hybrid(void *context, int32_t batch, int32_t oy, int32_t ox, int32_t pixel)
{
    const conv_float_job *job = (const conv_float_job *)context;
    const md_window_params *p = job->p;
    int32_t oc;
    int32_t fy;
    int32_t fx;
    int32_t c;
    for (oc = 0; oc < p->output_c; ++oc) {
        const int8_t *weights = (const int8_t *)job->filter + oc * p->filter_h * p->filter_w * p->input_c;
        int32_t sum = 0;
        for (fy = 0; fy < p->filter_h; ++fy) {
            for (fx = 0; fx < p->filter_w; ++fx) {
                const int32_t first = md_tap_index(p, batch, oy, ox, fy, fx);
                const int8_t *tap_weights = weights + (fy * p->filter_w + fx) * p->input_c;
                for (c = 0; first >= 0 && c < p->input_c; ++c) {
                    sum += quantize_symmetric(job, first + c) * tap_weights[c];
                }
            }
        }
        store_hybrid(job, pixel, oc, sum);
    }
}

md_status md_conv_hybrid_f32(const md_window_params *p, const float *input, const int8_t *filter, float filter_scale,
                             const float *bias, float act_low, float act_high, float *output, int32_t *scratch)
{
    const int32_t count = p->input_h * p->input_w * p->input_c;
    float low = input[0];
    float high = input[0];
    float range;
    int32_t i;
    conv_float_job job;
    md_conv_kernel kernel;
    for (i = 1; i < count; ++i) {
        low = input[i] < low ? input[i] : low;
        high = input[i] > high ? input[i] : high;
    }
    range = fabsf(low) > fabsf(high) ? fabsf(low) : fabsf(high);
    init_job(&job, p, input, filter, bias, act_low, act_high, output);
    job.inverse_scale = range != 0.0f ? 127.0f / range : 0.0f;
    job.sum_scale = (range != 0.0f ? range / 127.0f : 1.0f) * filter_scale;
    job.whole_blocks = count & ~7;
    kernel.fill = fill_column_hybrid;
    kernel.compute = compute_pixel_hybrid;
    kernel.direct = compute_direct_hybrid;
    kernel.column_bytes = column_bytes(p, sizeof(int32_t));
    md_conv_run(p, &job, &kernel, scratch);
    return MD_OK;
}
