/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: L2_NORMALIZATION (see md_nn.h). */
#include <math.h>

#include "md_nn_support.h"

#define MD_L2_OUTPUT_BITS 7

md_status md_l2_normalization_s8(int32_t rows, int32_t depth, int32_t input_zero_point, const int8_t *input,
                                 int8_t *output)
{
    int32_t r;
    int32_t c;
    for (r = 0; r < rows; ++r, input += depth, output += depth) {
        int32_t sum = 0;
        int32_t multiplier = INT32_MAX;
        int32_t shift = 0;
        for (c = 0; c < depth; ++c) {
            const int32_t centred = input[c] - input_zero_point;
            sum += centred * centred;
        }
        if (sum > 1) {
            multiplier = md_inv_sqrt_multiplier(sum, &shift);
        }
        for (c = 0; c < depth; ++c) {
            const int32_t scaled = md_mbqm(input[c] - input_zero_point, multiplier, shift + MD_L2_OUTPUT_BITS);
            output[c] = (int8_t)md_clamp_i32(scaled, INT8_MIN, INT8_MAX);
        }
    }
    return MD_OK;
}

md_status md_l2_normalization_f32(int32_t rows, int32_t depth, const float *input, float *output)
{
    int32_t r;
    int32_t c;
    for (r = 0; r < rows; ++r, input += depth, output += depth) {
        float squares = 0.0f;
        float norm;
        for (c = 0; c < depth; ++c) {
            squares += input[c] * input[c];
        }
        norm = sqrtf(squares);
        norm = norm > 1e-6f ? norm : 1e-6f;
        for (c = 0; c < depth; ++c) {
            output[c] = input[c] / norm;
        }
    }
    return MD_OK;
}
