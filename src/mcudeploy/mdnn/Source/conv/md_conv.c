/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: CONV_2D driver and integer kernels, portable C (see md_nn.h). */
#include "md_conv_int.h"

#if !MD_PATH_DSP && !MD_PATH_MVE /* the ISA path this build takes: md_nn_support.h */

MD_PATH_SYMBOL(md_path_conv_portable);

void md_conv_run(const md_window_params *p, void *job, const md_conv_kernel *kernel, void *scratch)
{
    md_conv_run_portable(p, job, kernel, scratch);
}

md_status md_conv_s8(const md_window_params *p, const int8_t *input, const int8_t *filter, const int32_t *bias,
                     const int32_t *multipliers, const int32_t *shifts, int8_t *output, int16_t *scratch)
{
    md_conv_int_portable(p, input, MD_INT8, filter, bias, multipliers, shifts, output, scratch);
    return MD_OK;
}

/* The portable path reads no record: md_conv_s8 (md_nn.h). */
md_status md_conv_s8_live(const md_window_params *p, const int8_t *input, const int8_t *filter, const int32_t *bias,
                          const int32_t *multipliers, const int32_t *shifts, const int32_t *live, int8_t *output,
                          int16_t *scratch)
{
    (void)live;
    return md_conv_s8(p, input, filter, bias, multipliers, shifts, output, scratch);
}
#endif /* !MD_PATH_DSP && !MD_PATH_MVE */
