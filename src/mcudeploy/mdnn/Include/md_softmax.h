/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: SOFTMAX over the last axis (int8 to int8/int16, int16, float32), and
 * LOG_SOFTMAX (int8, float32).
 *
 * Row by row, as the memory contract declares: the row maximum and the sum of
 * exponentials read the whole row first, then a last pass reads element j and
 * writes output j (recomputing its exponential: no scratch).
 */
#ifndef MD_SOFTMAX_H
#define MD_SOFTMAX_H

#include "md_common.h"

typedef struct {
    int32_t rows;
    int32_t depth;
    int32_t input_multiplier; /* beta * input scale * 2^26 as a quantized multiplier (int8) or onto the */
    int32_t input_shift;      /* exp table's input range (int16) */
    int32_t diff_min;         /* int8: differences to the row maximum below this give 0 */
    int32_t reverse_multiplier;  /* LOG_SOFTMAX int8: Q5.26 back to input steps, a multiplier below */
    int32_t reverse_right_shift; /* one and a right shift */
} md_softmax_params;

/* int8 input; output int8 (zero point -128, scale 1/256) or int16 (zero point -32768, scale 1/65536).
 * Returns MD_ERROR_RANGE when a row's sum of exponentials reaches 512 with int8 output. */
md_status md_softmax_s8(const md_softmax_params *p, const int8_t *input, void *output, int output_is16);

/* int16 input and output (zero points 0, output scale 1/32768), through interpolated tables. */
md_status md_softmax_s16(const md_softmax_params *p, const int16_t *input, int16_t *output);

md_status md_softmax_f32(const md_softmax_params *p, float beta, const float *input, float *output);

/* int8 LOG_SOFTMAX (beta 1; output scale 16/256, zero point 127). */
md_status md_log_softmax_s8(const md_softmax_params *p, const int8_t *input, int8_t *output);

/* float32 LOG_SOFTMAX: x - max - log(sum of exp(x - max)). */
md_status md_log_softmax_f32(const md_softmax_params *p, const float *input, float *output);

#endif /* MD_SOFTMAX_H */
