/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: DEPTHWISE_CONV_2D with an int4 filter, through the int8 kernel (see md_nn.h). */
#include "md_nn_support.h"

md_status md_depthwise_s4(const md_window_params *p, const int8_t *input, const int8_t *filter, const int32_t *bias,
                          const int32_t *multipliers, const int32_t *shifts, int8_t *output, int8_t *scratch,
                          int32_t planes)
{
    const int32_t count = p->filter_h * p->filter_w * p->output_c;
    int8_t *plane = planes ? scratch + md_s4_unpacked_bytes(count) : NULL;
    md_unpack_s4(filter, 0, count, scratch);
    return md_depthwise_s8(p, input, scratch, bias, multipliers, shifts, output, plane);
}
