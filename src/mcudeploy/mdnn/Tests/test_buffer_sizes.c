/* SPDX-License-Identifier: Apache-2.0 */
/* The scratch sizes of the kernels with scratch, on shapes worked out by hand. */
#include "md_nn.h"
#include "md_test.h"

int main(void)
{
    md_window_params p = {0};
    md_reduce_params r = {0};
    md_detection_params d = {0};
    /* A 3x3 window over 8 channels, 5x5 output: two int16 columns of 72 values. */
    p.input_h = 5, p.input_w = 5, p.input_c = 8, p.filter_h = 3, p.filter_w = 3;
    p.output_h = 5, p.output_w = 5, p.stride_h = 1, p.stride_w = 1, p.dilation_h = 1, p.dilation_w = 1;
    p.pad_top = 1, p.pad_left = 1;
    MD_CHECK(md_conv_s8_get_buffer_size(&p) == 2 * 72 * 2);
    MD_CHECK(md_conv_s16_get_buffer_size(&p) == 2 * 72 * 2);
    MD_CHECK(md_conv_f32_get_buffer_size(&p) == 2 * 72 * 4);
    MD_CHECK(md_conv_hybrid_f32_get_buffer_size(&p) == 2 * 72 * 4);
    MD_CHECK(md_conv_s8_w16_get_buffer_size(&p) == 4 * 72 * 2); /* int16 weights: four columns */
    /* The plane with the padding the windows reach: 1 + 5 + 1 rows and columns, and 4 bytes more. */
    MD_CHECK(md_depthwise_s8_get_buffer_size(&p) == 7 * 7 + MD_PLANE_SLACK); /* one plane */
    /* Grouped, int8 at stride 1 over 8 channels: 4 planes (a group of 4 channels copied at once). */
    MD_CHECK(md_depthwise_s8_grouped_get_buffer_size(&p) == 4 * 7 * 7 + MD_PLANE_SLACK);
    MD_CHECK(md_depthwise_s16_get_buffer_size(&p) == 7 * 7 * 2 + MD_PLANE_SLACK);
    MD_CHECK(md_depthwise_f32_get_buffer_size(&p) == 7 * 7 * 4 + MD_PLANE_SLACK);
    p.input_c = 6; /* a depth of 6: one plane */
    MD_CHECK(md_depthwise_s8_grouped_get_buffer_size(&p) == 7 * 7 + MD_PLANE_SLACK);
    p.input_c = 8;
    /* A single output pixel needs one column only. */
    p.output_h = 1, p.output_w = 1;
    MD_CHECK(md_conv_s8_get_buffer_size(&p) == 72 * 2);
    p.input_c = 3; /* an odd depth, 27: its columns of 28 values (the last pair a value and a zero) */
    MD_CHECK(md_conv_s8_w16_get_buffer_size(&p) == 4 * 28 * 2);
    r.output_count = 12;
    MD_CHECK(md_sum_int_get_buffer_size(&r) == 48);
    /* 10 boxes: 10 corners of 16 bytes, 10 x 5 words, 10 flags in 12 bytes; regular NMS over 3
     * detections adds two lists of 3 (index, score) pairs. */
    d.num_boxes = 10, d.max_detections = 3;
    MD_CHECK(md_detection_postprocess_get_buffer_size(&d) == 160 + 200 + 12);
    d.regular_nms = 1;
    MD_CHECK(md_detection_postprocess_get_buffer_size(&d) == 160 + 200 + 12 + 48);
    return MD_TEST_RESULT();
}
