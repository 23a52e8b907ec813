/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: integer DEPTHWISE_CONV_2D, portable C (see md_nn.h). */
#include "md_depthwise_int.h"

#if !MD_PATH_DSP && !MD_PATH_MVE /* the ISA path this build takes: md_nn_support.h */

MD_PATH_SYMBOL(md_path_depthwise_portable);

md_status md_depthwise_s8(const md_window_params *p, const int8_t *input, const int8_t *filter, const int32_t *bias,
                          const int32_t *multipliers, const int32_t *shifts, int8_t *output, int8_t *scratch)
{
    md_depthwise_portable(p, input, MD_INT8, filter, bias, multipliers, shifts, output, scratch);
    return MD_OK;
}

#endif /* !MD_PATH_DSP && !MD_PATH_MVE */
