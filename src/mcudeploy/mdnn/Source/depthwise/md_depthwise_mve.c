/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: DEPTHWISE_CONV_2D for MVE (Helium) cores (see md_nn.h, md_nn_support.h).
 *
 * int8 with depth multiplier 1, in the loop order the memory contract declares:
 * - streaming: pixel by pixel; the channels of a pixel go 8 at a time (int8 widened to int16 lanes,
 *   summed in int32 even/odd lanes), in order, each read before it is written; only the taps inside
 *   the image are read, and a window wholly inside starts from bias + offset * sum(weights) folded
 *   once per call (the raw inputs multiplied); the inside pixels of a row run in one call;
 * - planes: channel c copied into the padded plane (the padding holds the zero point, so every
 *   window lies inside), then four output pixels of a row per vector (3x3 stride 1 unrolled).
 * - depth multipliers of 4 to 16 (streaming): four outputs of one input channel a vector; with a
 *   single input channel, each output row's input rows interleaved on the stack so that a window
 *   is one load and an output one VMLADAV.
 * Other cases (16x8, other depth multipliers, 64-bit accumulators) run the portable kernel.
 */
#include "md_depthwise_int.h"

#if MD_PATH_MVE /* the ISA path this build takes: md_nn_support.h */

MD_PATH_SYMBOL(md_path_depthwise_mve);

/* The pixel kernels are kept out of line (MD_NOINLINE): inlined into the pixel loops, GCC spilled
 * their pointers and accumulators inside the tap loops. */

/* Channels whose bias + offset * sum(weights) the streaming kernel keeps on its stack (256 bytes):
 * the windows inside the image skip summing their weights. */
#define MD_DW_STACK_STARTS 64

typedef struct {
    const md_window_params *p;
    const int8_t *filter;
    md_mve_requant requant;
    int8_t *output;
} dw_s8_job;

/* md_tap_range, a window wholly inside settled without looping over its taps. */
static inline void tap_range(int32_t out, int32_t stride, int32_t pad, int32_t dilation, int32_t filter,
                             int32_t size, int32_t *first, int32_t *last)
{
    const int32_t origin = md_window_origin(out, stride, pad);
    if (origin >= 0 && origin + (filter - 1) * dilation < size) {
        *first = 0;
        *last = filter;
        return;
    }
    md_tap_range(out, stride, pad, dilation, filter, size, first, last);
}

/* The run [*first, *last) of outputs along one axis whose windows lie wholly inside the input. */
static void inside_run(int32_t outputs, int32_t stride, int32_t pad, int32_t dilation, int32_t filter, int32_t size,
                       int32_t *first, int32_t *last)
{
    const int32_t reach = (filter - 1) * dilation;
    int32_t low = 0;
    int32_t high = outputs;
    while (low < high && md_window_origin(low, stride, pad) < 0) {
        ++low;
    }
    while (high > low && md_window_origin(high - 1, stride, pad) + reach >= size) {
        --high;
    }
    *first = low;
    *last = high;
}

/* The taps of one output pixel inside the image, for the streaming kernel: `rows` x `columns` of
 * them from `x` (the input at channel 0 of the first) and `w` (its weights at channel 0). */
typedef struct {
    const int8_t *x;
    const int8_t *w;
    int32_t rows, columns;
    int32_t x_column;   /* input step between taps of a row */
    int32_t x_row;      /* input step from past a row's last tap to the next row's first */
    int32_t w_row;      /* weight step from past a row's last tap to the next row's first */
    const md_mve_requant *folded;  /* its bias: bias + offset * sum(weights), a window wholly inside */
    const md_mve_requant *summing; /* its bias: the bias (or NULL) */
} dw_pixel;

/* store8's first `count` (< 8) channels: gathered at each half's channels (every other one),
 * reading none past `count`; out of line, as few channel counts leave a partial vector. */
MD_NOINLINE static void store8_part(const md_mve_requant *r, int32x4_t even, int32x4_t odd, int32_t channel,
                                    int32_t count, int8_t *out)
{
    const uint32x4_t halves = vidupq_n_u32(0, 2); /* channels 0, 2, 4, 6 from the half's first */
    const mve_pred16_t evens = vctp32q((uint32_t)(count + 1) / 2);
    const mve_pred16_t odds = vctp32q((uint32_t)count / 2);
    vstrbq_scatter_offset_p_s32(out + channel, halves, md_mve_requantize_at(r, even, channel, halves, evens), evens);
    vstrbq_scatter_offset_p_s32(out + channel + 1, halves, md_mve_requantize_at(r, odd, channel + 1, halves, odds),
                                odds);
}

/* Requantizes 8 channels from their even and odd sums (`r`'s bias: the starts or the bias) and
 * stores the first `count`, each half's bytes scattered to its channels (every other one), the
 * bias, multipliers and shifts loaded split into even and odd channels (VLD2). */
static MD_ALWAYS_INLINE void store8(const md_mve_requant *r, int32x4_t even, int32x4_t odd, int32_t channel,
                                    int32_t count, int8_t *out)
{
    const uint32x4_t halves = vidupq_n_u32(0, 2);
    if (count < 8) {
        store8_part(r, even, odd, channel, count, out);
        return;
    }
    if (r->bias) {
        const int32x4x2_t bias = vld2q_s32(r->bias + channel);
        even = vaddq_s32(even, bias.val[0]);
        odd = vaddq_s32(odd, bias.val[1]);
    }
    if (r->per_channel) {
        const int32x4x2_t multipliers = vld2q_s32(r->multipliers + channel);
        const int32x4x2_t shifts = vld2q_s32(r->shifts + channel);
        even = md_mve_requantize_lanes(r, even, multipliers.val[0], shifts.val[0]);
        odd = md_mve_requantize_lanes(r, odd, multipliers.val[1], shifts.val[1]);
    } else {
        const int32x4_t multiplier = vdupq_n_s32(r->multipliers[0]), shift = vdupq_n_s32(r->shifts[0]);
        even = md_mve_requantize_lanes(r, even, multiplier, shift);
        odd = md_mve_requantize_lanes(r, odd, multiplier, shift);
    }
    vstrbq_scatter_offset_s32(out + channel, halves, even);
    vstrbq_scatter_offset_s32(out + channel + 1, halves, odd);
}

/* Channels c .. c + 7 of one output pixel, widened to int16 (lanes past `count` neither read nor
 * written when `tail`), summed in int32 even and odd lanes: each tap one widening load of the inputs
 * and one of the weights, VMULLB, VMULLT and two adds. The raw inputs are multiplied, the sums
 * starting from the pixel's starts (bias + offset * sum(weights), `r`'s bias) or, `summing`, from
 * the bias with the offset added to each input (x + offset fits int16: both within [-128, 128], not
 * both 128). */
static MD_ALWAYS_INLINE void channels_block(const dw_s8_job *job, const md_mve_requant *r, const dw_pixel *t,
                                            int32_t c, int tail, int32_t count, int summing, int8_t *out)
{
    const int32_t channels = job->p->input_c;
    const int16_t offset = (int16_t)job->p->input_offset;
    const mve_pred16_t lanes = vctp16q((uint32_t)(tail ? count : 8));
    const int8_t *x = t->x + c;
    const int8_t *w = t->w + c;
    int32x4_t even = vdupq_n_s32(0);
    int32x4_t odd = even;
    int32_t fy;
    int32_t fx;
    for (fy = 0; fy < t->rows; ++fy, x += t->x_row, w += t->w_row) {
        for (fx = 0; fx < t->columns; ++fx, x += t->x_column, w += channels) {
            const int16x8_t weights = tail ? vldrbq_z_s16(w, lanes) : vldrbq_s16(w);
            int16x8_t values = tail ? vldrbq_z_s16(x, lanes) : vldrbq_s16(x);
            if (summing) {
                values = vaddq_n_s16(values, offset);
            }
            even = vaddq_s32(even, vmullbq_int_s16(values, weights));
            odd = vaddq_s32(odd, vmulltq_int_s16(values, weights));
        }
    }
    store8(r, even, odd, c, tail ? count : 8, out);
}

/* Channels first .. last - 1 of one output pixel: vectors of 8 (two at a time spilled registers in the
 * tap loop), then the tail. */
static MD_ALWAYS_INLINE void pixel_channels(const dw_s8_job *job, const md_mve_requant *r, const dw_pixel *t,
                                            int32_t first, int32_t last, int summing, int8_t *out)
{
    int32_t c = first;
    for (; c + 8 <= last; c += 8) {
        channels_block(job, r, t, c, 0, 8, summing, out);
    }
    if (c < last) {
        channels_block(job, r, t, c, 1, last - c, summing, out);
    }
}

/* One output pixel whose window leaves the image, out of line. */
MD_NOINLINE static void pixel_summing(const dw_s8_job *job, const dw_pixel *t, int8_t *out)
{
    const md_mve_requant summing = *t->summing; /* a local: its fields stay in registers */
    pixel_channels(job, &summing, t, 0, job->p->input_c, 1, out);
}

/* Settles the sums after each tap: with the nine taps of a 3x3 window written out, GCC otherwise
 * hoists all the loads and products ahead of the sums and spills them to the stack. */
#if defined(__GNUC__)
#define DW_TAP_ORDER(a, b, c, d) __asm__ volatile("" : "+w"(a), "+w"(b), "+w"(c), "+w"(d))
#else
#define DW_TAP_ORDER(a, b, c, d) ((void)0)
#endif

/* One tap of 8 channels for two output pixels, their values `apart` bytes: one weight load for both. */
static MD_ALWAYS_INLINE void tap_8x2(const int8_t *x, int32_t apart, const int8_t *w, int32x4_t *even0,
                                     int32x4_t *odd0, int32x4_t *even1, int32x4_t *odd1)
{
    const int16x8_t weights = vldrbq_s16(w);
    const int16x8_t first = vldrbq_s16(x);
    const int16x8_t second = vldrbq_s16(x + apart);
    *even0 = vaddq_s32(*even0, vmullbq_int_s16(first, weights));
    *odd0 = vaddq_s32(*odd0, vmulltq_int_s16(first, weights));
    *even1 = vaddq_s32(*even1, vmullbq_int_s16(second, weights));
    *odd1 = vaddq_s32(*odd1, vmulltq_int_s16(second, weights));
    DW_TAP_ORDER(*even0, *odd0, *even1, *odd1);
}

/* Channels c .. c + 7 of two output pixels `apart` input bytes, 3x3 windows wholly inside, every
 * channel from its folded start, as block_3x3. */
static MD_ALWAYS_INLINE void block_3x3x2(const md_mve_requant *r, const int8_t *x, int32_t apart, const int8_t *w,
                                         int32_t row, int32_t channels, int32_t c, int8_t *out0, int8_t *out1)
{
    const int8_t *x1 = x + c + row;
    const int8_t *x2 = x1 + row;
    int32x4_t even0 = vdupq_n_s32(0);
    int32x4_t odd0 = even0, even1 = even0, odd1 = even0;
    x += c;
    w += c;
    tap_8x2(x, apart, w, &even0, &odd0, &even1, &odd1);
    tap_8x2(x + channels, apart, w + channels, &even0, &odd0, &even1, &odd1);
    tap_8x2(x + 2 * channels, apart, w + 2 * channels, &even0, &odd0, &even1, &odd1);
    tap_8x2(x1, apart, w + 3 * channels, &even0, &odd0, &even1, &odd1);
    tap_8x2(x1 + channels, apart, w + 4 * channels, &even0, &odd0, &even1, &odd1);
    tap_8x2(x1 + 2 * channels, apart, w + 5 * channels, &even0, &odd0, &even1, &odd1);
    tap_8x2(x2, apart, w + 6 * channels, &even0, &odd0, &even1, &odd1);
    tap_8x2(x2 + channels, apart, w + 7 * channels, &even0, &odd0, &even1, &odd1);
    tap_8x2(x2 + 2 * channels, apart, w + 8 * channels, &even0, &odd0, &even1, &odd1);
    store8(r, even0, odd0, c, 8, out0);
    store8(r, even1, odd1, c, 8, out1);
}

/* `pixels` (even) output pixels of a row whose 3x3 windows (dilation 1) lie wholly inside, `step`
 * input bytes apart, as row_inside: up to MD_DW_STACK_STARTS channels, a multiple of 8, all from
 * their folded starts. Two pixels at a time, one weight load for both; the second pixel's outputs
 * kept on the stack until the first pixel's last channels are read, as the contract's order (pixel
 * by pixel) has it. */
MD_NOINLINE static void pairs_inside_3x3(const dw_s8_job *job, const dw_pixel *first, int32_t pixels, int32_t step,
                                         int8_t *out)
{
    const int32_t channels = job->p->input_c;
    const int32_t row = job->p->input_w * channels;
    const md_mve_requant from_starts = *first->folded; /* a local: its fields stay in registers */
    const int8_t *x = first->x;
    int8_t second[MD_DW_STACK_STARTS];
    int32_t c;
    for (; pixels > 0; pixels -= 2, x += 2 * step, out += 2 * channels) {
        for (c = 0; c < channels; c += 8) {
            block_3x3x2(&from_starts, x, step, first->w, row, channels, c, out, second);
        }
        for (c = 0; c < channels; c += 16) { /* at most 64 bytes: four vectors */
            const mve_pred16_t bytes = vctp8q((uint32_t)(channels - c));
            vstrbq_p_s8(out + channels + c, vldrbq_z_s8(second + c, bytes), bytes);
        }
    }
}

/* `pixels` output pixels of a row whose windows lie wholly inside, `step` input bytes apart, their
 * first `folded` channels from the folded starts, the others summing. */
MD_NOINLINE static void row_inside(const dw_s8_job *job, const dw_pixel *first, int32_t pixels, int32_t step,
                                   int32_t folded, int8_t *out)
{
    const int32_t channels = job->p->input_c;
    const md_mve_requant from_starts = *first->folded; /* locals: their fields stay in registers */
    const md_mve_requant from_bias = *first->summing;
    dw_pixel t = *first;
    for (; pixels > 0; --pixels, t.x += step, out += channels) {
        pixel_channels(job, &from_starts, &t, 0, folded, 0, out);
        if (folded < channels) {
            pixel_channels(job, &from_bias, &t, folded, channels, 1, out);
        }
    }
}

/* bias + offset * sum(weights) of channels 0 .. count - 1 into `starts`, four a vector. */
static void fold_starts(const md_window_params *p, const int8_t *filter, const int32_t *bias, int32_t count,
                        int32_t *starts)
{
    const int32_t taps = p->filter_h * p->filter_w;
    int32_t c;
    int32_t t;
    for (c = 0; c < count; c += 4) {
        const mve_pred16_t lanes = vctp32q((uint32_t)(count - c));
        int32x4_t sum = vdupq_n_s32(0);
        for (t = 0; t < taps; ++t) {
            sum = vaddq_s32(sum, vldrbq_z_s32(filter + t * p->input_c + c, lanes));
        }
        sum = vmulq_n_s32(sum, p->input_offset);
        if (bias) {
            sum = vaddq_s32(sum, vldrwq_z_s32(bias + c, lanes));
        }
        vstrwq_p_s32(starts + c, sum, lanes);
    }
}

/* Pixel by pixel, the channels of a pixel in order, each read before it is written; only the taps
 * inside the image are read. A window wholly inside starts its first MD_DW_STACK_STARTS channels
 * from their folded starts. Out of line: its stack (the starts) is taken only by layers that stream. */
MD_NOINLINE static void stream_s8(const dw_s8_job *job, const int8_t *input, const int32_t *bias)
{
    const md_window_params *p = job->p;
    const int32_t channels = p->input_c;
    const int32_t folded = md_min_i32(channels, MD_DW_STACK_STARTS);
    const int pairs_3x3 = p->filter_h == 3 && p->filter_w == 3 && p->dilation_h == 1 && p->dilation_w == 1 &&
                          folded == channels && channels % 8 == 0;
    int32_t starts[MD_DW_STACK_STARTS];
    md_mve_requant folded_requant = job->requant;
    md_mve_requant summing_requant = job->requant;
    int32_t rows_first, rows_last, columns_first, columns_last;
    dw_pixel t;
    int32_t batch;
    int32_t oy;
    int32_t ox;
    fold_starts(p, job->filter, bias, folded, starts);
    folded_requant.bias = starts;
    summing_requant.bias = bias;
    t.folded = &folded_requant;
    t.summing = &summing_requant;
    t.x_column = p->dilation_w * channels;
    inside_run(p->output_h, p->stride_h, p->pad_top, p->dilation_h, p->filter_h, p->input_h, &rows_first, &rows_last);
    inside_run(p->output_w, p->stride_w, p->pad_left, p->dilation_w, p->filter_w, p->input_w, &columns_first,
               &columns_last);
    for (batch = 0; batch < p->batches; ++batch) {
        const int8_t *image = input + batch * p->input_h * p->input_w * channels;
        int8_t *out = job->output + batch * p->output_h * p->output_w * p->output_c;
        for (oy = 0; oy < p->output_h; ++oy) {
            const int32_t y0 = md_window_origin(oy, p->stride_h, p->pad_top);
            int32_t y_first, y_last;
            tap_range(oy, p->stride_h, p->pad_top, p->dilation_h, p->filter_h, p->input_h, &y_first, &y_last);
            t.rows = md_max_i32(y_last - y_first, 0);
            for (ox = 0; ox < p->output_w; ++ox, out += p->output_c) {
                const int32_t x0 = md_window_origin(ox, p->stride_w, p->pad_left);
                int32_t x_first, x_last;
                tap_range(ox, p->stride_w, p->pad_left, p->dilation_w, p->filter_w, p->input_w, &x_first, &x_last);
                t.columns = md_max_i32(x_last - x_first, 0);
                t.x = image + ((y0 + y_first * p->dilation_h) * p->input_w + x0 + x_first * p->dilation_w) * channels;
                t.w = job->filter + (y_first * p->filter_w + x_first) * channels;
                t.x_row = p->dilation_h * p->input_w * channels - t.columns * t.x_column;
                t.w_row = (p->filter_w - t.columns) * channels;
                if (oy >= rows_first && oy < rows_last && ox == columns_first && columns_last > columns_first) {
                    const int32_t pixels = columns_last - columns_first;
                    const int32_t pairs = pairs_3x3 ? pixels & ~1 : 0;
                    if (pairs) {
                        pairs_inside_3x3(job, &t, pairs, p->stride_w * channels, out);
                        t.x += pairs * p->stride_w * channels;
                    }
                    if (pixels > pairs) {
                        row_inside(job, &t, pixels - pairs, p->stride_w * channels, folded, out + pairs * channels);
                    }
                    ox += pixels - 1;
                    out += (pixels - 1) * p->output_c;
                    continue;
                }
                pixel_summing(job, &t, out);
            }
        }
    }
}

/* A depth multiplier m (a multiple of 4, at most MD_DEPTHWISE_CHUNK), streaming: for each input
 * channel of a pixel, its m outputs four a vector, the value under each tap (plus the offset)
 * multiplying a vector of weights; all m computed before any is written. */
MD_NOINLINE static void stream_multiplier_s8(const dw_s8_job *job, const int8_t *input)
{
    const md_window_params *p = job->p;
    const int32_t multiplier = p->output_c / p->input_c;
    const int32_t vectors = multiplier / 4;
    int32x4_t acc[MD_DEPTHWISE_CHUNK / 4];
    int32_t batch;
    int32_t oy;
    int32_t ox;
    int32_t c;
    int32_t k;
    int32_t fy;
    int32_t fx;
    for (batch = 0; batch < p->batches; ++batch) {
        const int8_t *image = input + batch * p->input_h * p->input_w * p->input_c;
        for (oy = 0; oy < p->output_h; ++oy) {
            for (ox = 0; ox < p->output_w; ++ox) {
                const md_taps taps = md_window_taps(p, oy, ox);
                int8_t *out = job->output + ((batch * p->output_h + oy) * p->output_w + ox) * p->output_c;
                for (c = 0; c < p->input_c; ++c) {
                    const int8_t *weights = job->filter + c * multiplier;
                    for (k = 0; k < vectors; ++k) {
                        acc[k] = vdupq_n_s32(0);
                    }
                    for (fy = taps.y_first; fy < taps.y_last; ++fy) {
                        for (fx = taps.x_first; fx < taps.x_last; ++fx) {
                            const int32_t pixel = md_taps_pixel(p, &taps, fy, fx);
                            const int32_t value = image[pixel * p->input_c + c] + p->input_offset;
                            const int8_t *tap = weights + (fy * p->filter_w + fx) * p->output_c;
                            for (k = 0; k < vectors; ++k) {
                                acc[k] = vmlaq_n_s32(acc[k], vldrbq_s32(tap + 4 * k), value);
                            }
                        }
                    }
                    for (k = 0; k < vectors; ++k) {
                        acc[k] = md_mve_requantize(&job->requant, acc[k], c * multiplier + 4 * k, vctp32q(4));
                    }
                    for (k = 0; k < vectors; ++k) {
                        vstrbq_s32(out + c * multiplier + 4 * k, acc[k]);
                    }
                }
            }
        }
    }
}

/* ------------------------------------------------------------------ padded planes */

/* The output plane of one channel from its padded plane (`width` bytes a row; every window
 * inside, the padding holding the zero point): four output pixels of a row per vector, one per
 * lane, each tap one widening (gathering at a stride) load and one multiply-accumulate by the
 * tap's weight. The sums start from bias + offset * sum(weights), so the raw values are summed. */
MD_NOINLINE static void plane_rows(const dw_s8_job *job, const int8_t *plane, int32_t width, int32_t channel,
                                         int32_t start, int8_t *out)
{
    const md_window_params *p = job->p;
    const int8_t *weights = job->filter + channel;
    const int32_t q = p->per_channel ? channel : 0;
    const int32x4_t multiplier = vdupq_n_s32(job->requant.multipliers[q]);
    const int32x4_t shift = vdupq_n_s32(job->requant.shifts[q]);
    const int32x4_t low = vdupq_n_s32(job->requant.low), high = vdupq_n_s32(job->requant.high);
    const uint32x4_t lane_in = vmulq_n_u32(vidupq_n_u32(0, 1), (uint32_t)p->stride_w);
    const uint32x4_t lane_out = vmulq_n_u32(vidupq_n_u32(0, 1), (uint32_t)p->output_c);
    int32_t oy;
    int32_t ox;
    int32_t fy;
    int32_t fx;
    for (oy = 0; oy < p->output_h; ++oy) {
        const int8_t *row = plane + oy * p->stride_h * width;
        for (ox = 0; ox < p->output_w; ox += 4) {
            const mve_pred16_t lanes = vctp32q((uint32_t)(p->output_w - ox));
            const int8_t *origin = row + ox * p->stride_w;
            int32x4_t acc = vdupq_n_s32(start);
            for (fy = 0; fy < p->filter_h; ++fy) {
                for (fx = 0; fx < p->filter_w; ++fx) {
                    const int8_t *tap = origin + fy * p->dilation_h * width + fx * p->dilation_w;
                    const int32x4_t values =
                        p->stride_w == 1 ? vldrbq_s32(tap) : vldrbq_gather_offset_s32(tap, lane_in);
                    acc = vmlaq_n_s32(acc, values, weights[(fy * p->filter_w + fx) * p->output_c]);
                }
            }
            acc = vaddq_n_s32(md_mve_mbqm(acc, multiplier, shift), job->requant.output_offset);
            vstrbq_scatter_offset_p_s32(out + (oy * p->output_w + ox) * p->output_c, lane_out,
                                        vminq_s32(vmaxq_s32(acc, low), high), lanes);
        }
    }
}

/* Channel c of the image into the plane's inside, 8 values of a row a gather (at the channel count:
 * 16-bit offsets, which 16 lanes of 8 bits would overflow). */
static void copy_plane(const md_window_params *p, const int8_t *image, int32_t channel, int8_t *inside, int32_t width)
{
    const int32_t c = p->input_c;
    const int32_t in_w = p->input_w;
    const int32_t row_bytes = in_w * c;
    const uint16x8_t lane = vmulq_n_u16(vidupq_n_u16(0, 1), (uint16_t)c);
    const int8_t *source = image + channel;
    int32_t y;
    int32_t x;
    if (c > 0xFFFF / 7) { /* offsets beyond 16 bits */
        for (y = 0; y < p->input_h; ++y, source += row_bytes, inside += width) {
            for (x = 0; x < in_w; ++x) {
                inside[x] = source[x * c];
            }
        }
        return;
    }
    if (in_w <= 8) { /* one gather a row */
        const mve_pred16_t lanes = vctp16q((uint32_t)in_w);
        for (y = p->input_h; y > 0; --y, source += row_bytes, inside += width) {
            vstrbq_p_s16(inside, vldrbq_gather_offset_z_s16(source, lane, lanes), lanes);
        }
        return;
    }
    for (y = 0; y < p->input_h; ++y, source += row_bytes, inside += width) {
        for (x = 0; x < in_w; x += 8) {
            const mve_pred16_t lanes = vctp16q((uint32_t)(in_w - x));
            vstrbq_p_s16(inside + x, vldrbq_gather_offset_z_s16(source + x * c, lane, lanes), lanes);
        }
    }
}

/* ------------------------------------------------------------------ windows in the lanes of a vector */

/* The taps of a window (at most 16) one per byte lane, lanes without a tap off: lane 2i holds tap i
 * and lane 2i + 1 tap 8 + i, the order in which narrowing two 8-lane gathers lays out the weights.
 * A window's values gathered into these lanes and multiplied by its weights in the same lanes
 * make one VMLADAVA: 16 products, one output. */
typedef struct {
    uint8x16_t input;       /* each tap's value from the window's first one (bytes) */
    uint8x16_t weight;      /* each tap's weight from the output channel's first one, when 8 bits hold it */
    uint8x16_t row, column; /* each lane's fy and fx (0xFF without a tap) */
    uint16x8_t low, high;   /* tap i's and tap 8 + i's weight offsets (16 bits) */
    mve_pred16_t taps;      /* the lanes holding a tap */
    mve_pred16_t low_taps, high_taps; /* the 16-bit lanes of low and high holding a tap */
    int weights8;           /* whether `weight` holds every offset */
} dw_lanes;

/* The lanes of p's window in a source of `row_bytes` a row and `column_bytes` a column; 0 when
 * the window has more than 16 taps or spans more than 255 bytes. */
static int lanes_of(const md_window_params *p, int32_t row_bytes, int32_t column_bytes, dw_lanes *l)
{
    const int32_t taps = p->filter_h * p->filter_w;
    uint8_t input[16], weight[16], row[16], column[16];
    uint16_t low[8], high[8];
    int32_t lane;
    int32_t t;
    l->taps = 0;
    l->weights8 = (taps - 1) * p->output_c <= 0xFF;
    if (taps > 16 ||
        (p->filter_h - 1) * p->dilation_h * row_bytes + (p->filter_w - 1) * p->dilation_w * column_bytes > 0xFF) {
        return 0;
    }
    for (lane = 0; lane < 16; ++lane) {
        input[lane] = 0;
        weight[lane] = 0;
        row[lane] = 0xFF;
        column[lane] = 0xFF;
    }
    for (t = 0; t < 16; ++t) {
        const int32_t fy = t / p->filter_w;
        const int32_t fx = t % p->filter_w;
        const uint16_t offset = (uint16_t)(t < taps ? t * p->output_c : 0);
        lane = t < 8 ? 2 * t : 2 * (t - 8) + 1;
        (t < 8 ? low : high)[t % 8] = offset;
        if (t < taps) {
            input[lane] = (uint8_t)(fy * p->dilation_h * row_bytes + fx * p->dilation_w * column_bytes);
            weight[lane] = (uint8_t)offset;
            row[lane] = (uint8_t)fy;
            column[lane] = (uint8_t)fx;
            l->taps |= (mve_pred16_t)(1u << lane);
        }
    }
    l->input = vldrbq_u8(input);
    l->weight = vldrbq_u8(weight);
    l->row = vldrbq_u8(row);
    l->column = vldrbq_u8(column);
    l->low = vldrhq_u16(low);
    l->high = vldrhq_u16(high);
    l->low_taps = vctp16q((uint32_t)md_min_i32(taps, 8));
    l->high_taps = vctp16q((uint32_t)md_max_i32(taps - 8, 0));
    return 1;
}

/* The weights of the output channel whose first weight is `first`, in the lanes of its taps. */
static inline int8x16_t lane_weights(const dw_lanes *l, const int8_t *first)
{
    const int16x8_t low = vldrbq_gather_offset_z_s16(first, l->low, l->low_taps);
    const int16x8_t high = vldrbq_gather_offset_z_s16(first, l->high, l->high_taps);
    return vmovntq_s16(vmovnbq_s16(vdupq_n_s8(0), low), high);
}

/* Four sums of one channel from `start` (its bias plus offset * sum of weights) on, scaled and
 * offset (not yet clamped). */
static inline int32x4_t requantize4(int32x4_t sums, int32_t start, int32_t multiplier, int32_t shift,
                                    int32_t output_offset)
{
    return vaddq_n_s32(md_mve_mbqm_n(vaddq_n_s32(sums, start), multiplier, shift), output_offset);
}

/* The lanes whose taps' rows (`rows`) or columns fall in [first, last). */
static inline mve_pred16_t lanes_between(uint8x16_t lanes, int32_t first, int32_t last)
{
    return vcmpcsq_n_u8(lanes, (uint8_t)first) & vcmphiq_u8(vdupq_n_u8((uint8_t)last), lanes);
}

/* Depth multipliers m (a multiple of 4, at most 16), streaming, the window in the lanes: for each
 * input channel of a pixel, its window gathered once (the taps outside masked off), then each
 * output one VMLADAVA by its gathered weights, plus the offset times their sum; the m outputs
 * computed before any is written. */
MD_NOINLINE static void stream_multiplier_lanes_s8(const dw_s8_job *job, const dw_lanes *l, const int8_t *input)
{
    const md_window_params *p = job->p;
    const int32_t channels = p->input_c;
    const int32_t multiplier = p->output_c / channels;
    const int32_t offset = p->input_offset;
    int32x4_t results[MD_DEPTHWISE_CHUNK / 4];
    int32_t columns_first, columns_last;
    int32_t batch;
    int32_t oy;
    int32_t ox;
    int32_t c;
    int32_t k;
    inside_run(p->output_w, p->stride_w, p->pad_left, p->dilation_w, p->filter_w, p->input_w, &columns_first,
               &columns_last);
    for (batch = 0; batch < p->batches; ++batch) {
        const int8_t *image = input + batch * p->input_h * p->input_w * channels;
        int8_t *out = job->output + batch * p->output_h * p->output_w * p->output_c;
        for (oy = 0; oy < p->output_h; ++oy) {
            const int32_t y0 = md_window_origin(oy, p->stride_h, p->pad_top);
            int32_t y_first, y_last;
            mve_pred16_t rows_inside;
            tap_range(oy, p->stride_h, p->pad_top, p->dilation_h, p->filter_h, p->input_h, &y_first, &y_last);
            rows_inside = l->taps & lanes_between(l->row, y_first, y_last);
            for (ox = 0; ox < p->output_w; ++ox, out += p->output_c) {
                const int32_t x0 = md_window_origin(ox, p->stride_w, p->pad_left);
                mve_pred16_t inside = rows_inside;
                if (ox < columns_first || ox >= columns_last) { /* the window leaves the image sideways */
                    int32_t x_first, x_last;
                    tap_range(ox, p->stride_w, p->pad_left, p->dilation_w, p->filter_w, p->input_w, &x_first, &x_last);
                    inside &= lanes_between(l->column, x_first, x_last);
                }
                /* the window's first value, outside the image when padded: only lanes inside load */
                const uintptr_t window = (uintptr_t)image + (uintptr_t)(intptr_t)((y0 * p->input_w + x0) * channels);
                for (c = 0; c < channels; ++c) {
                    const int8x16_t x = vldrbq_gather_offset_z_s8((const int8_t *)(window + (uintptr_t)c), l->input,
                                                                  inside);
                    const int8_t *w = job->filter + c * multiplier;
                    for (k = 0; k < multiplier; k += 4, w += 4) {
                        const int8x16_t w0 = vldrbq_gather_offset_z_s8(w, l->weight, inside);
                        const int8x16_t w1 = vldrbq_gather_offset_z_s8(w + 1, l->weight, inside);
                        const int8x16_t w2 = vldrbq_gather_offset_z_s8(w + 2, l->weight, inside);
                        const int8x16_t w3 = vldrbq_gather_offset_z_s8(w + 3, l->weight, inside);
                        const int32x4_t sums = md_mve_vector4(vmladavq_s8(x, w0), vmladavq_s8(x, w1),
                                                              vmladavq_s8(x, w2), vmladavq_s8(x, w3));
                        const int32x4_t weights =
                            md_mve_vector4(vaddvq_s8(w0), vaddvq_s8(w1), vaddvq_s8(w2), vaddvq_s8(w3));
                        results[k / 4] = md_mve_requantize(&job->requant, vmlaq_n_s32(sums, weights, offset),
                                                           c * multiplier + k, vctp32q(4));
                    }
                    for (k = 0; k < multiplier; k += 4) {
                        vstrbq_s32(out + c * multiplier + k, results[k / 4]);
                    }
                }
            }
        }
    }
}

/* The sum of one output pixel's window (first value at `x`) by the weights, then on to the next
 * pixel: `step` along the row, and past the row's end to the next row's start. */
static inline int32_t pixel_sum(const int8_t **x, int32_t *left, uint8x16_t taps, int8x16_t weights, int32_t step,
                                int32_t next_row, int32_t out_w)
{
    const int32_t sum = vmladavq_s8(vldrbq_gather_offset_s8(*x, taps), weights);
    *x += step;
    if (--*left == 0) {
        *x += next_row;
        *left = out_w;
    }
    return sum;
}

/* The output plane of one channel from its padded plane (`width` bytes a row, every window inside,
 * the padding holding the zero point), the window in the lanes: each output pixel one gather and
 * one VMLADAVA, four pixels (in order over the rows) requantized as a vector. The sums start from
 * bias + offset * sum(weights), so the raw values are summed. */
MD_NOINLINE static void plane_lanes(const dw_s8_job *job, const dw_lanes *l, const int8_t *plane,
                                          int32_t width, int32_t channel, int32_t bias, int8_t *out)
{
    const md_window_params *p = job->p;
    const int8x16_t weights = lane_weights(l, job->filter + channel);
    const uint8x16_t taps = l->input;
    const int32_t start = md_wrap_add(bias, md_wrap_mul(p->input_offset, vaddvq_s8(weights)));
    const int32_t q = p->per_channel ? channel : 0;
    const int32_t multiplier = job->requant.multipliers[q], shift = job->requant.shifts[q];
    const int32_t output_offset = job->requant.output_offset;
    const int32_t low = job->requant.low, high = job->requant.high;
    const uint32x4_t lane_out = vmulq_n_u32(vidupq_n_u32(0, 1), (uint32_t)p->output_c);
    const int32_t out_w = p->output_w;
    const int32_t outputs = p->output_h * out_w;
    const int32_t step = p->stride_w;
    const int32_t next_row = p->stride_h * width - out_w * step;
    const int32_t out_step = 4 * p->output_c;
    const int8_t *x = plane;
    int32_t left = out_w;
    int32_t i;
    if ((out_w & 3) == 0) { /* whole vectors a row: no pixel steps to the next row within one */
        const int32_t row_step = p->stride_h * width - out_w * step;
        for (i = 0; i < outputs; i += 4, out += out_step, x += 4 * step) {
            const int32_t s0 = vmladavq_s8(vldrbq_gather_offset_s8(x, taps), weights);
            const int32_t s1 = vmladavq_s8(vldrbq_gather_offset_s8(x + step, taps), weights);
            const int32_t s2 = vmladavq_s8(vldrbq_gather_offset_s8(x + 2 * step, taps), weights);
            const int32_t s3 = vmladavq_s8(vldrbq_gather_offset_s8(x + 3 * step, taps), weights);
            const int32x4_t acc = requantize4(md_mve_vector4(s0, s1, s2, s3), start, multiplier, shift, output_offset);
            vstrbq_scatter_offset_s32(out, lane_out, vminq_s32(vmaxq_s32(acc, vdupq_n_s32(low)), vdupq_n_s32(high)));
            left -= 4;
            if (left == 0) {
                x += row_step;
                left = out_w;
            }
        }
        return;
    }
    for (i = 4; i <= outputs; i += 4, out += out_step) {
        const int32_t s0 = pixel_sum(&x, &left, taps, weights, step, next_row, out_w);
        const int32_t s1 = pixel_sum(&x, &left, taps, weights, step, next_row, out_w);
        const int32_t s2 = pixel_sum(&x, &left, taps, weights, step, next_row, out_w);
        const int32_t s3 = pixel_sum(&x, &left, taps, weights, step, next_row, out_w);
        const int32x4_t acc = requantize4(md_mve_vector4(s0, s1, s2, s3), start, multiplier, shift, output_offset);
        vstrbq_scatter_offset_s32(out, lane_out, vminq_s32(vmaxq_s32(acc, vdupq_n_s32(low)), vdupq_n_s32(high)));
    }
    if (outputs & 3) {
        const int32_t count = outputs & 3;
        const int32_t s0 = pixel_sum(&x, &left, taps, weights, step, next_row, out_w);
        const int32_t s1 = count > 1 ? pixel_sum(&x, &left, taps, weights, step, next_row, out_w) : 0;
        const int32_t s2 = count > 2 ? pixel_sum(&x, &left, taps, weights, step, next_row, out_w) : 0;
        const int32x4_t acc = requantize4(md_mve_vector4(s0, s1, s2, 0), start, multiplier, shift, output_offset);
        vstrbq_scatter_offset_p_s32(out, lane_out, vminq_s32(vmaxq_s32(acc, vdupq_n_s32(low)), vdupq_n_s32(high)),
                                    vctp32q((uint32_t)count));
    }
}

/* ------------------------------------------------------------------ one input channel, rows interleaved */

/* Bytes of the stack buffer holding one output row's input rows interleaved (4 bytes a column). */
#define MD_DW_ROWS_BYTES 640

/* The image's columns and those of the right padding the windows reach, whole vectors of them. */
static int32_t row_columns(const md_window_params *p)
{
    const int32_t padded =
        md_padded_extent(p->input_w, p->output_w, p->stride_w, p->pad_left, p->filter_w, p->dilation_w);
    return (padded - p->pad_left + 15) & ~15;
}

/* Whether a single input channel's windows fit stream_rows_s8: at most 4 rows and a row's taps within
 * 4 columns (a window: 16 bytes of the interleaved rows), the columns and a window's reach past them
 * within the stack buffer. */
static int fits_rows(const md_window_params *p)
{
    return p->input_c == 1 && p->filter_h <= 4 && (p->filter_w - 1) * p->dilation_w <= 3 &&
           4 * (p->pad_left + row_columns(p)) + 16 <= MD_DW_ROWS_BYTES;
}

/* The rows of output row oy's windows interleaved into `rows`: byte 4x + fy is tap row fy's value at
 * padded column x (the padding and the lanes past the taps' rows hold the zero point). */
static void interleave_rows(const md_window_params *p, const int8_t *image, int32_t oy, int8_t *rows)
{
    const int8x16_t pad = vdupq_n_s8((int8_t)-p->input_offset);
    const int32_t y0 = md_window_origin(oy, p->stride_h, p->pad_top);
    const int8_t *row[4] = {NULL, NULL, NULL, NULL};
    int32_t fy;
    int32_t x;
    md_mve_fill_s8(rows, (int8_t)-p->input_offset, 4 * p->pad_left);
    for (fy = 0; fy < p->filter_h; ++fy) {
        const int32_t y = y0 + fy * p->dilation_h;
        row[fy] = y >= 0 && y < p->input_h ? image + y * p->input_w : NULL;
    }
    for (x = 0; x < row_columns(p); x += 16) {
        const mve_pred16_t inside = vctp8q((uint32_t)md_max_i32(p->input_w - x, 0));
        int8x16x4_t chunk;
        chunk.val[0] = row[0] ? vpselq_s8(vldrbq_z_s8(row[0] + x, inside), pad, inside) : pad;
        chunk.val[1] = row[1] ? vpselq_s8(vldrbq_z_s8(row[1] + x, inside), pad, inside) : pad;
        chunk.val[2] = row[2] ? vpselq_s8(vldrbq_z_s8(row[2] + x, inside), pad, inside) : pad;
        chunk.val[3] = row[3] ? vpselq_s8(vldrbq_z_s8(row[3] + x, inside), pad, inside) : pad;
        vst4q_s8(rows + 4 * (p->pad_left + x), chunk);
    }
}

/* A single input channel, depth multiplier m (a multiple of 4, at most 16), streaming: row by row,
 * the row's windows' input rows interleaved on the stack (every window inside: the padding holds the
 * zero point), so that a window is one 16-byte load, its taps in the lanes where each output's
 * weights were laid out once; each output one VMLADAV, four outputs requantized as a vector (from
 * bias + offset * sum(weights)) and stored together. */
MD_NOINLINE static void stream_rows_s8(const dw_s8_job *job, const int8_t *input, const int32_t *bias)
{
    const md_window_params *p = job->p;
    const md_mve_requant *r = &job->requant;
    const int32_t m = p->output_c;
    const int32_t step = 4 * p->stride_w;
    int8_t rows[MD_DW_ROWS_BYTES];
    int8_t weights[MD_DEPTHWISE_CHUNK * 16]; /* output k's weights in its window's lanes: 16 bytes from 16k */
    int32_t starts[MD_DEPTHWISE_CHUNK], multipliers[MD_DEPTHWISE_CHUNK];
    int32_t lefts[MD_DEPTHWISE_CHUNK], rights[MD_DEPTHWISE_CHUNK];
    md_mve_lane_scales scales;
    int32_t batch;
    int32_t oy;
    int32_t ox;
    int32_t k;
    int32_t t;
    md_mve_fill_s8(weights, 0, m * 16);
    for (t = 0; t < p->filter_h * p->filter_w; ++t) { /* tap t = (fy, fx) into lane 4 * fx * dilation + fy */
        const int32_t lane = 4 * (t % p->filter_w) * p->dilation_w + t / p->filter_w;
        for (k = 0; k < m; ++k) {
            weights[16 * k + lane] = job->filter[t * m + k];
        }
    }
    for (k = 0; k < m; ++k) {
        starts[k] =
            md_wrap_add(bias ? bias[k] : 0, md_wrap_mul(p->input_offset, vaddvq_s8(vldrbq_s8(weights + 16 * k))));
    }
    md_mve_split_scales(r, m, multipliers, lefts, rights);
    scales.starts = starts;
    scales.multipliers = multipliers;
    scales.lefts = lefts;
    scales.rights = rights;
    scales.output_offset = r->output_offset;
    scales.low = vdupq_n_s32(r->low);
    scales.high = vdupq_n_s32(r->high);
    for (batch = 0; batch < p->batches; ++batch) {
        const int8_t *image = input + batch * p->input_h * p->input_w;
        int8_t *out = job->output + batch * p->output_h * p->output_w * m;
        for (oy = 0; oy < p->output_h; ++oy) {
            const int8_t *window = rows;
            interleave_rows(p, image, oy, rows);
            for (ox = 0; ox < p->output_w; ++ox, window += step, out += m) {
                const int8x16_t x = vldrbq_s8(window);
                for (k = 0; k < m; k += 4) {
                    const int32x4_t sums = md_mve_vector4(vmladavq_s8(x, vldrbq_s8(weights + 16 * k)),
                                                          vmladavq_s8(x, vldrbq_s8(weights + 16 * k + 16)),
                                                          vmladavq_s8(x, vldrbq_s8(weights + 16 * k + 32)),
                                                          vmladavq_s8(x, vldrbq_s8(weights + 16 * k + 48)));
                    vstrbq_s32(out + k, md_mve_requantize_split(&scales, sums, k));
                }
            }
        }
    }
}

/* Out of line, as stream_s8: each path's stack taken only by the layers that use it. */
MD_NOINLINE static void planes_s8(const dw_s8_job *job, const int8_t *input, const int32_t *bias, int8_t *plane)
{
    const md_window_params *p = job->p;
    const int32_t rows = md_padded_extent(p->input_h, p->output_h, p->stride_h, p->pad_top, p->filter_h, p->dilation_h);
    const int32_t width =
        md_padded_extent(p->input_w, p->output_w, p->stride_w, p->pad_left, p->filter_w, p->dilation_w);
    const int32_t image_bytes = p->input_h * p->input_w * p->input_c;
    const int32_t output_bytes = p->output_h * p->output_w * p->output_c;
    dw_lanes lanes;
    const int in_lanes = lanes_of(p, width, 1, &lanes);
    int32_t batch;
    int32_t c;
    int32_t tap;
    md_mve_fill_s8(plane, (int8_t)-p->input_offset, rows * width + MD_PLANE_SLACK); /* the padding, once */
    for (batch = 0; batch < p->batches; ++batch) {
        for (c = 0; c < p->input_c; ++c) {
            int8_t *out = job->output + batch * output_bytes + c;
            int32_t start = bias ? bias[c] : 0;
            copy_plane(p, input + batch * image_bytes, c, plane + p->pad_top * width + p->pad_left, width);
            if (in_lanes) {
                plane_lanes(job, &lanes, plane, width, c, start, out);
                continue;
            }
            for (tap = 0; tap < p->filter_h * p->filter_w; ++tap) {
                start = md_wrap_add(start, md_wrap_mul(p->input_offset, job->filter[tap * p->output_c + c]));
            }
            plane_rows(job, plane, width, c, start, out);
        }
    }
}

md_status md_depthwise_s8(const md_window_params *p, const int8_t *input, const int8_t *filter, const int32_t *bias,
                          const int32_t *multipliers, const int32_t *shifts, int8_t *output, int8_t *scratch)
{
    const int32_t multiplier = p->output_c / p->input_c;
    const int streams_multiplier = !scratch && multiplier % 4 == 0 && multiplier <= MD_DEPTHWISE_CHUNK;
    if (!p->accumulator64 && (multiplier == 1 || streams_multiplier)) {
        dw_s8_job job;
        job.p = p;
        job.filter = filter;
        job.requant = md_mve_requant_s8(bias, multipliers, shifts, p->per_channel, p->output_offset, p->act_min,
                                        p->act_max);
        job.output = output;
        if (multiplier != 1 && fits_rows(p)) {
            stream_rows_s8(&job, input, bias);
        } else if (multiplier != 1) {
            dw_lanes lanes;
            if (lanes_of(p, p->input_w * p->input_c, p->input_c, &lanes) && lanes.weights8) {
                stream_multiplier_lanes_s8(&job, &lanes, input);
            } else {
                stream_multiplier_s8(&job, input);
            }
        } else if (scratch) {
            planes_s8(&job, input, bias, scratch);
        } else {
            stream_s8(&job, input, bias);
        }
        return MD_OK;
    }
    md_depthwise_portable(p, input, MD_INT8, filter, bias, multipliers, shifts, output, scratch);
    return MD_OK;
}

#endif /* MD_PATH_MVE */
