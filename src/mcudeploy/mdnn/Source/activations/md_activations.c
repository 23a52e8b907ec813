/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: int8 and int16 RELU family, LEAKY_RELU, HARD_SWISH, and int8
 * LOGISTIC and TANH through gemmlowp's fixed-point functions (see md_nn.h). */
#include "md_nn_support.h"


typedef int32_t (*element_fn)(const md_activation_params *p, int32_t value);

static void each_element(const md_activation_params *p, const void *input, void *output, element_fn function)
{
    int32_t i;
    for (i = 0; i < p->count; ++i) {
        md_store_saturated(output, i, p->dtype, function(p, md_load(input, i, p->dtype)));
    }
}

static int32_t relu(const md_activation_params *p, int32_t value)
{
    const int32_t scaled = md_mbqm(value - p->input_zero_point, p->multiplier, p->shift);
    return md_clamp_i32(p->output_zero_point + scaled, p->act_min, p->act_max);
}

static int32_t relu6(const md_activation_params *p, int32_t value)
{
    return value > p->act_max ? p->act_max : (value < p->act_min ? p->act_min : value);
}

static int32_t leaky_relu(const md_activation_params *p, int32_t value)
{
    const int32_t centered = value - p->input_zero_point;
    int32_t scaled;
    if (centered >= 0) {
        scaled = md_mbqm(centered, p->multiplier, p->shift);
    } else {
        scaled = md_mbqm(centered, p->multiplier2, p->shift2);
        scaled = p->negate ? -scaled : scaled;
    }
    return p->output_zero_point + scaled;
}

/* x * relu6(x + 3) / 6 in int16 fixed point: x on a 2^7 finer scale, the "reluish" factor
 * relu6(x + 3) / 6 mapped to [0, 1) in Q0.15. */
static int32_t hard_swish(const md_activation_params *p, int32_t value)
{
    const int32_t hires_input = md_wrap_int16(md_wrap_int16(value - p->input_zero_point) * 128);
    const int32_t preshift_output_scaled = md_srdhm_int16(hires_input, p->multiplier);
    int32_t reluish = hires_input;
    if (p->shift2 > 0) {
        reluish = md_saturating_left_shift_int16(reluish, p->shift2 - 1);
    }
    reluish = md_srdhm_int16(reluish, p->multiplier2);
    if (p->shift2 > 0) {
        reluish = md_saturating_left_shift_int16(reluish, 1);
    }
    if (p->shift2 < 0) {
        reluish = md_rdbpot_int16(reluish, -p->shift2);
    }
    reluish = (reluish + (1 << 15)) >> 1;
    return md_wrap_int16(md_rdbpot_int16(md_sdhm_int16(reluish, preshift_output_scaled), -p->shift) +
                         p->output_zero_point);
}

/* int8 LOGISTIC and TANH: the input rescaled to Q4.27, the fixed-point function, its Q0.31 result
 * shifted to 8 bits; inputs beyond the radius where the result saturates go to the extremes. */
static int32_t sigmoid_like(const md_activation_params *p, int32_t value, int32_t (*function)(int32_t, int32_t))
{
    const int32_t centered = value - p->input_zero_point;
    if (centered <= -p->radius) {
        return INT8_MIN;
    }
    if (centered >= p->radius) {
        return INT8_MAX;
    }
    return md_rdbpot(function(md_mbqm(centered, p->multiplier, p->shift), 4), p->output_shift) + p->output_offset;
}

static int32_t logistic(const md_activation_params *p, int32_t value)
{
    return sigmoid_like(p, value, md_fixed_logistic);
}

static int32_t tanh_s8(const md_activation_params *p, int32_t value)
{
    return sigmoid_like(p, value, md_fixed_tanh);
}

md_status md_relu_int(const md_activation_params *p, const void *input, void *output)
{
    each_element(p, input, output, relu);
    return MD_OK;
}

md_status md_relu6_int(const md_activation_params *p, const void *input, void *output)
{
    each_element(p, input, output, relu6);
    return MD_OK;
}

md_status md_leaky_relu_int(const md_activation_params *p, const void *input, void *output)
{
    each_element(p, input, output, leaky_relu);
    return MD_OK;
}

md_status md_hard_swish_s8(const md_activation_params *p, const int8_t *input, int8_t *output)
{
    each_element(p, input, output, hard_swish);
    return MD_OK;
}

md_status md_logistic_s8(const md_activation_params *p, const int8_t *input, int8_t *output)
{
    each_element(p, input, output, logistic);
    return MD_OK;
}

md_status md_tanh_s8(const md_activation_params *p, const int8_t *input, int8_t *output)
{
    each_element(p, input, output, tanh_s8);
    return MD_OK;
}
