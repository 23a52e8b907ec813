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

md_status md_conv_s8_w16_portable(const md_window_params *p, const int8_t *input, const int16_t *filter,
                                  const int32_t *bias, const int32_t *multipliers, const int32_t *shifts,
                                  int8_t *output, int16_t *scratch)
{
    conv_w16_job job;
    md_conv_kernel kernel;
    job.base.p = p;
    job.base.input = input;
    job.base.dtype = MD_INT8;
    job.base.filter = NULL;
    job.base.bias = bias;
    job.base.multipliers = multipliers;
    job.base.shifts = shifts;
    job.base.output = output;
    job.filter = filter;
    kernel.fill = fill_column_int;
    kernel.compute = compute_pixel_w16;
    kernel.direct = NULL;
    kernel.column_bytes = (size_t)(p->filter_h * p->filter_w * p->input_c) * sizeof(int16_t);
    if (scratch == NULL || p->filter_c != p->input_c || p->accumulator64) {
        return MD_ERROR_RANGE; /* code generation gives this variant its columns, int8, not grouped */
    }
    conv_pairs(p, &job, &kernel, scratch);
    return MD_OK;
}

#if !MD_PATH_DSP /* the ISA path this build takes: md_nn_support.h */

MD_PATH_SYMBOL(md_path_conv_w16_portable);

md_status md_conv_s8_w16(const md_window_params *p, const int8_t *input, const int16_t *filter, const int32_t *bias,
                         const int32_t *multipliers, const int32_t *shifts, int8_t *output, int16_t *scratch)
{
    return md_conv_s8_w16_portable(p, input, filter, bias, multipliers, shifts, output, scratch);
}

#endif /* !MD_PATH_DSP */
