/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: CONV_2D 16x8 (int16 activations, int8 weights), portable C (see md_nn.h).
 * Its DSP and Helium paths: md_conv_s16_dsp.c, md_conv_s16_mve.c. */
#include "md_conv_int.h"

#if !MD_PATH_DSP && !MD_PATH_MVE /* the ISA path this build takes: md_nn_support.h */

MD_PATH_SYMBOL(md_path_conv_s16_portable);

md_status md_conv_s16(const md_window_params *p, const int16_t *input, const int8_t *filter, const void *bias,
                      const int32_t *multipliers, const int32_t *shifts, int16_t *output, int16_t *scratch)
{
    md_conv_int_portable(p, input, MD_INT16, filter, bias, multipliers, shifts, output, scratch);
    return MD_OK;
}

#endif /* !MD_PATH_DSP && !MD_PATH_MVE */
