/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: integer FULLY_CONNECTED, portable C (see md_nn.h). */
#include "md_fully_connected_int.h"

#if !MD_PATH_DSP && !MD_PATH_MVE /* the ISA path this build takes: md_nn_support.h */

MD_PATH_SYMBOL(md_path_fully_connected_portable);

md_status md_fully_connected_s8(const md_fully_connected_params *p, const int8_t *input, const int8_t *filter,
                                const int32_t *bias, const int32_t *multipliers, const int32_t *shifts, int8_t *output)
{
    md_fully_connected_portable(p, input, MD_INT8, filter, bias, multipliers, shifts, output);
    return MD_OK;
}

md_status md_fully_connected_s16(const md_fully_connected_params *p, const int16_t *input, const int8_t *filter,
                                 const void *bias, const int32_t *multipliers, const int32_t *shifts, int16_t *output)
{
    md_fully_connected_portable(p, input, MD_INT16, filter, bias, multipliers, shifts, output);
    return MD_OK;
}

#endif /* !MD_PATH_DSP && !MD_PATH_MVE */
