/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: what RESIZE_BILINEAR's kernels share (see md_nn.h): md_resize.c and
 * the int8 variants. */
#ifndef MD_RESIZE_INT_H
#define MD_RESIZE_INT_H

#include "md_nn_support.h"

#define MD_FRACTION_BITS 10
#define MD_ONE (1 << MD_FRACTION_BITS)

/* The first value of input row `row` of batch `batch` (int8 values). */
static inline const int8_t *md_resize_row(const md_resize_params *p, const int8_t *input, int32_t batch, int32_t row)
{
    return input + ((size_t)batch * p->input_h + (size_t)row) * p->input_w * p->channels;
}

/* The int8 variants' arithmetic: an output value's 20-bit sum is that of the portable kernel, in int32.
 * The weights of a row or column, 2^10 - d and d, lie within [-2^10, 1.5 * 2^10] (d >= -2^9: a
 * half-pixel position before the first pixel), so each interpolation along the rows fits 19 bits and
 * the sum, |sum| <= 2^7 * 2^11 * 2^11, fits int32. */

/* TFLM's rounding of the sum: half away from zero, then divided by 2^20 truncating. */
static inline int32_t md_resize_round(int32_t total)
{
    const int32_t sign = total >> 31; /* 0 or -1 */
    const uint32_t magnitude = (uint32_t)((total ^ sign) - sign);
    const int32_t rounded = (int32_t)((magnitude + (1u << (2 * MD_FRACTION_BITS - 1))) >> (2 * MD_FRACTION_BITS));
    return (rounded ^ sign) - sign;
}

#endif /* MD_RESIZE_INT_H */
