/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: L2_NORMALIZATION along the last axis (int8, float32).
 *
 * Row by row: the row's sum of squares first (every value of the row read), then each value read
 * and its output written, in order (so the output may share the input's bytes, as softmax's).
 * float32: x / max(sqrt(sum, added in order), 1e-6). int8: the centred values times the inverse
 * square root of their sum of squares, in units of 2^-7 whatever the output's quantization
 * (TFLite Micro's kernel), saturated.
 */
#ifndef MD_NORMALIZATION_H
#define MD_NORMALIZATION_H

#include "md_common.h"

md_status md_l2_normalization_s8(int32_t rows, int32_t depth, int32_t input_zero_point, const int8_t *input,
                                 int8_t *output);

md_status md_l2_normalization_f32(int32_t rows, int32_t depth, const float *input, float *output);

#endif /* MD_NORMALIZATION_H */
