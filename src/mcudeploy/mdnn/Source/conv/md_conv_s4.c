/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: CONV_2D with an int4 filter, through the int8 kernel (see md_nn.h). */
#include "md_nn_support.h"

md_status md_conv_s4(const md_window_params *p, const int8_t *input, const int8_t *filter, const int32_t *bias,
                     const int32_t *multipliers, const int32_t *shifts, int8_t *output, int8_t *scratch,
                     int32_t columns)
{
    const int32_t count = p->output_c * p->filter_h * p->filter_w * p->filter_c;
    int16_t *im2col = columns ? (int16_t *)(void *)(scratch + md_s4_unpacked_bytes(count)) : NULL;
    md_unpack_s4(filter, 0, count, scratch);
    return md_conv_s8(p, input, scratch, bias, multipliers, shifts, output, im2col);
}
