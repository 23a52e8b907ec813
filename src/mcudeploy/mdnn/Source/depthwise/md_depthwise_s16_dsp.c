/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: DEPTHWISE_CONV_2D 16x8 on the DSP extension (Cortex-M4, M7, M33; see
 * md_nn.h). Depth multiplier 1, both loop orders of the memory contract:
 * - planes (scratch): plane c is copied with its zero padding, so that every window lies inside it;
 *   two horizontal taps of a window row are one word of the plane, and the channel's weights of
 *   those taps one halfword pair: one SMLAD per two taps. The last odd tap of a row pairs with a
 *   zero weight, its word reading one value past the window (MD_PLANE_SLACK covers the last). Larger
 *   or dilated windows go tap by tap (SMLAL sums where they need int64).
 * - streaming (no scratch): four channels of a pixel at a time, a word of 4 int8 weights per tap
 *   sign-extended by SXTB16 into {w0, w2} and {w1, w3}, and SMLABB, SMLATB, SMLABT, SMLATT with the
 *   two words of 4 int16 values.
 * The sums are int32 where md_s16_sums_fit_int32 proves them exact (at most 511 taps: every layer
 * in practice), int64 otherwise, as TFLite's 16x8 kernel. */
#include "md_depthwise_int.h"

#if MD_PATH_DSP /* the ISA path this build takes: md_nn_support.h */

MD_PATH_SYMBOL(md_path_depthwise_s16_dsp);

#define DW_S16_MAX_PAIRS 64 /* tap pairs of a window held on the stack; larger windows go tap by tap */

static inline int32_t halfword_pair(int32_t low, int32_t high)
{
    return (int32_t)(((uint32_t)low & 0xFFFFu) | ((uint32_t)high << 16));
}

static MD_ALWAYS_INLINE void store_output(const depthwise_int_job *job, int16_t *out, int32_t channel, int64_t sum)
{
    *out = (int16_t)requantize_channel(job, channel, sum); /* the activation range lies within int16 */
}

/* ---- planes */

/* The sum of a window given as `rows` rows of `per_row` SMLAD pairs; a 3x3 window unrolled, its six
 * pairs in registers. */
static MD_ALWAYS_INLINE int32_t window_pairs(const int16_t *window, const int32_t *pairs, int32_t rows, int32_t per_row,
                                             int32_t row_step)
{
    int32_t sum = 0;
    int32_t fy;
    int32_t j;
    if (rows == 3 && per_row == 2) {
        sum = __smlad((int16x2_t)md_read32(window), pairs[0], 0);
        sum = __smlad((int16x2_t)md_read32(window + 2), pairs[1], sum);
        sum = __smlad((int16x2_t)md_read32(window + row_step), pairs[2], sum);
        sum = __smlad((int16x2_t)md_read32(window + row_step + 2), pairs[3], sum);
        sum = __smlad((int16x2_t)md_read32(window + 2 * row_step), pairs[4], sum);
        return __smlad((int16x2_t)md_read32(window + 2 * row_step + 2), pairs[5], sum);
    }
    for (fy = 0; fy < rows; ++fy, window += row_step) {
        for (j = 0; j < per_row; ++j) {
            sum = __smlad((int16x2_t)md_read32(window + 2 * j), pairs[fy * per_row + j], sum);
        }
    }
    return sum;
}

/* Dilation 1 across: each window row as SMLAD pairs (at most 128 taps: int32 sums). `rows` and
 * `per_row` (pairs a row) are constants in the 3x3 copy. */
static MD_ALWAYS_INLINE void plane_pairs_with(const depthwise_int_job *job, const dw_s16_plane *plane,
                                              int32_t channel, int16_t *out, int32_t rows, int32_t per_row)
{
    const md_window_params *p = job->p;
    const dw_s16_requant r = dw_s16_requant_of(job, channel);
    const int32_t row_step = p->dilation_h * plane->width;
    const int32_t out_step = p->output_c;
    int32_t pairs[DW_S16_MAX_PAIRS];
    int32_t fy;
    int32_t j;
    int32_t oy;
    int32_t ox;
    for (fy = 0; fy < rows; ++fy) {
        for (j = 0; j < per_row; ++j) {
            const int8_t *w = job->filter + (fy * p->filter_w + 2 * j) * p->output_c + channel;
            pairs[fy * per_row + j] = halfword_pair(w[0], 2 * j + 1 < p->filter_w ? w[p->output_c] : 0);
        }
    }
    for (oy = 0; oy < p->output_h; ++oy) {
        const int16_t *window = plane->values + oy * p->stride_h * plane->width;
        int16_t *to = out + oy * p->output_w * out_step;
        for (ox = 0; ox < p->output_w; ++ox, window += p->stride_w, to += out_step) {
            *to = dw_s16_requantize(&r, window_pairs(window, pairs, rows, per_row, row_step));
        }
    }
}

/* Any window, tap by tap. */
static MD_ALWAYS_INLINE void plane_taps_with(const depthwise_int_job *job, const dw_s16_plane *plane,
                                             int32_t channel, int16_t *out, int wide)
{
    const md_window_params *p = job->p;
    const dw_s16_requant r = dw_s16_requant_of(job, channel);
    int32_t oy;
    int32_t ox;
    int32_t fy;
    int32_t fx;
    for (oy = 0; oy < p->output_h; ++oy) {
        for (ox = 0; ox < p->output_w; ++ox) {
            const int16_t *window = plane->values + oy * p->stride_h * plane->width + ox * p->stride_w;
            int64_t wide_sum = 0;
            int32_t sum = 0;
            for (fy = 0; fy < p->filter_h; ++fy) {
                const int16_t *row = window + fy * p->dilation_h * plane->width;
                const int8_t *w = job->filter + fy * p->filter_w * p->output_c + channel;
                for (fx = 0; fx < p->filter_w; ++fx) {
                    const int32_t product = row[fx * p->dilation_w] * w[fx * p->output_c];
                    if (wide) {
                        wide_sum += product;
                    } else {
                        sum = md_wrap_add(sum, product);
                    }
                }
            }
            out[(oy * p->output_w + ox) * p->output_c] = dw_s16_requantize(&r, wide ? wide_sum : sum);
        }
    }
}

static MD_NOINLINE void plane_3x3(const depthwise_int_job *job, const dw_s16_plane *plane, int32_t channel,
                                         int16_t *out)
{
    plane_pairs_with(job, plane, channel, out, 3, 2);
}

static MD_NOINLINE void plane_pairs_any(const depthwise_int_job *job, const dw_s16_plane *plane, int32_t channel,
                                        int16_t *out)
{
    plane_pairs_with(job, plane, channel, out, job->p->filter_h, (job->p->filter_w + 1) / 2);
}

static MD_NOINLINE void plane_taps_narrow(const depthwise_int_job *job, const dw_s16_plane *plane, int32_t channel,
                                          int16_t *out)
{
    plane_taps_with(job, plane, channel, out, 0);
}

static MD_NOINLINE void plane_taps_wide(const depthwise_int_job *job, const dw_s16_plane *plane, int32_t channel,
                                        int16_t *out)
{
    plane_taps_with(job, plane, channel, out, 1);
}

/* ---- streaming */

/* The bottom (top = 0) or top halfword of a word, signed. */
static inline int32_t halfword(uint32_t word, int top)
{
    return (int16_t)(uint16_t)(top ? word >> 16 : word);
}

/* Channels c .. c + 3 of one output pixel. */
static MD_ALWAYS_INLINE void stream_quad(const depthwise_int_job *job, const int16_t *image, const dw_window *window,
                                         int32_t c, int16_t *out, int wide)
{
    const int32_t channels = job->p->input_c;
    const int16_t *row = image + window->value + c;
    const int8_t *weight_row = job->filter + window->weight + c;
    int32_t n0 = 0, n1 = 0, n2 = 0, n3 = 0;
    int64_t l0 = 0, l1 = 0, l2 = 0, l3 = 0;
    int32_t r;
    int32_t t;
    for (r = 0; r < window->rows; ++r, row += window->value_row, weight_row += window->weight_row) {
        const int16_t *x = row;
        const int8_t *w = weight_row;
        for (t = 0; t < window->columns; ++t, x += window->value_column, w += channels) {
            const uint32_t weights = md_read32(w);
            const uint32_t x01 = md_read32(x);
            const uint32_t x23 = md_read32(x + 2);
            const int16x2_t even = md_even_pair(weights); /* {w0, w2} */
            const int16x2_t odd = md_odd_pair(weights);   /* {w1, w3} */
            if (wide) {
                l0 += halfword(x01, 0) * halfword((uint32_t)even, 0);
                l1 += halfword(x01, 1) * halfword((uint32_t)odd, 0);
                l2 += halfword(x23, 0) * halfword((uint32_t)even, 1);
                l3 += halfword(x23, 1) * halfword((uint32_t)odd, 1);
            } else {
                n0 = __smlabb((int32_t)x01, even, n0);
                n1 = __smlatb((int32_t)x01, odd, n1);
                n2 = __smlabt((int32_t)x23, even, n2);
                n3 = __smlatt((int32_t)x23, odd, n3);
            }
        }
    }
    store_output(job, out + c, c, wide ? l0 : n0);
    store_output(job, out + c + 1, c + 1, wide ? l1 : n1);
    store_output(job, out + c + 2, c + 2, wide ? l2 : n2);
    store_output(job, out + c + 3, c + 3, wide ? l3 : n3);
}

static MD_ALWAYS_INLINE void stream_with(const depthwise_int_job *job, const int16_t *input, int wide)
{
    const md_window_params *p = job->p;
    const int32_t channels = p->input_c;
    int16_t *out = (int16_t *)job->output;
    int32_t batch;
    int32_t oy;
    int32_t ox;
    int32_t c;
    for (batch = 0; batch < p->batches; ++batch) {
        const int16_t *image = input + batch * p->input_h * p->input_w * channels;
        for (oy = 0; oy < p->output_h; ++oy) {
            for (ox = 0; ox < p->output_w; ++ox, out += channels) {
                const dw_window window = dw_window_of(p, oy, ox);
                for (c = 0; c + 4 <= channels; c += 4) {
                    stream_quad(job, image, &window, c, out, wide);
                }
                if (c < channels) {
                    const md_taps taps = md_window_taps(p, oy, ox);
                    for (; c < channels; ++c) {
                        store_output(job, out + c, c, tap_sum(job, image, c, channels, &taps, c));
                    }
                }
            }
        }
    }
}

static MD_NOINLINE void stream_narrow(const depthwise_int_job *job, const int16_t *input)
{
    stream_with(job, input, 0);
}

static MD_NOINLINE void stream_wide(const depthwise_int_job *job, const int16_t *input)
{
    stream_with(job, input, 1);
}

md_status md_depthwise_s16(const md_window_params *p, const int16_t *input, const int8_t *filter, const int64_t *bias,
                           const int32_t *multipliers, const int32_t *shifts, int16_t *output, int16_t *scratch)
{
    const depthwise_int_job job = depthwise_s16_job(p, filter, bias, multipliers, shifts, output);
    const int wide = depthwise_s16_wide(p, filter);
    const int pairs = !wide && p->dilation_w == 1 && p->filter_h * ((p->filter_w + 1) / 2) <= DW_S16_MAX_PAIRS;
    if (!depthwise_s16_fast(p)) {
        md_depthwise_portable(p, input, MD_INT16, filter, bias, multipliers, shifts, output, scratch);
    } else if (scratch == NULL) {
        (wide ? stream_wide : stream_narrow)(&job, input);
    } else if (pairs && p->filter_h == 3 && p->filter_w == 3) {
        depthwise_s16_planes(&job, input, scratch, plane_3x3);
    } else if (pairs) {
        depthwise_s16_planes(&job, input, scratch, plane_pairs_any);
    } else {
        depthwise_s16_planes(&job, input, scratch, wide ? plane_taps_wide : plane_taps_narrow);
    }
    return MD_OK;
}

#endif /* MD_PATH_DSP */
