/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: FULLY_CONNECTED int8 with the filter pre-expanded to int16 in blocks of
 * 4 rows (see md_nn.h), portable C. The same sums as md_fully_connected_s8, so the same outputs bit
 * for bit. The DSP path is in md_fully_connected_dsp.c, beside the int8 one. */
#include "md_fully_connected_int.h"

#if !MD_PATH_DSP /* the ISA path this build takes: md_nn_support.h */

MD_PATH_SYMBOL(md_path_fully_connected_w16_portable);

md_status md_fully_connected_s8_w16(const md_fully_connected_params *p, const int8_t *input, const int16_t *filter,
                                    const int32_t *bias, const int32_t *multipliers, const int32_t *shifts,
                                    int8_t *output)
{
    if (p->filter_offset != 0 || p->accumulator64) {
        return MD_ERROR_RANGE; /* code generation gives this variant symmetric int8 layers only */
    }
    md_fully_connected_w16_portable(p, input, filter, bias, multipliers, shifts, output);
    return MD_OK;
}

#endif /* !MD_PATH_DSP */
