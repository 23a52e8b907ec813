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

/* sums[0 .. 1] += values . taps over `depth` values, for two output channels' taps (`taps`,
 * `second`; with one channel, `second` repeats `taps` and sums[1] is not used). In int64: each
 * path's exact sum. */
typedef void md_pair_sums_s16(const int16_t *values, const int8_t *taps, const int8_t *second, int32_t depth,
                              int64_t *sums);

/* The 16x8 kernel, two output channels at a time, given its path's pair sums (the input's zero
 * point is 0: int16 tensors have no other). */
static MD_ALWAYS_INLINE void md_transpose_conv_s16_with(const md_window_params *p, const int16_t *input,
                                                       const int8_t *filter, const int64_t *bias,
                                                       const int32_t *multipliers, const int32_t *shifts,
                                                       int16_t *output, md_pair_sums_s16 *add_pair_sums)
{
    const int32_t channel_step = p->filter_h * p->filter_w * p->input_c;
    const int32_t depth = p->input_c;
    int32_t b;
    int32_t oy;
    int32_t ox;
    for (b = 0; b < p->batches; ++b) {
        const int16_t *batch_input = input + (size_t)b * p->input_h * p->input_w * depth;
        for (oy = 0; oy < p->output_h; ++oy) {
            for (ox = 0; ox < p->output_w; ++ox) {
                const md_reaching reach = md_reaching_pixels(p, oy, ox);
                int32_t oc;
                for (oc = 0; oc < p->output_c; oc += 2) {
                    const int32_t count = md_min_i32(2, p->output_c - oc);
                    const int8_t *pair_filter = filter + (size_t)oc * channel_step;
                    int64_t sums[2] = {0, 0};
                    int32_t y;
                    int32_t x;
                    int32_t i;
                    for (y = reach.y_first; y < reach.y_last; ++y) {
                        for (x = reach.x_first; x < reach.x_last; ++x) {
                            const int16_t *values = batch_input + ((size_t)y * p->input_w + x) * depth;
                            const int8_t *taps = pair_filter + md_transpose_tap_offset(p, oy, ox, y, x);
                            add_pair_sums(values, taps, count > 1 ? taps + channel_step : taps, depth, sums);
                        }
                    }
                    for (i = 0; i < count; ++i) {
                        const int32_t q = p->per_channel ? oc + i : 0;
                        *output++ = (int16_t)md_requantize_sum(sums[i], bias, oc + i, 1, multipliers[q], shifts[q], 0,
                                                               p->act_min, p->act_max);
                    }
                }
            }
        }
    }
}

#endif /* MD_TRANSPOSE_CONV_INT_H */
