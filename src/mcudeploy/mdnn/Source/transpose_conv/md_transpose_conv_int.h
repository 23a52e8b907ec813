/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: what the TRANSPOSE_CONV paths share (see md_nn.h), private to
 * Source/transpose_conv/: which input
 * pixels reach an output pixel, and through which filter tap. */
#ifndef MD_TRANSPOSE_CONV_INT_H
#define MD_TRANSPOSE_CONV_INT_H

#include "md_nn_support.h"

/* The input indices [*first, *last) that reach output index `out` along one axis: those i with
 * out + pad - i * stride in [0, filter). */
static inline void md_reaching_range(int32_t out, int32_t stride, int32_t pad, int32_t filter, int32_t size,
                                     int32_t *first, int32_t *last)
{
    const int32_t reach = out + pad; /* >= 0 */
    const int32_t lowest = reach - filter + 1;
    const int32_t low = lowest > 0 ? (lowest + stride - 1) / stride : 0;
    const int32_t high = reach / stride + 1;
    *first = low;
    *last = high < size ? high : size;
}

/* The input pixels that reach output pixel (oy, ox): rows [y_first, y_last), columns [x_first, x_last). */
typedef struct {
    int32_t y_first, y_last, x_first, x_last;
} md_reaching;

static inline md_reaching md_reaching_pixels(const md_window_params *p, int32_t oy, int32_t ox)
{
    md_reaching r;
    md_reaching_range(oy, p->stride_h, p->pad_top, p->filter_h, p->input_h, &r.y_first, &r.y_last);
    md_reaching_range(ox, p->stride_w, p->pad_left, p->filter_w, p->input_w, &r.x_first, &r.x_last);
    return r;
}

/* Offset in the filter of output channel 0's tap through which input pixel (y, x) reaches output
 * pixel (oy, ox). */
static inline int32_t md_transpose_tap_offset(const md_window_params *p, int32_t oy, int32_t ox, int32_t y, int32_t x)
{
    const int32_t fy = oy + p->pad_top - y * p->stride_h;
    const int32_t fx = ox + p->pad_left - x * p->stride_w;
    return (fy * p->filter_w + fx) * p->input_c;
}

#endif /* MD_TRANSPOSE_CONV_INT_H */
