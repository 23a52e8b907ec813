/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: ABS, NEG, CAST and the float32 math of TFLite Micro's element-wise kernels.
 * Element k is read, then written: the output may share the input's bytes. */
#ifndef MD_UNARY_H
#define MD_UNARY_H

#include "md_common.h"

typedef enum {
    MD_UNARY_ABS = 0,
    MD_UNARY_NEG = 1,
    MD_UNARY_SIN = 2,
    MD_UNARY_COS = 3,
    MD_UNARY_EXP = 4,
    MD_UNARY_LOG = 5,
    MD_UNARY_SQRT = 6,
    MD_UNARY_RSQRT = 7,
    MD_UNARY_SQUARE = 8,
    MD_UNARY_FLOOR = 9,
    MD_UNARY_CEIL = 10,
    MD_UNARY_ROUND = 11 /* half to even */
} md_unary_op;

md_status md_unary_f32(md_unary_op op, const float *input, float *output, int32_t count);

typedef struct {
    md_dtype dtype;        /* MD_INT8 or MD_INT16 */
    int32_t input_offset;  /* the input's zero point, subtracted */
    int32_t output_offset;
    int32_t rescale;       /* 0: the scales are equal */
    int32_t multiplier, shift;
    int32_t saturate;      /* 0: no quantization, |-32768| wraps to itself */
} md_abs_params;

/* ABS of int8 or int16: |x - input_offset|, requantized when `rescale`, plus output_offset. */
md_status md_abs_int(const md_abs_params *p, const void *input, void *output, int32_t count);

typedef struct {
    int32_t input_offset; /* the input's zero point, subtracted */
    int32_t output_offset;
    int32_t multiplier, shift; /* 1 / (sqrt(input scale) x output scale) */
} md_rsqrt_s8_params;

/* int8 RSQRT with TFLite's fixed-point inverse square root; a centred input of 0 gives 127.
 * Returns MD_ERROR_RANGE (having written every output) when an input is below the zero point:
 * TFLite Micro fails the inference there. */
md_status md_rsqrt_s8(const md_rsqrt_s8_params *p, const int8_t *input, int8_t *output, int32_t count);

/* CAST, C's conversion of each element from `from` to `to` (MD_INT8, MD_INT16, MD_INT32, MD_FLOAT32;
 * `from` also MD_UINT8 for bool): integers wrap, float32 truncates, saturated to int32 first (NaN
 * to 0) as Cortex-M's VCVT. */
md_status md_cast(md_dtype from, md_dtype to, const void *input, void *output, int32_t count);

#endif /* MD_UNARY_H */
