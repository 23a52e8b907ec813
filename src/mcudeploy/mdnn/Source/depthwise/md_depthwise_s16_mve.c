/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: DEPTHWISE_CONV_2D 16x8 on Helium (Cortex-M55, M85; see md_nn.h). Depth
 * multiplier 1, both loop orders of the memory contract:
 * - planes (scratch): plane c is copied with its zero padding, so that every window lies inside it;
 *   a window row of up to 8 taps (dilation 1 across, at most 16 rows) is one predicated load of
 *   int16 values, its weights a vector widened once per channel: one VMLADAVA a row;
 * - streaming (no scratch): four channels of a pixel in the int32 lanes of a vector (VLDRH.S32,
 *   VLDRB.S32, VMUL, VADD).
 * Both sum in int32, where md_s16_sums_fit_int32 proves the sums exact (at most 511 taps: every layer
 * in practice); other layers, and those whose sums need int64 (TFLite's 16x8 accumulator), run the
 * portable kernel. */
#include "md_depthwise_int.h"

#if MD_PATH_MVE /* the ISA path this build takes: md_nn_support.h */

MD_PATH_SYMBOL(md_path_depthwise_s16_mve);

#define DW_S16_MAX_ROWS 16 /* window rows whose weights are held on the stack */

static MD_ALWAYS_INLINE void store_output(const depthwise_int_job *job, int16_t *out, int32_t channel, int64_t sum)
{
    *out = (int16_t)requantize_channel(job, channel, sum); /* the activation range lies within int16 */
}

/* At most 8 x 16 taps: int32 sums. */
static MD_NOINLINE void plane_rows(const depthwise_int_job *job, const dw_s16_plane *plane, int32_t channel,
                                   int16_t *out)
{
    const md_window_params *p = job->p;
    const mve_pred16_t lanes = vctp16q((uint32_t)p->filter_w);
    const int32_t row_step = p->dilation_h * plane->width;
    const uint16x8_t steps = vmulq_n_u16(vidupq_n_u16(0, 1), (uint16_t)p->output_c);
    const dw_s16_requant r = dw_s16_requant_of(job, channel);
    int16x8_t weights[DW_S16_MAX_ROWS];
    int32_t fy;
    int32_t oy;
    int32_t ox;
    for (fy = 0; fy < p->filter_h; ++fy) {
        const int8_t *first = job->filter + fy * p->filter_w * p->output_c + channel;
        weights[fy] = vldrbq_gather_offset_z_s16(first, steps, lanes);
    }
    for (oy = 0; oy < p->output_h; ++oy) {
        const int16_t *window = plane->values + oy * p->stride_h * plane->width;
        for (ox = 0; ox < p->output_w; ++ox, window += p->stride_w) {
            const int16_t *row = window;
            int32_t sum = 0;
            for (fy = 0; fy < p->filter_h; ++fy, row += row_step) {
                sum = vmladavaq_s16(sum, vldrhq_z_s16(row, lanes), weights[fy]);
            }
            out[(oy * p->output_w + ox) * p->output_c] = dw_s16_requantize(&r, sum);
        }
    }
}

/* Every output pixel, four channels at a time (a predicated last block). */
static MD_NOINLINE void stream_lanes(const depthwise_int_job *job, const int16_t *input)
{
    const md_window_params *p = job->p;
    const int32_t channels = p->input_c;
    int16_t *out = (int16_t *)job->output;
    int32_t sums[4];
    int32_t batch;
    int32_t oy;
    int32_t ox;
    int32_t c;
    int32_t i;
    int32_t r;
    int32_t t;
    for (batch = 0; batch < p->batches; ++batch) {
        const int16_t *image = input + batch * p->input_h * p->input_w * channels;
        for (oy = 0; oy < p->output_h; ++oy) {
            for (ox = 0; ox < p->output_w; ++ox, out += channels) {
                const dw_window window = dw_window_of(p, oy, ox);
                for (c = 0; c < channels; c += 4) {
                    const mve_pred16_t lanes = vctp32q((uint32_t)(channels - c));
                    const int16_t *row = image + window.value + c;
                    const int8_t *weight_row = job->filter + window.weight + c;
                    int32x4_t acc = vdupq_n_s32(0);
                    for (r = 0; r < window.rows; ++r, row += window.value_row, weight_row += window.weight_row) {
                        const int16_t *x = row;
                        const int8_t *w = weight_row;
                        for (t = 0; t < window.columns; ++t, x += window.value_column, w += channels) {
                            acc = vaddq_s32(acc, vmulq_s32(vldrhq_z_s32(x, lanes), vldrbq_z_s32(w, lanes)));
                        }
                    }
                    vstrwq_s32(sums, acc);
                    for (i = 0; i < 4 && c + i < channels; ++i) {
                        store_output(job, out + c + i, c + i, sums[i]);
                    }
                }
            }
        }
    }
}

md_status md_depthwise_s16(const md_window_params *p, const int16_t *input, const int8_t *filter, const int64_t *bias,
                           const int32_t *multipliers, const int32_t *shifts, int16_t *output, int16_t *scratch)
{
    const depthwise_int_job job = depthwise_s16_job(p, filter, bias, multipliers, shifts, output);
    const int wide = depthwise_s16_wide(p, filter);
    const int rows = !wide && p->dilation_w == 1 && p->filter_w <= 8 && p->filter_h <= DW_S16_MAX_ROWS;
    if (depthwise_s16_fast(p) && scratch != NULL && rows) {
        depthwise_s16_planes(&job, input, scratch, plane_rows);
    } else if (depthwise_s16_fast(p) && scratch == NULL && !wide) {
        stream_lanes(&job, input);
    } else {
        md_depthwise_portable(p, input, MD_INT16, filter, bias, multipliers, shifts, output, scratch);
    }
    return MD_OK;
}

#endif /* MD_PATH_MVE */
