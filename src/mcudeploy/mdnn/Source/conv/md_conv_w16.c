/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: CONV_2D int8 with the filter pre-expanded to int16 in flash, portable C
 * (see md_nn.h). The same sums as md_conv_s8, so the same outputs bit for bit. */
#include "md_conv_int.h"

typedef struct {
    conv_int_job base; /* its filter unused */
    const int16_t *filter;
} conv_w16_job;

/* Every output channel of one pixel from its column (input_c values per tap, plus the input offset). */
static void compute_pixel_w16(void *context, const void *column, int32_t pixel)
{
    const conv_w16_job *job = (const conv_w16_job *)context;
    const md_window_params *p = job->base.p;
    const int32_t depth = p->filter_h * p->filter_w * p->input_c;
    const int16_t *values = (const int16_t *)column;
    int32_t oc;
    int32_t k;
    for (oc = 0; oc < p->output_c; ++oc) {
        uint32_t sum = 0; /* the int32 accumulator, wrapping */
        for (k = 0; k < depth; ++k) {
            sum += (uint32_t)(values[k] * job->filter[md_w16_index(depth, p->output_c, oc, k)]);
        }
        store_channel(&job->base, pixel, oc, (int32_t)sum);
    }
}

/* The contract's schedule (md_conv_s8_w16_get_buffer_size): four output pixels' columns filled,
 * then their outputs written. */
static void conv_quads(const md_window_params *p, conv_w16_job *job, int16_t *scratch)
{
    const int32_t depth = p->filter_h * p->filter_w * p->input_c;
    const int32_t pixels = p->output_h * p->output_w;
    int32_t batch;
    int32_t pixel;
    int32_t c;
    for (batch = 0; batch < p->batches; ++batch) {
        for (pixel = 0; pixel < pixels; pixel += 4) {
            const int32_t count = pixels - pixel < 4 ? pixels - pixel : 4;
            for (c = 0; c < count; ++c) {
                fill_column_int(job, batch, (pixel + c) / p->output_w, (pixel + c) % p->output_w, scratch + c * depth);
            }
            for (c = 0; c < count; ++c) {
                compute_pixel_w16(job, scratch + c * depth, batch * pixels + pixel + c);
            }
        }
    }
}

md_status md_conv_s8_w16_portable(const md_window_params *p, const int8_t *input, const int16_t *filter,
                                  const int32_t *bias, const int32_t *multipliers, const int32_t *shifts,
                                  int8_t *output, int16_t *scratch)
{
    conv_w16_job job;
    job.base.p = p;
    job.base.input = input;
    job.base.dtype = MD_INT8;
    job.base.filter = NULL;
    job.base.bias = bias;
    job.base.multipliers = multipliers;
    job.base.shifts = shifts;
    job.base.output = output;
    job.filter = filter;
    if (scratch == NULL || p->filter_c != p->input_c || p->accumulator64) {
        return MD_ERROR_RANGE; /* code generation gives this variant its columns, int8, not grouped */
    }
    conv_quads(p, &job, scratch);
    return MD_OK;
}

#if !MD_PATH_DSP /* the ISA path this build takes: md_nn_support.h */

MD_PATH_SYMBOL(md_path_conv_w16_portable);

md_status md_conv_s8_w16(const md_window_params *p, const int8_t *input, const int16_t *filter, const int32_t *bias,
                         const int32_t *multipliers, const int32_t *shifts, const int32_t *walk, int8_t *output,
                         int16_t *scratch)
{
    (void)walk; /* the DSP walk's constants */
    return md_conv_s8_w16_portable(p, input, filter, bias, multipliers, shifts, output, scratch);
}

md_status md_conv_s8_w16_rolled(const md_window_params *p, const int8_t *input, const int16_t *filter,
                                const int32_t *bias, const int32_t *multipliers, const int32_t *shifts,
                                const int32_t *walk, int8_t *output, int16_t *scratch)
{
    return md_conv_s8_w16(p, input, filter, bias, multipliers, shifts, walk, output, scratch); /* one loop here */
}

#endif /* !MD_PATH_DSP */
