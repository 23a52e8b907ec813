/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: RESIZE_BILINEAR (int8, float32; TFLite Micro takes no other type).
 *
 * Tables per axis (computed when the code is generated, as TFLite Micro's
 * ComputeInterpolationValues does per output index): the two input indices read and the source
 * position between them, float32 for the float kernel, in units of 2^-10 for the int8 one. Output
 * pixel by pixel, in output order; every output value is computed from the four input values
 * around it and written. No scratch; the output must not overlap the input.
 */
#ifndef MD_RESIZE_H
#define MD_RESIZE_H

#include "md_copy.h"

typedef struct {
    const int32_t *lower;    /* per output index: the first input index read */
    const int32_t *upper;    /* the second */
    const int32_t *fixed;    /* int8: the source position, 10 fractional bits (else NULL) */
    const float *position;   /* float32: the source position (else NULL) */
} md_interpolation_axis;

/* The 20-bit weighted sum rounded half away from zero (TFLite Micro's double rounding). */
md_status md_resize_bilinear_s8(const md_resize_params *p, const md_interpolation_axis *rows,
                                const md_interpolation_axis *columns, const int8_t *input, int8_t *output);

/* The four products summed left to right in float32, as the reference kernel does. */
md_status md_resize_bilinear_f32(const md_resize_params *p, const md_interpolation_axis *rows,
                                 const md_interpolation_axis *columns, const float *input, float *output);

#endif /* MD_RESIZE_H */
