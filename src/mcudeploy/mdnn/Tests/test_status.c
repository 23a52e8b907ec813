/* SPDX-License-Identifier: Apache-2.0 */
/* Status codes: int8 SOFTMAX reports MD_ERROR_RANGE where TFLite Micro aborts (a row whose sum of
 * exponentials reaches 512 with int8 output), MD_OK otherwise; CIRCULAR_BUFFER reports MD_WAITING
 * where TFLite Micro returns kTfLiteAbort (fewer than cycles_max new frames); the codes keep their
 * values. */
#include "md_nn.h"
#include "md_test.h"

enum { DEPTH = 600 };

int main(void)
{
    static int8_t input[DEPTH], output[DEPTH];
    static uint32_t history_state[1 + 2]; /* the count, then 2 slots of 3 values rounded up to words */
    md_softmax_params p = {0};
    int32_t i;
    MD_CHECK(MD_OK == 0 && MD_ERROR_RANGE == -3 && MD_WAITING == 1);
    /* Frames 1, 2, 3 into a history of 2 starting at the zero point -7, running every second frame. */
    for (i = 1; i <= 3; ++i) {
        int8_t frame[3] = {(int8_t)i, (int8_t)i, (int8_t)i};
        md_status expected = i == 2 ? MD_OK : MD_WAITING;
        MD_CHECK(md_circular_buffer_s8(frame, 2, 3, 2, -7, (uint8_t *)history_state, output) == expected);
        MD_CHECK(output[0] == (i == 1 ? -7 : i - 1) && output[5] == i);
    }
    /* Equal inputs: every exponential is 1, so the sum is the depth. beta * scale * 2^26 as a
     * quantized multiplier: 2^30 with shift 0 stands for 0.5 (any value works for equal inputs). */
    p.rows = 1, p.depth = DEPTH, p.input_multiplier = 1 << 30, p.input_shift = 0, p.diff_min = -1000;
    for (i = 0; i < DEPTH; ++i) {
        input[i] = 3;
    }
    MD_CHECK(md_softmax_s8(&p, input, output, 0) == MD_ERROR_RANGE);
    p.depth = 10;
    MD_CHECK(md_softmax_s8(&p, input, output, 0) == MD_OK);
    for (i = 0; i < 10; ++i) {
        MD_CHECK(output[i] == output[0]);
    }
    return MD_TEST_RESULT();
}
