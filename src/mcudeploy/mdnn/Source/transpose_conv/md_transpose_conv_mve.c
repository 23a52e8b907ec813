/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: int8 and 16x8 TRANSPOSE_CONV for MVE (Helium) cores (see md_nn.h,
 * md_nn_support.h).
 *
 * Gathered as the portable kernels. int8, four output channels at a time: for each input pixel
 * reaching an output pixel, its values are dotted with two channels' taps per vector loaded
 * (md_mve_dot1x2_step_s8, 16 values a VMLADAVA, the tail predicated; an odd last channel by
 * md_mve_dot_s8), and the four sums are requantized together (md_mve_store_s8). The sums wrap
 * modulo 2^32 as the portable int32 sum does: the outputs are the same.
 * 16x8, two output channels at a time: 8 int16 values and 8 int8 taps widened to int16 (VLDRB.S16)
 * a step, summed into int64 by VMLALDAVA as TFLite's 16x8 kernel sums them (exactly: no order
 * matters); the input's zero point is 0 (int16 tensors have no other).
 */
#include "md_transpose_conv_int.h"

#if MD_PATH_MVE /* the ISA path this build takes: md_nn_support.h */
MD_PATH_SYMBOL(md_path_transpose_conv_mve);

#define MD_TRANSPOSE_GROUP 4 /* channels requantized together: one int32x4 vector */

/* sums[0 .. count - 1] += (values + offset) . taps of `count` channels, `channel_step` apart. */
static void add_channel_sums(const int8_t *values, const int8_t *taps, int32_t channel_step, int32_t depth,
                             int32_t offset, int32_t count, int32_t *sums)
{
    int32_t i = 0;
    for (; i + 2 <= count; i += 2) {
        int32_t pair[2];
        md_mve_dot1x2_step_s8(values, taps + i * channel_step, channel_step, depth, offset, pair);
        sums[i] = md_wrap_add(sums[i], pair[0]);
        sums[i + 1] = md_wrap_add(sums[i + 1], pair[1]);
    }
    if (i < count) {
        sums[i] = md_wrap_add(sums[i], md_mve_dot_s8(values, taps + i * channel_step, depth, offset));
    }
}

md_status md_transpose_conv_s8(const md_window_params *params, const int8_t *input, const int8_t *filter,
                               const int32_t *bias, const int32_t *multipliers, const int32_t *shifts,
                               int8_t *output)
{
    const md_window_params window = *params; /* a copy the int8 stores cannot alias: kept in registers */
    const md_window_params *p = &window;
    const md_mve_requant r = md_mve_requant_s8(bias, multipliers, shifts, p->per_channel, p->output_offset,
                                               p->act_min, p->act_max);
    const int32_t channel_step = p->filter_h * p->filter_w * p->input_c;
    const int32_t depth = p->input_c;
    int32_t b;
    int32_t oy;
    int32_t ox;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *batch_input = input + (size_t)b * p->input_h * p->input_w * depth;
        for (oy = 0; oy < p->output_h; ++oy) {
            for (ox = 0; ox < p->output_w; ++ox) {
                const md_reaching reach = md_reaching_pixels(p, oy, ox);
                int32_t oc;
                for (oc = 0; oc < p->output_c; oc += MD_TRANSPOSE_GROUP) {
                    const int32_t count = md_min_i32(MD_TRANSPOSE_GROUP, p->output_c - oc);
                    const int8_t *group_filter = filter + (size_t)oc * channel_step;
                    int32_t sums[MD_TRANSPOSE_GROUP] = {0, 0, 0, 0};
                    int32_t y;
                    int32_t x;
                    for (y = reach.y_first; y < reach.y_last; ++y) {
                        for (x = reach.x_first; x < reach.x_last; ++x) {
                            const int8_t *values = batch_input + ((size_t)y * p->input_w + x) * depth;
                            const int32_t tap = md_transpose_tap_offset(p, oy, ox, y, x);
                            add_channel_sums(values, group_filter + tap, channel_step, depth, p->input_offset, count,
                                             sums);
                        }
                    }
                    md_mve_store_s8(&r, sums, oc, count, output);
                    output += count;
                }
            }
        }
    }
    return MD_OK;
}

/* md_pair_sums_s16: 8 values a VMLALDAVA, the tail predicated. Inlined as GCC chooses (forcing it,
 * as the DSP path does, cost 8% more M55 cycles on a 32-deep layer). */
static void add_pair_sums_s16(const int16_t *values, const int8_t *taps, const int8_t *second, int32_t depth,
                              int64_t *sums)
{
    int64_t sum0 = sums[0];
    int64_t sum1 = sums[1];
    int32_t c = 0;
    for (; c + 8 <= depth; c += 8) {
        const int16x8_t v = vldrhq_s16(values + c);
        sum0 = vmlaldavaq_s16(sum0, v, vldrbq_s16(taps + c));
        sum1 = vmlaldavaq_s16(sum1, v, vldrbq_s16(second + c));
    }
    if (c < depth) {
        const mve_pred16_t lanes = vctp16q((uint32_t)(depth - c));
        const int16x8_t v = vldrhq_z_s16(values + c, lanes);
        sum0 = vmlaldavaq_s16(sum0, v, vldrbq_z_s16(taps + c, lanes));
        sum1 = vmlaldavaq_s16(sum1, v, vldrbq_z_s16(second + c, lanes));
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

#endif /* MD_PATH_MVE */
