/* SPDX-License-Identifier: Apache-2.0 */
/* md_conv_s8's two paths, im2col (with the scratch md_conv_s8_get_buffer_size sizes) and direct
 * (scratch NULL), write the same outputs, with and without stride and padding. */
#include <string.h>

#include "md_nn.h"
#include "md_test.h"

enum { IN_H = 6, IN_W = 7, IN_C = 3, OUT_C = 4, K = 3 };

static void fill(uint32_t *state, int8_t *values, int32_t count)
{
    int32_t i;
    for (i = 0; i < count; ++i) {
        values[i] = (int8_t)md_test_value(state, -128, 127);
    }
}

static void check_paths_agree(int32_t stride, int32_t pad)
{
    static int8_t input[IN_H * IN_W * IN_C], filter[OUT_C * K * K * IN_C];
    static int8_t direct[IN_H * IN_W * OUT_C], im2col[IN_H * IN_W * OUT_C];
    static int16_t scratch[2 * K * K * IN_C];
    int32_t bias[OUT_C], multipliers[OUT_C], shifts[OUT_C];
    uint32_t state = 7u + (uint32_t)stride;
    md_window_params p = {0};
    int32_t c, i, distinct = 0, count;
    p.batches = 1, p.input_h = IN_H, p.input_w = IN_W, p.input_c = IN_C;
    p.filter_h = K, p.filter_w = K, p.filter_c = IN_C, p.output_c = OUT_C;
    p.output_h = (IN_H + 2 * pad - K) / stride + 1, p.output_w = (IN_W + 2 * pad - K) / stride + 1;
    p.stride_h = stride, p.stride_w = stride, p.dilation_h = 1, p.dilation_w = 1;
    p.pad_top = pad, p.pad_left = pad, p.input_offset = 5, p.output_offset = -3;
    p.act_min = -128, p.act_max = 127, p.per_channel = 1;
    fill(&state, input, IN_H * IN_W * IN_C);
    fill(&state, filter, OUT_C * K * K * IN_C);
    for (c = 0; c < OUT_C; ++c) {
        bias[c] = md_test_value(&state, -2000, 2000);
        multipliers[c] = md_test_value(&state, 1 << 30, 0x7fffffff);
        shifts[c] = -md_test_value(&state, 8, 10);
    }
    MD_CHECK(md_conv_s8_get_buffer_size(&p) <= (int32_t)sizeof scratch);
    MD_CHECK(md_conv_s8(&p, input, filter, bias, multipliers, shifts, direct, NULL) == MD_OK);
    MD_CHECK(md_conv_s8(&p, input, filter, bias, multipliers, shifts, im2col, scratch) == MD_OK);
    count = p.output_h * p.output_w * OUT_C;
    MD_CHECK(memcmp(direct, im2col, (size_t)count) == 0);
    for (i = 1; i < count; ++i) {
        distinct += direct[i] != direct[i - 1];
    }
    MD_CHECK(distinct > count / 2); /* not all saturated: the outputs tell the paths apart */
}

int main(void)
{
    check_paths_agree(1, 1);
    check_paths_agree(2, 0);
    return MD_TEST_RESULT();
}
