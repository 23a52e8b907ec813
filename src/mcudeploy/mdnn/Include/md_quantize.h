/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: QUANTIZE and DEQUANTIZE.
 *
 * One pass in element order (element k read, then output k written).
 */
#ifndef MD_QUANTIZE_H
#define MD_QUANTIZE_H

#include "md_common.h"

typedef struct {
    int32_t count;
    md_dtype input_dtype;
    md_dtype output_dtype;
    int32_t input_zero_point;
    int32_t output_zero_point;
    int32_t multiplier, shift; /* requantization between integer types */
    float scale;               /* float32 conversions: the quantized side's scale */
} md_quantize_params;

/* Integer to integer: (x - input zero point) rescaled, plus the output zero point, saturated. */
md_status md_requantize(const md_quantize_params *p, const void *input, void *output);

/* float32 to int8, uint8 or int16: round(x / scale) + zero point, saturated. */
md_status md_quantize_f32(const md_quantize_params *p, const float *input, void *output);

/* int8, uint8 or int16 to float32: scale * (x - zero point). */
md_status md_dequantize_f32(const md_quantize_params *p, const void *input, float *output);

/* float16 (IEEE half bits) to float32, exactly. */
md_status md_dequantize_f16(const md_quantize_params *p, const uint16_t *input, float *output);

#endif /* MD_QUANTIZE_H */
