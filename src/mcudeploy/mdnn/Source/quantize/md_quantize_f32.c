/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: float32 QUANTIZE and DEQUANTIZE (see md_nn.h). */
#include <math.h>
#include <string.h>

#include "md_nn_support.h"

md_status md_quantize_f32(const md_quantize_params *p, const float *input, void *output)
{
    int32_t i;
    for (i = 0; i < p->count; ++i) {
        const float rounded = roundf(input[i] / p->scale);
        int32_t value;
        if (!(rounded >= -2147483648.0f)) {
            value = INT32_MIN; /* below the int32 range, and NaN */
        } else if (rounded >= 2147483648.0f) {
            value = INT32_MAX;
        } else {
            value = (int32_t)rounded;
        }
        md_store_saturated(output, i, p->output_dtype, (int64_t)value + p->output_zero_point);
    }
    return MD_OK;
}

md_status md_dequantize_f32(const md_quantize_params *p, const void *input, float *output)
{
    int32_t i;
    for (i = 0; i < p->count; ++i) {
        /* one rounding of the exact product, as the reference's double product rounded to float32 */
        output[i] = p->scale * (float)(md_load(input, i, p->input_dtype) - p->input_zero_point);
    }
    return MD_OK;
}

static float half_to_float(uint16_t half)
{
    const uint32_t sign = (uint32_t)(half & 0x8000u) << 16;
    const uint32_t exponent = (uint32_t)(half >> 10) & 0x1Fu;
    const uint32_t mantissa = (uint32_t)half & 0x3FFu;
    uint32_t bits;
    float value;
    if (exponent == 0 && mantissa != 0) { /* subnormal: mantissa * 2^-24, exact in float32 */
        value = (float)mantissa * 5.9604644775390625e-8f;
        return sign ? -value : value;
    }
    if (exponent == 0x1Fu) {
        bits = sign | 0x7F800000u | (mantissa << 13); /* infinity, NaN */
    } else {
        bits = sign | (exponent ? (exponent + 112u) << 23 : 0u) | (mantissa << 13);
    }
    memcpy(&value, &bits, sizeof value);
    return value;
}

md_status md_dequantize_f16(const md_quantize_params *p, const uint16_t *input, float *output)
{
    int32_t i;
    for (i = 0; i < p->count; ++i) {
        output[i] = half_to_float(input[i]);
    }
    return MD_OK;
}
