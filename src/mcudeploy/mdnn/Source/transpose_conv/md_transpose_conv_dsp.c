/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: int8 and 16x8 TRANSPOSE_CONV for cores with the DSP extension (see
 * md_nn.h, md_nn_support.h).
 *
 * Gathered as the portable kernels, two output channels at a time. int8: each group of 4 input
 * values of a reaching pixel is unpacked to pairs once (SXTAB16 adding the input offset) and
 * multiplied with both channels' taps by SMLAD; the channels' last values and an odd last channel
 * run one by one. SMLAD wraps as the portable int32 sum does: the outputs are the same.
 * 16x8: each group of 4 int16 values, read in place, is put in SMLALD pair order {v0, v2} and
 * {v1, v3} (PKHBT, PKHTB) once for both channels, to meet the taps sign-extended by SXTB16 into
 * {w0, w2} and {w1, w3}; SMLALD sums into int64, as TFLite's 16x8 kernel.
 */
#include "md_transpose_conv_int.h"

#if MD_PATH_DSP /* the ISA path this build takes: md_nn_support.h */
MD_PATH_SYMBOL(md_path_transpose_conv_dsp);

/* sums[0..1] += (input + offset) . taps of channels 0 and 1 (`channel_step` values apart), over
 * `depth` values (with one channel, `channel_step` 0: sums[1] repeats sums[0] and is not used). */
static void dot_2channels(const int8_t *values, const int8_t *taps, int32_t channel_step, int32_t depth,
                          int32_t offset, int32_t *sums)
{
    const int16x2_t offsets = (int16x2_t)(((uint32_t)(uint16_t)offset << 16) | (uint16_t)offset);
    const int8_t *second = taps + channel_step;
    int32_t sum0 = sums[0];
    int32_t sum1 = sums[1];
    int32_t c = 0;
    for (; c + 4 <= depth; c += 4) {
        const uint32_t input = md_read32(values + c);
        const int16x2_t even = md_even_pair_add(offsets, input);
        const int16x2_t odd = md_odd_pair_add(offsets, input);
        const uint32_t weights0 = md_read32(taps + c);
        const uint32_t weights1 = md_read32(second + c);
        sum0 = __smlad(even, md_even_pair(weights0), sum0);
        sum0 = __smlad(odd, md_odd_pair(weights0), sum0);
        sum1 = __smlad(even, md_even_pair(weights1), sum1);
        sum1 = __smlad(odd, md_odd_pair(weights1), sum1);
    }
    for (; c < depth; ++c) {
        const int32_t input = values[c] + offset;
        sum0 = md_wrap_add(sum0, input * taps[c]);
        sum1 = md_wrap_add(sum1, input * second[c]);
    }
    sums[0] = sum0;
    sums[1] = sum1;
}

md_status md_transpose_conv_s8(const md_window_params *params, const int8_t *input, const int8_t *filter,
                               const int32_t *bias, const int32_t *multipliers, const int32_t *shifts,
                               int8_t *output)
{
    const md_window_params window = *params; /* a copy the int8 stores cannot alias: kept in registers */
    const md_window_params *p = &window;
    const md_dsp_requant r = md_dsp_requant_of(bias, multipliers, shifts, p->per_channel, p->output_offset,
                                               p->act_min, p->act_max);
    const int32_t channel_step = p->filter_h * p->filter_w * p->input_c;
    const int32_t depth = p->input_c;
    const int32_t offset = p->input_offset;
    int32_t b;
    int32_t oy;
    int32_t ox;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *batch_input = input + (size_t)b * p->input_h * p->input_w * depth;
        for (oy = 0; oy < p->output_h; ++oy) {
            for (ox = 0; ox < p->output_w; ++ox) {
                const md_reaching reach = md_reaching_pixels(p, oy, ox);
                int32_t oc;
                for (oc = 0; oc < p->output_c; oc += 2) {
                    const int32_t count = md_min_i32(2, p->output_c - oc);
                    const int32_t step = count == 2 ? channel_step : 0; /* an odd last channel: its taps twice */
                    int32_t sums[2];
                    int32_t y;
                    int32_t x;
                    sums[0] = md_dsp_bias(&r, oc);
                    sums[1] = md_dsp_bias(&r, oc + count - 1);
                    for (y = reach.y_first; y < reach.y_last; ++y) {
                        for (x = reach.x_first; x < reach.x_last; ++x) {
                            const int8_t *values = batch_input + ((size_t)y * p->input_w + x) * depth;
                            const int32_t tap = md_transpose_tap_offset(p, oy, ox, y, x);
                            dot_2channels(values, filter + (size_t)oc * channel_step + tap, step, depth, offset, sums);
                        }
                    }
                    *output++ = (int8_t)md_dsp_requantize(&r, oc, sums[0]);
                    if (count == 2) {
                        *output++ = (int8_t)md_dsp_requantize(&r, oc + 1, sums[1]);
                    }
                }
            }
        }
    }
    return MD_OK;
}

/* md_pair_sums_s16: 4 values a step by SMLALD, the last ones one by one. */
static MD_ALWAYS_INLINE void add_pair_sums_s16(const int16_t *values, const int8_t *taps, const int8_t *second,
                                               int32_t depth, int64_t *sums)
{
    int64_t sum0 = sums[0];
    int64_t sum1 = sums[1];
    int32_t c = 0;
    for (; c + 4 <= depth; c += 4) {
        const uint32_t low = md_read32(values + c);      /* {v0, v1} */
        const uint32_t high = md_read32(values + c + 2); /* {v2, v3} */
        const int16x2_t even = (int16x2_t)((low & 0xFFFFu) | (high << 16));
        const int16x2_t odd = (int16x2_t)((high & 0xFFFF0000u) | (low >> 16));
        const uint32_t weights0 = md_read32(taps + c);
        const uint32_t weights1 = md_read32(second + c);
        sum0 = __smlald(odd, md_odd_pair(weights0), __smlald(even, md_even_pair(weights0), sum0));
        sum1 = __smlald(odd, md_odd_pair(weights1), __smlald(even, md_even_pair(weights1), sum1));
    }
    for (; c < depth; ++c) {
        sum0 += (int32_t)values[c] * taps[c];
        sum1 += (int32_t)values[c] * second[c];
    }
    sums[0] = sum0;
    sums[1] = sum1;
}

md_status md_transpose_conv_s16(const md_window_params *p, const int16_t *input, const int8_t *filter,
                                const int64_t *bias, const int32_t *multipliers, const int32_t *shifts,
                                int16_t *output)
{
    md_transpose_conv_s16_with(p, input, filter, bias, multipliers, shifts, output, add_pair_sums_s16);
    return MD_OK;
}

#endif /* MD_PATH_DSP */
