/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: the sliding-window geometry convolutions and pooling share (NHWC). */
#ifndef MD_WINDOW_H
#define MD_WINDOW_H

#include "md_common.h"

typedef struct {
    int32_t batches;
    int32_t input_h, input_w, input_c;
    int32_t filter_h, filter_w;
    int32_t filter_c; /* CONV_2D: input channels per group (input_c when not grouped) */
    int32_t output_h, output_w, output_c;
    int32_t stride_h, stride_w;
    int32_t dilation_h, dilation_w;
    int32_t pad_top, pad_left;
    int32_t input_offset;  /* added to every input value: -zero point for int8, 0 for int16 */
    int32_t output_offset; /* added after requantization */
    int32_t act_min, act_max;
    int32_t per_channel;   /* 1: a multiplier and shift per output channel, 0: one for every channel */
    int32_t accumulator64; /* 16x8 kernels: int64 accumulator and bias (else int32, wrapping) */
} md_window_params;

/* Where an output pixel's window starts in the input (may be negative: padding). */
static inline int32_t md_window_origin(int32_t out_index, int32_t stride, int32_t pad)
{
    return out_index * stride - pad;
}

static inline int md_inside(int32_t index, int32_t size) { return index >= 0 && index < size; }

/* Along one axis, the size of an input with the padding its windows reach: `pad` before it, and
 * after it as far as the last window reads (kernels/contracts.py padded_plane_pixels). */
static inline int32_t md_padded_extent(int32_t size, int32_t out, int32_t stride, int32_t pad, int32_t filter,
                                       int32_t dilation)
{
    const int32_t reach = (out - 1) * stride - pad + (filter - 1) * dilation + 1;
    return pad + (reach > size ? reach : size);
}

/* The taps [*first, *last) of one filter dimension that fall inside the input (of `size`) for
 * output index `out`: the window origin is out * stride - pad, tap t reads origin + t * dilation. */
static inline void md_tap_range(int32_t out, int32_t stride, int32_t pad, int32_t dilation, int32_t filter,
                                int32_t size, int32_t *first, int32_t *last)
{
    const int32_t origin = md_window_origin(out, stride, pad);
    int32_t low = 0;
    int32_t high = filter;
    while (low < high && origin + low * dilation < 0) {
        ++low;
    }
    while (high > low && origin + (high - 1) * dilation >= size) {
        --high;
    }
    *first = low;
    *last = high;
}

/* The taps of output pixel (oy, ox) inside the image: rows [y_first, y_last), columns [x_first, x_last);
 * tap (fy, fx) reads input pixel (y0 + fy * dilation_h) * input_w + x0 + fx * dilation_w. */
typedef struct {
    int32_t y_first, y_last, x_first, x_last;
    int32_t y0, x0;
} md_taps;

static inline md_taps md_window_taps(const md_window_params *p, int32_t oy, int32_t ox)
{
    md_taps taps;
    md_tap_range(oy, p->stride_h, p->pad_top, p->dilation_h, p->filter_h, p->input_h, &taps.y_first, &taps.y_last);
    md_tap_range(ox, p->stride_w, p->pad_left, p->dilation_w, p->filter_w, p->input_w, &taps.x_first, &taps.x_last);
    taps.y0 = md_window_origin(oy, p->stride_h, p->pad_top);
    taps.x0 = md_window_origin(ox, p->stride_w, p->pad_left);
    return taps;
}

static inline int32_t md_taps_pixel(const md_window_params *p, const md_taps *taps, int32_t fy, int32_t fx)
{
    return (taps->y0 + fy * p->dilation_h) * p->input_w + taps->x0 + fx * p->dilation_w;
}

/* Pixel (iy * input_w + ix) under tap (fy, fx) of output pixel (oy, ox), or -1 outside the image. */
static inline int32_t md_tap_pixel(const md_window_params *p, int32_t oy, int32_t ox, int32_t fy, int32_t fx)
{
    const int32_t iy = md_window_origin(oy, p->stride_h, p->pad_top) + fy * p->dilation_h;
    const int32_t ix = md_window_origin(ox, p->stride_w, p->pad_left) + fx * p->dilation_w;
    return md_inside(iy, p->input_h) && md_inside(ix, p->input_w) ? iy * p->input_w + ix : -1;
}

/* Index in the input of the first channel under tap (fy, fx) of output pixel (oy, ox) of `batch`,
 * or -1 when the tap falls outside the image (padding). */
static inline int32_t md_tap_index(const md_window_params *p, int32_t batch, int32_t oy, int32_t ox, int32_t fy,
                                   int32_t fx)
{
    const int32_t pixel = md_tap_pixel(p, oy, ox, fy, fx);
    return pixel < 0 ? -1 : (batch * p->input_h * p->input_w + pixel) * p->input_c;
}

/* Channel-wise window kernels (depthwise convolution, pooling) compute, for one input channel of
 * one output pixel, the output channels it feeds. The value under a tap at input pixel i is
 * source[base + i * stride]: the input itself (stride input_c) or a copied plane (stride 1).
 * `out_index` is the output index of the first output channel fed. */
typedef void (*md_channel_fn)(void *job, const void *source, int32_t base, int32_t stride, int32_t oy, int32_t ox,
                              int32_t channel, int32_t out_index);

/* Pixel by pixel, channel by channel, reading the input in place: output (pixel, channel) is
 * written right after channel `channel` of its window is read. */
void md_window_stream(const md_window_params *p, void *job, md_channel_fn compute, const void *input);

/* Channel by channel from a copied plane: plane c of the input (element_bytes each) is copied to
 * `scratch`, then output plane c is computed from the copy. One output channel per input channel. */
void md_window_planes(const md_window_params *p, void *job, md_channel_fn compute, const void *input,
                      int32_t element_bytes, void *scratch);

#endif /* MD_WINDOW_H */
