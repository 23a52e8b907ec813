/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: element-wise activations (int8, int16, float32).
 *
 * One pass in element order: element k is read, then output k written (so the
 * output may share the input's bytes).
 */
#ifndef MD_ACTIVATIONS_H
#define MD_ACTIVATIONS_H

#include "md_common.h"

/* Field use by kernel:
 * - relu (RELU, RELU_N1_TO_1): output = clamp(zero point out + scale(x - zero point in), act_min, act_max)
 *   with scale = (multiplier, shift);
 * - relu6: clamp(x, act_min = input zero point, act_max = quantized 6), in the input's quantization;
 * - leaky relu: x >= 0 scaled by (multiplier, shift), below by (multiplier2, shift2), negated when
 *   `negate` (negative alpha);
 * - hard swish (int8): output (multiplier, shift) and "reluish" (multiplier2, shift2) as 16-bit multipliers;
 * - logistic/tanh (int8): input to Q4.27 by (multiplier, shift), saturating beyond `radius`,
 *   result shifted right by `output_shift` plus `output_offset`;
 * - logistic/tanh (int16): input scaled by (multiplier, shift) onto the sigmoid table. */
typedef struct {
    int32_t count;
    md_dtype dtype; /* MD_INT8 or MD_INT16, input and output */
    int32_t input_zero_point;
    int32_t output_zero_point;
    int32_t multiplier, shift;
    int32_t multiplier2, shift2;
    int32_t negate;
    int32_t act_min, act_max;
    int32_t radius;
    int32_t output_shift;
    int32_t output_offset;
} md_activation_params;

md_status md_relu_int(const md_activation_params *p, const void *input, void *output);
md_status md_relu6_int(const md_activation_params *p, const void *input, void *output);
md_status md_leaky_relu_int(const md_activation_params *p, const void *input, void *output);
md_status md_hard_swish_s8(const md_activation_params *p, const int8_t *input, int8_t *output);
md_status md_logistic_s8(const md_activation_params *p, const int8_t *input, int8_t *output);
md_status md_tanh_s8(const md_activation_params *p, const int8_t *input, int8_t *output);
md_status md_logistic_s16(const md_activation_params *p, const int16_t *input, int16_t *output);
md_status md_tanh_s16(const md_activation_params *p, const int16_t *input, int16_t *output);

typedef enum {
    MD_RELU_F32 = 0,  /* clamp to [low, high] (high may be +infinity) */
    MD_LEAKY_RELU_F32 = 1,
    MD_HARD_SWISH_F32 = 2,
    MD_LOGISTIC_F32 = 3,
    MD_TANH_F32 = 4
} md_activation_f32;

typedef struct {
    int32_t count;
    md_activation_f32 function;
    float low, high; /* relu */
    float alpha;     /* leaky relu */
} md_activation_f32_params;

md_status md_activation_f32_run(const md_activation_f32_params *p, const float *input, float *output);

#endif /* MD_ACTIVATIONS_H */
