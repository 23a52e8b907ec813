/* SPDX-License-Identifier: Apache-2.0 */
/* md_depthwise_s8's two paths, channel planes (with the scratch md_depthwise_s8_get_buffer_size
 * sizes) and streaming (scratch NULL), write the same outputs. */
#include <string.h>

#include "md_nn.h"
#include "md_test.h"

enum { IN_H = 7, IN_W = 5, C = 6, K = 3 };

int main(void)
{
    static int8_t input[IN_H * IN_W * C], filter[K * K * C], streamed[IN_H * IN_W * C], planed[IN_H * IN_W * C];
    static int8_t scratch[(IN_H + 2) * (IN_W + 2) + MD_PLANE_SLACK];
    int32_t bias[C], multipliers[C], shifts[C];
    uint32_t state = 3u;
    md_window_params p = {0};
    int32_t i;
    p.batches = 1, p.input_h = IN_H, p.input_w = IN_W, p.input_c = C;
    p.filter_h = K, p.filter_w = K, p.filter_c = 1, p.output_c = C;
    p.output_h = IN_H, p.output_w = IN_W, p.stride_h = 1, p.stride_w = 1, p.dilation_h = 1, p.dilation_w = 1;
    p.pad_top = 1, p.pad_left = 1, p.input_offset = -4, p.output_offset = 2;
    p.act_min = -100, p.act_max = 110, p.per_channel = 1;
    for (i = 0; i < IN_H * IN_W * C; ++i) {
        input[i] = (int8_t)md_test_value(&state, -128, 127);
    }
    for (i = 0; i < K * K * C; ++i) {
        filter[i] = (int8_t)md_test_value(&state, -128, 127);
    }
    for (i = 0; i < C; ++i) {
        bias[i] = md_test_value(&state, -500, 500);
        multipliers[i] = md_test_value(&state, 1 << 30, 0x7fffffff);
        shifts[i] = -md_test_value(&state, 6, 8);
    }
    MD_CHECK(md_depthwise_s8_get_buffer_size(&p) == (int32_t)sizeof scratch);
    MD_CHECK(md_depthwise_s8(&p, input, filter, bias, multipliers, shifts, streamed, NULL) == MD_OK);
    MD_CHECK(md_depthwise_s8(&p, input, filter, bias, multipliers, shifts, planed, scratch) == MD_OK);
    MD_CHECK(memcmp(streamed, planed, sizeof streamed) == 0);
    return MD_TEST_RESULT();
}
