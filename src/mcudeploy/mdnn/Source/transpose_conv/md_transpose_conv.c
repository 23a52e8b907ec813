/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: TRANSPOSE_CONV, gathered (see md_nn.h): the portable int8 and 16x8
 * kernels (DSP cores: md_transpose_conv_dsp.c; Helium cores: md_transpose_conv_mve.c), float32 on
 * every core. */
#include "md_transpose_conv_int.h"

#if !MD_PATH_DSP && !MD_PATH_MVE /* the ISA path this build takes: md_nn_support.h; the others: _dsp.c, _mve.c */
MD_PATH_SYMBOL(md_path_transpose_conv_portable);

/* Σ (input + offset) · filter of output channel `channel` over the input pixels reaching (oy, ox). */
static int64_t gathered_sum(const md_window_params *p, const int8_t *batch_input, const int8_t *filter, int32_t oy,
                            int32_t ox, const md_reaching *r, int32_t channel)
{
    const int8_t *channel_filter = filter + (size_t)channel * p->filter_h * p->filter_w * p->input_c;
    int64_t sum = 0;
    int32_t y;
    int32_t x;
    int32_t c;
    for (y = r->y_first; y < r->y_last; ++y) {
        for (x = r->x_first; x < r->x_last; ++x) {
            const int8_t *values = batch_input + ((size_t)y * p->input_w + x) * p->input_c;
            const int8_t *taps = channel_filter + md_transpose_tap_offset(p, oy, ox, y, x);
            for (c = 0; c < p->input_c; ++c) {
                sum += (int64_t)((int32_t)values[c] + p->input_offset) * taps[c];
            }
        }
    }
    return sum;
}

md_status md_transpose_conv_s8(const md_window_params *p, const int8_t *input, const int8_t *filter,
                               const int32_t *bias, const int32_t *multipliers, const int32_t *shifts,
                               int8_t *output)
{
    int32_t b;
    int32_t oy;
    int32_t ox;
    int32_t oc;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *batch_input = input + (size_t)b * p->input_h * p->input_w * p->input_c;
        for (oy = 0; oy < p->output_h; ++oy) {
            for (ox = 0; ox < p->output_w; ++ox) {
                const md_reaching r = md_reaching_pixels(p, oy, ox);
                for (oc = 0; oc < p->output_c; ++oc) {
                    const int32_t q = p->per_channel ? oc : 0;
                    const int64_t sum = gathered_sum(p, batch_input, filter, oy, ox, &r, oc);
                    *output++ = (int8_t)md_requantize_sum(sum, bias, oc, 0, multipliers[q], shifts[q],
                                                          p->output_offset, p->act_min, p->act_max);
                }
            }
        }
    }
    return MD_OK;
}

/* md_pair_sums_s16, a value at a time. */
static MD_ALWAYS_INLINE void add_pair_sums_s16(const int16_t *values, const int8_t *taps, const int8_t *second,
                                               int32_t depth, int64_t *sums)
{
    int32_t c;
    for (c = 0; c < depth; ++c) {
        sums[0] += (int32_t)values[c] * taps[c];
        sums[1] += (int32_t)values[c] * second[c];
    }
}

md_status md_transpose_conv_s16(const md_window_params *p, const int16_t *input, const int8_t *filter,
                                const int64_t *bias, const int32_t *multipliers, const int32_t *shifts,
                                int16_t *output)
{
    md_transpose_conv_s16_with(p, input, filter, bias, multipliers, shifts, output, add_pair_sums_s16);
    return MD_OK;
}
#endif /* !MD_PATH_DSP && !MD_PATH_MVE */

md_status md_transpose_conv_f32(const md_window_params *p, const float *input, const float *filter,
                                const float *bias, float act_low, float act_high, float *output)
{
    int32_t b;
    int32_t oy;
    int32_t ox;
    int32_t oc;
    int32_t y;
    int32_t x;
    int32_t c;
    for (b = 0; b < p->batches; ++b) {
        const float *batch_input = input + (size_t)b * p->input_h * p->input_w * p->input_c;
        for (oy = 0; oy < p->output_h; ++oy) {
            for (ox = 0; ox < p->output_w; ++ox) {
                const md_reaching r = md_reaching_pixels(p, oy, ox);
                for (oc = 0; oc < p->output_c; ++oc) {
                    const float *channel_filter = filter + (size_t)oc * p->filter_h * p->filter_w * p->input_c;
                    float acc = 0.0f;
                    for (y = r.y_first; y < r.y_last; ++y) {
                        for (x = r.x_first; x < r.x_last; ++x) {
                            const float *values = batch_input + ((size_t)y * p->input_w + x) * p->input_c;
                            const float *taps = channel_filter + md_transpose_tap_offset(p, oy, ox, y, x);
                            for (c = 0; c < p->input_c; ++c) {
                                acc += values[c] * taps[c];
                            }
                        }
                    }
                    if (bias) {
                        acc += bias[oc];
                    }
                    *output++ = md_clamp_f32(acc, act_low, act_high);
                }
            }
        }
    }
    return MD_OK;
}
