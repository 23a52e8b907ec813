/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: TRANSPOSE_CONV, gathered (see md_nn.h): the portable int8 kernel
 * (DSP cores: md_transpose_conv_dsp.c; Helium cores: md_transpose_conv_mve.c), the portable 16x8
 * one (Helium cores: md_transpose_conv_mve.c), float32 on every core. */
#include "md_transpose_conv_int.h"

/* Σ (input + offset) · filter of output channel `channel` over the input pixels reaching (oy, ox). */
#define MD_GATHERED_SUM(type)                                                                                       \
    static int64_t gathered_sum_##type(const md_window_params *p, const type *batch_input, const int8_t *filter, \
                                       int32_t oy, int32_t ox, const md_reaching *r, int32_t channel)             \
    {                                                                                                               \
        const int8_t *channel_filter = filter + (size_t)channel * p->filter_h * p->filter_w * p->input_c;         \
        int64_t sum = 0;                                                                                            \
        int32_t y;                                                                                                  \
        int32_t x;                                                                                                  \
        int32_t c;                                                                                                  \
        for (y = r->y_first; y < r->y_last; ++y) {                                                                  \
            for (x = r->x_first; x < r->x_last; ++x) {                                                              \
                const type *values = batch_input + ((size_t)y * p->input_w + x) * p->input_c;                       \
                const int8_t *taps = channel_filter + md_transpose_tap_offset(p, oy, ox, y, x);                     \
                for (c = 0; c < p->input_c; ++c) {                                                                  \
                    sum += (int64_t)((int32_t)values[c] + p->input_offset) * taps[c];                               \
                }                                                                                                   \
            }                                                                                                       \
        }                                                                                                           \
        return sum;                                                                                                 \
    }
#if !MD_PATH_DSP && !MD_PATH_MVE
MD_GATHERED_SUM(int8_t)
#endif
#if !MD_PATH_MVE
MD_GATHERED_SUM(int16_t)
#endif

#if !MD_PATH_DSP && !MD_PATH_MVE /* the ISA path this build takes: md_nn_support.h; the others: _dsp.c, _mve.c */
MD_PATH_SYMBOL(md_path_transpose_conv_portable);

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
                    const int64_t sum = gathered_sum_int8_t(p, batch_input, filter, oy, ox, &r, oc);
                    *output++ = (int8_t)md_requantize_sum(sum, bias, oc, 0, multipliers[q], shifts[q],
                                                          p->output_offset, p->act_min, p->act_max);
                }
            }
        }
    }
    return MD_OK;
}
#endif /* !MD_PATH_DSP && !MD_PATH_MVE */

#if !MD_PATH_MVE /* Helium cores: md_transpose_conv_mve.c */
md_status md_transpose_conv_s16(const md_window_params *p, const int16_t *input, const int8_t *filter,
                                const int64_t *bias, const int32_t *multipliers, const int32_t *shifts,
                                int16_t *output)
{
    int32_t b;
    int32_t oy;
    int32_t ox;
    int32_t oc;
    for (b = 0; b < p->batches; ++b) {
        const int16_t *batch_input = input + (size_t)b * p->input_h * p->input_w * p->input_c;
        for (oy = 0; oy < p->output_h; ++oy) {
            for (ox = 0; ox < p->output_w; ++ox) {
                const md_reaching r = md_reaching_pixels(p, oy, ox);
                for (oc = 0; oc < p->output_c; ++oc) {
                    const int32_t q = p->per_channel ? oc : 0;
                    const int64_t sum = gathered_sum_int16_t(p, batch_input, filter, oy, ox, &r, oc);
                    *output++ = (int16_t)md_requantize_sum(sum, bias, oc, 1, multipliers[q], shifts[q], 0, p->act_min,
                                                           p->act_max);
                }
            }
        }
    }
    return MD_OK;
}
#endif /* !MD_PATH_MVE */

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
