/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: CONV_2D for MVE (Helium) cores (see md_nn.h, md_nn_support.h).
 *
 * int8 with scratch, not grouped. The memory contract's unit is two output pixels (both receptive
 * fields read before either is written); two consecutive units go together here: the receptive
 * fields of four output pixels are copied as raw int8 columns (padding = the input zero point,
 * which adds nothing once offset) into the scratch, which sized for two int16 columns holds four
 * int8 ones, then every output channel of the four pixels is computed and written.
 * - One output channel of four pixels per inner loop (a tail-predicated low-overhead loop): each
 *   weight vector loaded feeds four VMLADAVA, and the four sums, one channel's, requantize as one
 *   vector with that channel's scalars, stored 4 pixels apart.
 * - The input offset comes in as bias + offset * sum(weights): folded into the bias when the code
 *   is generated (md_conv_s8_folded), else computed once per call for up to
 *   64 channels on the stack (or more in the scratch when it is free); past those, the loop sums
 *   the weights alongside the products (one VADDVA per weight vector).
 * - 1x1 stride-1 convolutions: the four pixels are one run of the input, interleaved by 16 bytes
 *   when their depth is whole vectors (one pointer walks all four), read in place when the
 *   output lies apart from the input; depths of at most 16 keep the columns in registers.
 * - Whole groups of four pixels with folded starts, interleaved or of depth at most 16 (most
 *   layers' hot loops), run the channel loop in assembly (GCC spills its pointers around the dot
 *   products otherwise): ~35 cycles a channel outside the dot products instead of ~50.
 * - Depths of 17 to 64 bytes that are not whole vectors of channels (a first layer's few input
 *   channels): the four columns interleaved on the stack, zero past the depth, so that the same
 *   assembly loop runs (each channel's weights stepping back by the excess of their last chunk).
 * - Windows of 1 to 4 rows of at most a vector (a first layer's 3x3x3): the rows padded on the
 *   stack, each pixel's rows in registers; by whole vectors of output channels, the channel loop
 *   of the 1x1 pixels in registers (MD_POINTWISE_PIXEL) over weights laid out channel by channel.
 * - Without scratch (the direct contract), 1x1 unpadded convolutions read each pixel in place,
 *   four output channels at a time sharing its loads.
 * Other cases (no scratch otherwise, groups) run the portable kernel.
 */
#include "md_conv_int.h"
#include <stdint.h>

#if MD_PATH_MVE /* the ISA path this build takes: md_nn_support.h */

MD_PATH_SYMBOL(md_path_conv_mve);
#if !MD_CONV_FOLDS_OFFSET
#error "md_nn.h's MD_CONV_FOLDS_OFFSET must name the MVE path: the generated data folds the bias for it"
#endif

#define MD_CONV_GROUP 4 /* output pixels computed together: two units of the contract */
/* Output channels whose bias + offset * sum(weights) a call keeps on its stack (256 bytes) when the
 * scratch has no room for them: their inner loops skip summing the weights. */
#define MD_CONV_STACK_STARTS 64
/* Depth (a multiple of 16) up to which columns of a ragged depth are interleaved on the stack. */
#define MD_CONV_RAGGED_DEPTH 64

/* The per-channel loops are kept out of line (MD_NOINLINE), one per case, their flags constants
 * once inlined (MD_ALWAYS_INLINE). */

typedef struct {
    const md_window_params *p;
    const int8_t *input;
    const int8_t *filter;
    const int32_t *bias;   /* or NULL */
    const int32_t *starts; /* bias + offset * sum(weights) of the first `folded` output channels */
    int32_t folded;        /* the others: bias, and offset * sum(weights) summed in the loop */
    const int32_t *multipliers;
    const int32_t *shifts;
    int8_t *output;
    int32_t depth; /* filter_h * filter_w * input_c: one column, one filter */
} conv_s8_job;

/* Filter row fy of a receptive field into `row` (filter_w * input_c bytes); `pad` outside the image. */
static void fill_row_s8(const conv_s8_job *job, const int8_t *image, const md_taps *taps, int32_t fy, int8_t *row)
{
    const md_window_params *p = job->p;
    const int8_t pad = (int8_t)-p->input_offset;
    const int32_t c = p->input_c;
    int32_t fx;
    if (fy < taps->y_first || fy >= taps->y_last || taps->x_first >= taps->x_last) {
        md_mve_fill_s8(row, pad, p->filter_w * c);
        return;
    }
    if (p->dilation_w == 1) { /* the taps inside the image are one run of the input row */
        md_mve_fill_s8(row, pad, taps->x_first * c);
        md_mve_copy_s8(row + taps->x_first * c, image + md_taps_pixel(p, taps, fy, taps->x_first) * c,
                       (taps->x_last - taps->x_first) * c);
        md_mve_fill_s8(row + taps->x_last * c, pad, (p->filter_w - taps->x_last) * c);
        return;
    }
    for (fx = 0; fx < p->filter_w; ++fx) {
        if (fx >= taps->x_first && fx < taps->x_last) {
            md_mve_copy_s8(row + fx * c, image + md_taps_pixel(p, taps, fy, fx) * c, c);
        } else {
            md_mve_fill_s8(row + fx * c, pad, c);
        }
    }
}

static int is_pointwise(const md_window_params *p)
{
    return p->filter_h == 1 && p->filter_w == 1 && p->pad_top == 0 && p->pad_left == 0;
}

/* Where output pixel `pixel` of `batch` reads a 1x1 unpadded convolution's input. */
static const int8_t *pointwise_pixel(const conv_s8_job *job, int32_t batch, int32_t pixel)
{
    const md_window_params *p = job->p;
    const int32_t oy = pixel / p->output_w;
    const int32_t ox = pixel % p->output_w;
    return job->input + ((batch * p->input_h + oy * p->stride_h) * p->input_w + ox * p->stride_w) * p->input_c;
}

/* `count` bytes from `from` to `to`: whole vectors unpredicated, then the tail. */
static MD_ALWAYS_INLINE void copy_bytes(int8_t *to, const int8_t *from, int32_t count)
{
    for (; count >= 16; count -= 16) {
        vstrbq_s8(to, vldrbq_s8(from));
        to += 16;
        from += 16;
    }
    if (count > 0) {
        const mve_pred16_t lanes = vctp8q((uint32_t)count);
        vstrbq_p_s8(to, vldrbq_z_s8(from, lanes), lanes);
    }
}

/* The receptive field of output pixel (oy, ox) into `column` when a filter row's taps are at most
 * one vector, undilated (a first layer's few channels): the zero point first where the window
 * reaches past the image, then each filter row's taps inside it one predicated copy. */
static void fill_short_rows_s8(const conv_s8_job *job, const int8_t *image, int32_t oy, int32_t ox, int8_t *column)
{
    const md_window_params *p = job->p;
    const int32_t c = p->input_c;
    const int32_t row_bytes = p->filter_w * c;
    const int32_t step = p->dilation_h * p->input_w * c;
    const md_taps taps = md_window_taps(p, oy, ox);
    const int8_t *from;
    int8_t *to;
    mve_pred16_t lanes;
    int32_t fy;
    if (taps.y_first > 0 || taps.y_last < p->filter_h || taps.x_first > 0 || taps.x_last < p->filter_w) {
        md_mve_fill_s8(column, (int8_t)-p->input_offset, job->depth);
    }
    if (taps.y_first >= taps.y_last || taps.x_first >= taps.x_last) {
        return;
    }
    lanes = vctp8q((uint32_t)((taps.x_last - taps.x_first) * c));
    from = image + md_taps_pixel(p, &taps, taps.y_first, taps.x_first) * c;
    to = column + taps.y_first * row_bytes + taps.x_first * c;
    for (fy = taps.y_first; fy < taps.y_last; ++fy, from += step, to += row_bytes) {
        vstrbq_p_s8(to, vldrbq_z_s8(from, lanes), lanes);
    }
}

/* The receptive field of output pixel `pixel` of `batch` into `column`: rows of at most a vector
 * by fill_short_rows_s8; a window inside the image (undilated along a row) is filter_h runs of the
 * input, others go tap row by tap row. */
MD_NOINLINE static void fill_column_s8(const conv_s8_job *job, int32_t batch, int32_t pixel, int8_t *column)
{
    const md_window_params *p = job->p;
    const int32_t oy = pixel / p->output_w;
    const int32_t ox = pixel % p->output_w;
    const int32_t y0 = md_window_origin(oy, p->stride_h, p->pad_top);
    const int32_t x0 = md_window_origin(ox, p->stride_w, p->pad_left);
    const int32_t row_bytes = p->filter_w * p->input_c;
    const int8_t *image = job->input + batch * p->input_h * p->input_w * p->input_c;
    md_taps taps;
    int32_t fy;
    if (p->dilation_w == 1 && row_bytes <= 16) {
        fill_short_rows_s8(job, image, oy, ox, column);
        return;
    }
    if (p->dilation_w == 1 && y0 >= 0 && x0 >= 0 && y0 + (p->filter_h - 1) * p->dilation_h < p->input_h &&
        x0 + p->filter_w <= p->input_w) {
        const int8_t *from = image + (y0 * p->input_w + x0) * p->input_c;
        const int32_t step = p->dilation_h * p->input_w * p->input_c;
        for (fy = 0; fy < p->filter_h; ++fy) {
            copy_bytes(column, from, row_bytes);
            column += row_bytes;
            from += step;
        }
        return;
    }
    taps = md_window_taps(p, oy, ox);
    for (fy = 0; fy < p->filter_h; ++fy) {
        fill_row_s8(job, image, &taps, fy, column + fy * row_bytes);
    }
}

/* sum((x_j[k] + offset) * w[k]) over k < n for four inputs x_0 .. x_3 (`interleaved`: from x_0,
 * 16 bytes of each in turn), as one vector, each starting from `start` (bias, or bias + offset *
 * sum(w) when not `summing`). */
#if defined(__GNUC__)
/* A tail-predicated low-overhead loop (WLSTP/LETP: the last, partial vector predicated without a
 * VCTP), which GCC 12 does not generate: the loop is one weight load and per input one load and one
 * VMLADAVA (whose accumulators must be even registers: constraint Te). The loop exit restores
 * LTPSIZE (no predication after it); n >= 1 here. "memory": the loop reads the inputs and weights,
 * and the outputs stored between two calls may overlap the inputs. */
#define MD_CONV_DOT4_LOOP(SUM)                                                                       \
    "wlstp.8 lr, %[n], 2f\n"                                                                         \
    "1:\n"                                                                                           \
    "vldrb.8 q0, [%[w]], #16\n"                                                                      \
    "vldrb.8 q1, [%[x0]], #16\n"                                                                     \
    "vmladava.s8 %[s0], q1, q0\n"                                                                    \
    "vldrb.8 q1, [%[x1]], #16\n"                                                                     \
    "vmladava.s8 %[s1], q1, q0\n"                                                                    \
    "vldrb.8 q1, [%[x2]], #16\n"                                                                     \
    "vmladava.s8 %[s2], q1, q0\n"                                                                    \
    "vldrb.8 q1, [%[x3]], #16\n"                                                                     \
    "vmladava.s8 %[s3], q1, q0\n" SUM "letp lr, 1b\n"                                                \
    "2:\n"

/* The same over four columns interleaved by 16 bytes (see interleave): one input pointer. */
#define MD_CONV_DOT4_INTERLEAVED_LOOP(SUM)                                                           \
    "wlstp.8 lr, %[n], 2f\n"                                                                         \
    "1:\n"                                                                                           \
    "vldrb.8 q0, [%[w]], #16\n"                                                                      \
    "vldrb.8 q1, [%[x0]], #16\n"                                                                     \
    "vmladava.s8 %[s0], q1, q0\n"                                                                    \
    "vldrb.8 q1, [%[x0]], #16\n"                                                                     \
    "vmladava.s8 %[s1], q1, q0\n"                                                                    \
    "vldrb.8 q1, [%[x0]], #16\n"                                                                     \
    "vmladava.s8 %[s2], q1, q0\n"                                                                    \
    "vldrb.8 q1, [%[x0]], #16\n"                                                                     \
    "vmladava.s8 %[s3], q1, q0\n" SUM "letp lr, 1b\n"                                                \
    "2:\n"

static MD_ALWAYS_INLINE int32x4_t dot4(int interleaved, const int8_t *x0, const int8_t *x1, const int8_t *x2,
                                const int8_t *x3, const int8_t *w, int32_t n, int summing, int32_t offset,
                                int32_t start)
{
    int32_t s0 = start;
    int32_t s1 = start;
    int32_t s2 = start;
    int32_t s3 = start;
    int32_t w_sum = 0;
    int32x4_t sums;
    if (interleaved && summing) {
        __asm__ volatile(MD_CONV_DOT4_INTERLEAVED_LOOP("vaddva.s8 %[ws], q0\n")
                         : [s0] "+Te"(s0), [s1] "+Te"(s1), [s2] "+Te"(s2), [s3] "+Te"(s3), [ws] "+Te"(w_sum),
                           [x0] "+r"(x0), [w] "+r"(w)
                         : [n] "r"(n)
                         : "q0", "q1", "lr", "memory");
    } else if (interleaved) {
        __asm__ volatile(MD_CONV_DOT4_INTERLEAVED_LOOP("")
                         : [s0] "+Te"(s0), [s1] "+Te"(s1), [s2] "+Te"(s2), [s3] "+Te"(s3), [x0] "+r"(x0),
                           [w] "+r"(w)
                         : [n] "r"(n)
                         : "q0", "q1", "lr", "memory");
    } else if (summing) {
        __asm__ volatile(MD_CONV_DOT4_LOOP("vaddva.s8 %[ws], q0\n")
                         : [s0] "+Te"(s0), [s1] "+Te"(s1), [s2] "+Te"(s2), [s3] "+Te"(s3), [ws] "+Te"(w_sum),
                           [x0] "+r"(x0), [x1] "+r"(x1), [x2] "+r"(x2), [x3] "+r"(x3), [w] "+r"(w)
                         : [n] "r"(n)
                         : "q0", "q1", "lr", "memory");
    } else {
        __asm__ volatile(MD_CONV_DOT4_LOOP("")
                         : [s0] "+Te"(s0), [s1] "+Te"(s1), [s2] "+Te"(s2), [s3] "+Te"(s3), [x0] "+r"(x0),
                           [x1] "+r"(x1), [x2] "+r"(x2), [x3] "+r"(x3), [w] "+r"(w)
                         : [n] "r"(n)
                         : "q0", "q1", "lr", "memory");
    }
    sums = md_mve_vector4(s0, s1, s2, s3);
    if (summing) {
        sums = vaddq_n_s32(sums, md_wrap_mul(offset, w_sum));
    }
    return sums;
}
#else
/* Whole vectors first, then the tail (a predicate kept out of the main loop keeps it short);
 * interleaved columns (n a multiple of 16) are four columns 16 bytes apart, advancing by 64. */
static MD_ALWAYS_INLINE int32x4_t dot4(int interleaved, const int8_t *x0, const int8_t *x1, const int8_t *x2,
                                const int8_t *x3, const int8_t *w, int32_t n, int summing, int32_t offset,
                                int32_t start)
{
    const int32_t step = interleaved ? 64 : 16;
    int32_t s0 = start;
    int32_t s1 = start;
    int32_t s2 = start;
    int32_t s3 = start;
    int32_t w_sum = 0;
    int32_t i;
    int32x4_t sums;
    for (i = n >> 4; i > 0; --i) {
        const int8x16_t wv = vldrbq_s8(w);
        s0 = vmladavaq_s8(s0, vldrbq_s8(x0), wv);
        s1 = vmladavaq_s8(s1, vldrbq_s8(x1), wv);
        s2 = vmladavaq_s8(s2, vldrbq_s8(x2), wv);
        s3 = vmladavaq_s8(s3, vldrbq_s8(x3), wv);
        if (summing) {
            w_sum = vaddvaq_s8(w_sum, wv);
        }
        x0 += step;
        x1 += step;
        x2 += step;
        x3 += step;
        w += 16;
    }
    if (n & 15) {
        const mve_pred16_t lanes = vctp8q((uint32_t)(n & 15));
        const int8x16_t wv = vldrbq_z_s8(w, lanes);
        s0 = vmladavaq_s8(s0, vldrbq_z_s8(x0, lanes), wv);
        s1 = vmladavaq_s8(s1, vldrbq_z_s8(x1, lanes), wv);
        s2 = vmladavaq_s8(s2, vldrbq_z_s8(x2, lanes), wv);
        s3 = vmladavaq_s8(s3, vldrbq_z_s8(x3, lanes), wv);
        if (summing) {
            w_sum = vaddvaq_s8(w_sum, wv);
        }
    }
    sums = md_mve_vector4(s0, s1, s2, s3);
    if (summing) {
        sums = vaddq_n_s32(sums, md_wrap_mul(offset, w_sum));
    }
    return sums;
}
#endif

/* How one output channel of up to four pixels is requantized and stored. */
typedef struct {
    int32_t output_offset;
    int32_t per_channel; /* a mask: channel c's multiplier and shift at c & it */
    int32x4_t low, high;
    uint32x4_t lane_out; /* the pixels' offsets in the output */
    mve_pred16_t lanes;  /* the pixels there are */
} group_store;

static MD_ALWAYS_INLINE group_store group_store_of(const md_window_params *p, int32_t count)
{
    group_store g;
    g.output_offset = p->output_offset;
    g.per_channel = p->per_channel ? -1 : 0;
    g.low = vdupq_n_s32(md_max_i32(p->act_min, INT8_MIN));
    g.high = vdupq_n_s32(md_min_i32(p->act_max, INT8_MAX));
    g.lane_out = vmulq_n_u32(vidupq_n_u32(0, 1), (uint32_t)p->output_c);
    g.lanes = vctp32q((uint32_t)count);
    return g;
}

/* One channel of the pixels from their sums, with its multiplier and shift, into `out` (the first
 * pixel's output of that channel). */
static MD_ALWAYS_INLINE void store_group_channel(const group_store *g, int32x4_t sums, int32_t multiplier,
                                                 int32_t shift, int8_t *out)
{
    sums = vaddq_n_s32(md_mve_mbqm_n(sums, multiplier, shift), g->output_offset);
    vstrbq_scatter_offset_p_s32(out, g->lane_out, vminq_s32(vmaxq_s32(sums, g->low), g->high), g->lanes);
}

/* Output channels first .. last - 1 of the `count` (1 to 4) output pixels from `pixel` (global
 * index) on, read from x_0 .. x_3 (the inputs past count repeat the last one, sums discarded). */
static MD_ALWAYS_INLINE void compute_group(const conv_s8_job *job, int summing, int interleaved, const int8_t *const *x,
                                    int32_t count, int32_t pixel, int32_t first, int32_t last)
{
    const md_window_params *p = job->p;
    const int32_t n = job->depth;
    const int32_t offset = p->input_offset;
    const group_store g = group_store_of(p, count);
    const int8_t *x0 = x[0];
    const int8_t *x1 = x[1];
    const int8_t *x2 = x[2];
    const int8_t *x3 = x[3];
    const int8_t *w = job->filter + first * n;
    static const int32_t no_bias = 0;
    /* Everything the loop reads walked by pointers held in registers: the dot product's assembly
     * clobbers memory, which would reload any field of the job each channel. The sums start from
     * the starts, or from the bias when summing (none: 0 for every channel). */
    const int32_t step = p->per_channel ? 1 : 0;
    const int32_t *multiplier = job->multipliers + first * step;
    const int32_t *shift = job->shifts + first * step;
    const int32_t start_step = summing && !job->bias ? 0 : 1;
    const int32_t *start = summing ? (job->bias ? job->bias + first : &no_bias) : job->starts + first;
    int8_t *out = job->output + pixel * p->output_c + first;
    int8_t *const end = out + (last - first);
    for (; out < end; ++out) {
        const int32x4_t sums = dot4(interleaved, x0, x1, x2, x3, w, n, summing, offset, *start);
        store_group_channel(&g, sums, *multiplier, *shift, out);
        w += n;
        start += start_step;
        multiplier += step;
        shift += step;
    }
}

#if defined(__GNUC__)
/* compute_group for folded starts over four interleaved columns, the whole channel loop in
 * assembly (in C, GCC spills the loop's pointers around the dot products' assembly: ~50 cycles a
 * channel outside the loop, ~35 here). Per channel: its start in the four sums; the depth's
 * 16-byte chunks (a multiple of 16 when interleaved), each chunk's weights loaded after the
 * previous chunk's products (a loop of the chunks but the last, then the last: no load past the
 * filter), so that loads and products alternate and each overlaps the one before; the sums into
 * one vector (two VMOV), requantized with the channel's multiplier and shift as scalars, stored
 * 4 pixels apart (one scatter); the columns' pointer back by 64 a chunk. The multiplier and
 * shift pointers advance per channel (`STEP`: ", #4") or not (per tensor). */
/* One chunk of the four columns by the weights in q0. */
#define MD_CONV_CHANNELS_CHUNK                                                                       \
    "vldrb.8 q1, [%[x]], #16\n"                                                                      \
    "vmladava.s8 %[s0], q1, q0\n"                                                                    \
    "vldrb.8 q1, [%[x]], #16\n"                                                                      \
    "vmladava.s8 %[s1], q1, q0\n"                                                                    \
    "vldrb.8 q1, [%[x]], #16\n"                                                                      \
    "vmladava.s8 %[s2], q1, q0\n"                                                                    \
    "vldrb.8 q1, [%[x]], #16\n"                                                                      \
    "vmladava.s8 %[s3], q1, q0\n"

#define MD_CONV_CHANNELS_LOOP(STEP, WBACK)                                                           \
    "1:\n"                                                                                           \
    "ldr %[s0], [%[st]], #4\n"                                                                       \
    "mov %[s1], %[s0]\n"                                                                             \
    "mov %[s2], %[s0]\n"                                                                             \
    "mov %[s3], %[s0]\n"                                                                             \
    "vldrb.8 q0, [%[w]], #16\n"                                                                      \
    "wls lr, %[n], 3f\n"                                                                             \
    "2:\n" MD_CONV_CHANNELS_CHUNK "vldrb.8 q0, [%[w]], #16\n"                                        \
    "le lr, 2b\n"                                                                                    \
    "3:\n" MD_CONV_CHANNELS_CHUNK                                                                    \
    "sub %[x], %[x], %[back]\n"                                                                      \
    "vmov q2[2], q2[0], %[s0], %[s2]\n"                                                              \
    "vmov q2[3], q2[1], %[s1], %[s3]\n" WBACK                                                        \
    "ldr %[s0], [%[mul]]" STEP "\n"                                                                  \
    "ldr %[s1], [%[sh]]" STEP "\n"                                                                   \
    "cmp %[s1], #0\n"                                                                                \
    "bge 4f\n"                                                                                       \
    "vqrdmulh.s32 q2, q2, %[s0]\n"                                                                   \
    "vshr.s32 q3, q2, #31\n"                                                                         \
    "vqadd.s32 q2, q2, q3\n"                                                                         \
    "vrshl.s32 q2, %[s1]\n"                                                                          \
    "5:\n"                                                                                           \
    "vadd.i32 q2, q2, %q[offset]\n"                                                                  \
    "vmax.s32 q2, q2, %q[low]\n"                                                                     \
    "vmin.s32 q2, q2, %q[high]\n"                                                                    \
    "vstrb.32 q2, [%[out], %q[lanes]]\n"                                                             \
    "adds %[out], #1\n"                                                                              \
    "subs %[count], #1\n"                                                                            \
    "bne 1b\n"                                                                                       \
    "b 6f\n"                                                                                         \
    "4:\n"                                                                                           \
    "vshl.s32 q2, %[s1]\n"                                                                           \
    "vqrdmulh.s32 q2, q2, %[s0]\n"                                                                   \
    "b 5b\n"                                                                                         \
    "6:\n"

#define MD_CONV_CHANNELS_OPERANDS(WBACK)                                                             \
    : [s0] "=&Te"(s0), [s1] "=&Te"(s1), [s2] "=&Te"(s2), [s3] "=&Te"(s3), [x] "+r"(x), [w] "+r"(w),  \
      [st] "+r"(start), [mul] "+r"(multiplier), [sh] "+r"(shift), [out] "+r"(out), [count] "+r"(count) \
    : [n] "r"(n), [back] "r"(64 * chunks), [offset] "w"(offset), [low] "w"(g.low), [high] "w"(g.high),  \
      [lanes] "w"(g.lane_out) WBACK                                                                  \
    : "q0", "q1", "q2", "q3", "lr", "memory", "cc"

/* Past the weights of each channel, a ragged depth's last chunk read whole: back by its excess (in
 * memory: no register is left; only then, so that the other loops do not store it). */
#define MD_CONV_WEIGHTS_BACK "ldr %[s1], %[wback]\n" "sub %[w], %[w], %[s1]\n"
#define MD_CONV_WEIGHTS_BACK_OPERAND , [wback] "m"(wback)

/* The first `count` folded channels; a depth not a multiple of 16 (`ragged`) reads its last chunk
 * of weights whole (the bytes past the channel meet the columns' zeros) and steps back by the
 * excess, so that the caller leaves the last channel, whose excess lies past the filter, to C. */
static MD_ALWAYS_INLINE void folded_interleaved_four(int ragged, const conv_s8_job *job, const int8_t *x,
                                                     int32_t pixel, int32_t count)
{
    const md_window_params *p = job->p;
    const group_store g = group_store_of(p, MD_CONV_GROUP);
    const int32x4_t offset = vdupq_n_s32(p->output_offset);
    const int32_t chunks = (job->depth + 15) / 16;
    const int32_t n = chunks - 1; /* chunks after the first */
    const int8_t *w = job->filter;
    const int32_t *start = job->starts;
    const int32_t *multiplier = job->multipliers;
    const int32_t *shift = job->shifts;
    int8_t *out = job->output + pixel * p->output_c;
    int32_t s0, s1, s2, s3;
    if (ragged) {
        const int32_t wback = 16 * chunks - job->depth;
        if (p->per_channel) {
            __asm__ volatile(MD_CONV_CHANNELS_LOOP(", #4", MD_CONV_WEIGHTS_BACK)
                                 MD_CONV_CHANNELS_OPERANDS(MD_CONV_WEIGHTS_BACK_OPERAND));
        } else {
            __asm__ volatile(MD_CONV_CHANNELS_LOOP("", MD_CONV_WEIGHTS_BACK)
                                 MD_CONV_CHANNELS_OPERANDS(MD_CONV_WEIGHTS_BACK_OPERAND));
        }
    } else if (p->per_channel) {
        __asm__ volatile(MD_CONV_CHANNELS_LOOP(", #4", "") MD_CONV_CHANNELS_OPERANDS());
    } else {
        __asm__ volatile(MD_CONV_CHANNELS_LOOP("", "") MD_CONV_CHANNELS_OPERANDS());
    }
}

MD_NOINLINE static void compute_folded_interleaved_four(const conv_s8_job *job, const int8_t *x, int32_t pixel)
{
    folded_interleaved_four(0, job, x, pixel, job->folded);
}

/* The four columns x_0 .. x_3 (`depth` bytes each) interleaved by 16 bytes into `to` (see
 * interleave), zero past the depth in the last chunk. */
static void interleave_ragged(int8_t *to, const int8_t *const *x, int32_t depth)
{
    int32_t k;
    int32_t j;
    for (k = 0; k < depth; k += 16) {
        const mve_pred16_t lanes = vctp8q((uint32_t)(depth - k));
        for (j = 0; j < MD_CONV_GROUP; ++j, to += 16) {
            vstrbq_s8(to, vldrbq_z_s8(x[j] + k, lanes));
        }
    }
}

/* Four pixels of a depth above 16 and at most MD_CONV_RAGGED_DEPTH, not whole vectors of channels
 * (a first layer's few channels): their columns interleaved on the stack so that the channel loop
 * runs in assembly, the last channel in C (its whole last chunk would read past the filter). */
MD_NOINLINE static void compute_folded_ragged_four(const conv_s8_job *job, const int8_t *const *x, int32_t pixel)
{
    int8_t columns[MD_CONV_GROUP * MD_CONV_RAGGED_DEPTH];
    const int8_t *const interleaved[MD_CONV_GROUP] = {columns, columns, columns, columns};
    interleave_ragged(columns, x, job->depth);
    if (job->folded > 1) {
        folded_interleaved_four(1, job, columns, pixel, job->folded - 1);
    }
    compute_group(job, 0, 1, interleaved, MD_CONV_GROUP, pixel, job->folded - 1, job->folded);
}
#endif

/* compute_group for a depth of at most 16: the four columns stay in registers, one vector each,
 * and each channel costs one weight load, four VMLADAVA and its requantization. */
static MD_ALWAYS_INLINE void compute_short(const conv_s8_job *job, int summing, const int8_t *const *x, int32_t count,
                                    int32_t pixel, int32_t first, int32_t last)
{
    const md_window_params *p = job->p;
    const int32_t n = job->depth;
    const int32_t offset = p->input_offset;
    const group_store g = group_store_of(p, count);
    const mve_pred16_t depth = vctp8q((uint32_t)n);
    const int8x16_t x0 = vldrbq_z_s8(x[0], depth);
    const int8x16_t x1 = vldrbq_z_s8(x[1], depth);
    const int8x16_t x2 = vldrbq_z_s8(x[2], depth);
    const int8x16_t x3 = vldrbq_z_s8(x[3], depth);
    const int32_t *bias = job->bias;
    const int32_t *starts = job->starts;
    const int8_t *w = job->filter + first * n;
    int8_t *out = job->output + pixel * p->output_c;
    int32_t c;
    for (c = first; c < last; ++c) {
        const int8x16_t wv = vldrbq_z_s8(w, depth);
        const int32_t start =
            summing ? md_wrap_add(bias ? bias[c] : 0, md_wrap_mul(offset, vaddvq_s8(wv))) : starts[c];
        int32x4_t sums = vdupq_n_s32(vmladavaq_s8(start, x0, wv));
        sums = vsetq_lane_s32(vmladavaq_s8(start, x1, wv), sums, 1);
        sums = vsetq_lane_s32(vmladavaq_s8(start, x2, wv), sums, 2);
        sums = vsetq_lane_s32(vmladavaq_s8(start, x3, wv), sums, 3);
        store_group_channel(&g, sums, job->multipliers[c & g.per_channel], job->shifts[c & g.per_channel], out + c);
        w += n;
    }
}

#if defined(__GNUC__)
/* compute_short for folded starts and four pixels, the channel loop in assembly as
 * compute_folded_interleaved_four: the four columns in registers (zero past the depth), per channel
 * one weight load (predicated to the depth), four VMLADAVA from its start, the requantization; the
 * clamp bounds and the scatter's offsets come from memory (no registers left), their loads
 * overlapping the arithmetic. */
#define MD_CONV_SHORT_LOOP(STEP)                                                                     \
    "vmsr p0, %[depth]\n"                                                                            \
    "1:\n"                                                                                           \
    "ldr %[s0], [%[st]], #4\n"                                                                       \
    "mov %[s1], %[s0]\n"                                                                             \
    "mov %[s2], %[s0]\n"                                                                             \
    "mov %[s3], %[s0]\n"                                                                             \
    "vpst\n"                                                                                         \
    "vldrbt.8 q6, [%[w]]\n"                                                                          \
    "add %[w], %[n]\n"                                                                               \
    "vmladava.s8 %[s0], %q[x0], q6\n"                                                                \
    "vmladava.s8 %[s1], %q[x1], q6\n"                                                                \
    "vmladava.s8 %[s2], %q[x2], q6\n"                                                                \
    "vmladava.s8 %[s3], %q[x3], q6\n"                                                                \
    "vmov q6[2], q6[0], %[s0], %[s2]\n"                                                              \
    "vmov q6[3], q6[1], %[s1], %[s3]\n"                                                              \
    "ldr %[s0], [%[mul]]" STEP "\n"                                                                  \
    "ldr %[s1], [%[sh]]" STEP "\n"                                                                   \
    "cmp %[s1], #0\n"                                                                                \
    "bge 4f\n"                                                                                       \
    "vqrdmulh.s32 q6, q6, %[s0]\n"                                                                   \
    "vshr.s32 q7, q6, #31\n"                                                                         \
    "vqadd.s32 q6, q6, q7\n"                                                                         \
    "vrshl.s32 q6, %[s1]\n"                                                                          \
    "5:\n"                                                                                           \
    "vadd.i32 q6, q6, %[offset]\n"                                                                   \
    "vldrw.u32 q7, [%[consts]]\n"                                                                    \
    "vmax.s32 q6, q6, q7\n"                                                                          \
    "vldrw.u32 q7, [%[consts], #16]\n"                                                               \
    "vmin.s32 q6, q6, q7\n"                                                                          \
    "vldrw.u32 q7, [%[consts], #32]\n"                                                               \
    "vstrb.32 q6, [%[out], q7]\n"                                                                    \
    "adds %[out], #1\n"                                                                              \
    "subs %[count], #1\n"                                                                            \
    "bne 1b\n"                                                                                       \
    "b 6f\n"                                                                                         \
    "4:\n"                                                                                           \
    "vshl.s32 q6, %[s1]\n"                                                                           \
    "vqrdmulh.s32 q6, q6, %[s0]\n"                                                                   \
    "b 5b\n"                                                                                         \
    "6:\n"

#define MD_CONV_SHORT_OPERANDS                                                                       \
    : [s0] "=&Te"(s0), [s1] "=&Te"(s1), [s2] "=&Te"(s2), [s3] "=&Te"(s3), [w] "+r"(w), [st] "+r"(start), \
      [mul] "+r"(multiplier), [sh] "+r"(shift), [out] "+r"(out), [count] "+r"(count)                   \
    : [n] "r"(n), [offset] "r"(p->output_offset), [consts] "r"(consts), [depth] "r"((uint32_t)depth),   \
      [x0] "w"(x0), [x1] "w"(x1), [x2] "w"(x2), [x3] "w"(x3)                                           \
    : "q6", "q7", "memory", "cc"

MD_NOINLINE static void compute_short_folded_four(const conv_s8_job *job, const int8_t *const *x, int32_t pixel)
{
    const md_window_params *p = job->p;
    const group_store g = group_store_of(p, MD_CONV_GROUP);
    const int32_t n = job->depth;
    const mve_pred16_t depth = vctp8q((uint32_t)n);
    const int8x16_t x0 = vldrbq_z_s8(x[0], depth);
    const int8x16_t x1 = vldrbq_z_s8(x[1], depth);
    const int8x16_t x2 = vldrbq_z_s8(x[2], depth);
    const int8x16_t x3 = vldrbq_z_s8(x[3], depth);
    const int8_t *w = job->filter;
    const int32_t *start = job->starts;
    const int32_t *multiplier = job->multipliers;
    const int32_t *shift = job->shifts;
    int8_t *out = job->output + pixel * p->output_c;
    int32_t count = job->folded;
    int32_t consts[12]; /* the clamp's low and high bounds, the scatter's offsets */
    int32_t s0, s1, s2, s3;
    vstrwq_s32(consts, g.low);
    vstrwq_s32(consts + 4, g.high);
    vstrwq_u32((uint32_t *)consts + 8, g.lane_out);
    if (p->per_channel) {
        __asm__ volatile(MD_CONV_SHORT_LOOP(", #4") MD_CONV_SHORT_OPERANDS);
    } else {
        __asm__ volatile(MD_CONV_SHORT_LOOP("") MD_CONV_SHORT_OPERANDS);
    }
}
#endif

MD_NOINLINE static void compute_short_folded(const conv_s8_job *job, const int8_t *const *x, int32_t count,
                                                int32_t pixel)
{
    compute_short(job, 0, x, count, pixel, 0, job->folded);
}

MD_NOINLINE static void compute_short_summing(const conv_s8_job *job, const int8_t *const *x, int32_t count,
                                                 int32_t pixel)
{
    compute_short(job, 1, x, count, pixel, job->folded, job->p->output_c);
}

/* The channels whose starts are folded, then the others, summing. */
MD_NOINLINE static void compute_folded(const conv_s8_job *job, const int8_t *const *x, int32_t count,
                                          int32_t pixel)
{
    compute_group(job, 0, 0, x, count, pixel, 0, job->folded);
}

MD_NOINLINE static void compute_summing(const conv_s8_job *job, const int8_t *const *x, int32_t count,
                                           int32_t pixel)
{
    compute_group(job, 1, 0, x, count, pixel, job->folded, job->p->output_c);
}

MD_NOINLINE static void compute_folded_interleaved(const conv_s8_job *job, const int8_t *const *x, int32_t count,
                                                      int32_t pixel)
{
    compute_group(job, 0, 1, x, count, pixel, 0, job->folded);
}

MD_NOINLINE static void compute_summing_interleaved(const conv_s8_job *job, const int8_t *const *x,
                                                       int32_t count, int32_t pixel)
{
    compute_group(job, 1, 1, x, count, pixel, job->folded, job->p->output_c);
}

/* The `count` pixels from `from` (`channels` bytes each, a multiple of 16) into `to` interleaved:
 * bytes 16k .. 16k + 15 of pixel j at to + 16 * (4k + j), so that one pointer walks all four. */
static void interleave(int8_t *to, const int8_t *from, int32_t count, int32_t channels)
{
    int32_t j;
    int32_t k;
    for (j = 0; j < count; ++j) {
        for (k = 0; k < channels; k += 16) {
            vstrbq_s8(to + 4 * k + 16 * j, vldrbq_s8(from + j * channels + k));
        }
    }
}

/* Column j of four interleaved ones (see fill_interleaved_s8) for a window reaching past the image
 * or dilated along its rows: tap by tap, padding taps the zero point. */
MD_NOINLINE static void fill_interleaved_edge(const conv_s8_job *job, const int8_t *image, int32_t oy, int32_t ox,
                                              int8_t *to)
{
    const md_window_params *p = job->p;
    const int8x16_t pad = vdupq_n_s8((int8_t)-p->input_offset);
    const md_taps taps = md_window_taps(p, oy, ox);
    const int32_t channels = p->input_c;
    const int32_t tap_step = p->dilation_w * channels;
    int32_t fy;
    int32_t fx;
    int32_t k;
    for (fy = 0; fy < p->filter_h; ++fy) {
        const int row_inside = fy >= taps.y_first && fy < taps.y_last;
        const int8_t *from = row_inside ? image + md_taps_pixel(p, &taps, fy, taps.x_first) * channels : NULL;
        for (fx = 0; fx < p->filter_w; ++fx) {
            if (row_inside && fx >= taps.x_first && fx < taps.x_last) {
                for (k = 0; k < channels; k += 16, to += 64) {
                    vstrbq_s8(to, vldrbq_s8(from + k));
                }
                from += tap_step;
            } else {
                for (k = 0; k < channels; k += 16, to += 64) {
                    vstrbq_s8(to, pad);
                }
            }
        }
    }
}

/* The receptive field of output pixel `pixel` of `batch` as column j of four interleaved ones
 * (input_c a multiple of 16: every tap is whole vectors): a window inside the image is filter_h
 * runs of the input, copied here; the others take fill_interleaved_edge (out of line, so that
 * this path keeps its registers). */
MD_NOINLINE static void fill_interleaved_s8(const conv_s8_job *job, int32_t batch, int32_t pixel, int32_t j,
                                               int8_t *columns)
{
    const md_window_params *p = job->p;
    const int32_t oy = pixel / p->output_w;
    const int32_t ox = pixel - oy * p->output_w;
    const int32_t y0 = md_window_origin(oy, p->stride_h, p->pad_top);
    const int32_t x0 = md_window_origin(ox, p->stride_w, p->pad_left);
    const int8_t *image = job->input + batch * p->input_h * p->input_w * p->input_c;
    int8_t *to = columns + 16 * j;
    int32_t fy;
    int32_t k;
    if (p->dilation_w == 1 && y0 >= 0 && x0 >= 0 && y0 + (p->filter_h - 1) * p->dilation_h < p->input_h &&
        x0 + p->filter_w <= p->input_w) {
        const int32_t row_bytes = p->filter_w * p->input_c;
        const int32_t row_step = p->dilation_h * p->input_w * p->input_c;
        const int8_t *from = image + (y0 * p->input_w + x0) * p->input_c;
        for (fy = 0; fy < p->filter_h; ++fy, from += row_step) {
            for (k = 0; k < row_bytes; k += 16) {
                vstrbq_s8(to, vldrbq_s8(from + k));
                to += 64;
            }
        }
        return;
    }
    fill_interleaved_edge(job, image, oy, ox, to);
}

/* The receptive fields of the `count` output pixels from `pixel` (global index) on as interleaved
 * columns: four pixels of one output row whose windows lie inside the image (undilated along a row)
 * are one pass over the filter's rows, each 16 bytes of a row copied for the four pixels (their
 * windows `stride_w * input_c` bytes apart); others pixel by pixel. */
static void fill_interleaved_group(const conv_s8_job *job, int32_t batch, int32_t pixel, int32_t count,
                                   int8_t *columns)
{
    const md_window_params *p = job->p;
    const int32_t oy = pixel / p->output_w;
    const int32_t ox = pixel - oy * p->output_w;
    const int32_t y0 = md_window_origin(oy, p->stride_h, p->pad_top);
    const int32_t x0 = md_window_origin(ox, p->stride_w, p->pad_left);
    const int32_t c = p->input_c;
    int32_t j;
    if (count == MD_CONV_GROUP && ox + 3 < p->output_w && p->dilation_w == 1 && y0 >= 0 && x0 >= 0 &&
        y0 + (p->filter_h - 1) * p->dilation_h < p->input_h &&
        x0 + 3 * p->stride_w + p->filter_w <= p->input_w) {
        const int32_t apart = p->stride_w * c;
        const int32_t row_bytes = p->filter_w * c;
        const int32_t row_step = p->dilation_h * p->input_w * c;
        const int8_t *from = job->input + ((batch * p->input_h + y0) * p->input_w + x0) * c;
        int32_t fy;
        int32_t k;
        for (fy = 0; fy < p->filter_h; ++fy, from += row_step) {
            for (k = 0; k < row_bytes; k += 16, columns += 64) {
                const int8x16_t v0 = vldrbq_s8(from + k);
                const int8x16_t v1 = vldrbq_s8(from + apart + k);
                const int8x16_t v2 = vldrbq_s8(from + 2 * apart + k);
                const int8x16_t v3 = vldrbq_s8(from + 3 * apart + k);
                vstrbq_s8(columns, v0);
                vstrbq_s8(columns + 16, v1);
                vstrbq_s8(columns + 32, v2);
                vstrbq_s8(columns + 48, v3);
            }
        }
        return;
    }
    for (j = 0; j < count; ++j) {
        fill_interleaved_s8(job, batch, pixel + j, j, columns);
    }
}

/* The sum of the weights of output channel c. */
static int32_t weight_sum(const conv_s8_job *job, int32_t c)
{
    const int8_t *w = job->filter + c * job->depth;
    int32_t sum = 0;
    int32_t i;
    for (i = 0; i < job->depth; i += 16) {
        sum = vaddvaq_s8(sum, vldrbq_z_s8(w + i, vctp8q((uint32_t)(job->depth - i))));
    }
    return sum;
}

/* bias + offset * sum(weights) of the first output channels, as many as fit, into the memory from
 * `free` to `end` (word aligned). */
static void fold_into(conv_s8_job *job, int8_t *free, const int8_t *end)
{
    const uintptr_t words = ((uintptr_t)free + 3u) & ~(uintptr_t)3u;
    const int32_t room = words < (uintptr_t)end ? (int32_t)(((uintptr_t)end - words) / 4u) : 0;
    const int32_t channels = md_min_i32(job->p->output_c, room);
    int32_t *starts = (int32_t *)words;
    int32_t c;
    if (channels == 0) {
        return;
    }
    for (c = 0; c < channels; ++c) {
        starts[c] = md_wrap_add(job->bias ? job->bias[c] : 0, md_wrap_mul(job->p->input_offset, weight_sum(job, c)));
    }
    job->starts = starts;
    job->folded = channels;
}

/* A 1x1 unpadded convolution reads its pixels in place when the output cannot overwrite them. */
static int reads_in_place(const md_window_params *p, const int8_t *input, const int8_t *output)
{
    const uintptr_t in = (uintptr_t)input;
    const uintptr_t out = (uintptr_t)output;
    const uintptr_t in_bytes = (uintptr_t)(p->batches * p->input_h * p->input_w * p->input_c);
    const uintptr_t out_bytes = (uintptr_t)(p->batches * p->output_h * p->output_w * p->output_c);
    return is_pointwise(p) && (out + out_bytes <= in || in + in_bytes <= out);
}

static void conv_s8_groups(conv_s8_job *job, int8_t *scratch)
{
    const md_window_params *p = job->p;
    const int32_t pixels = p->output_h * p->output_w;
    const int8_t *end = scratch + (pixels > 1 ? 2 : 1) * job->depth * 2;
    /* input pixel = output pixel */
    const int contiguous = is_pointwise(p) && p->stride_h == 1 && p->stride_w == 1;
    /* four whole-vector columns fit the scratch interleaved (it holds four columns when pixels > 1) */
    const int interleaved = p->input_c % 16 == 0 && job->depth > 16 && pixels > 1;
    const int in_place = !interleaved && reads_in_place(p, job->input, job->output);
    const int8_t *x[MD_CONV_GROUP];
    int32_t batch;
    int32_t pixel;
    int32_t count;
    int32_t j;
    int32_t stack_starts[MD_CONV_STACK_STARTS];
    /* folded at generation (md_conv_s8_folded), else into the scratch (free when in place) or the
     * stack, whichever holds more channels */
    if (job->folded < p->output_c && in_place && end - scratch >= (int32_t)sizeof stack_starts + 3) {
        fold_into(job, scratch, end);
    } else if (job->folded < p->output_c) {
        fold_into(job, (int8_t *)stack_starts, (const int8_t *)(stack_starts + MD_CONV_STACK_STARTS));
    }
    for (batch = 0; batch < p->batches; ++batch) {
        for (pixel = 0; pixel < pixels; pixel += MD_CONV_GROUP) {
            count = md_min_i32(MD_CONV_GROUP, pixels - pixel);
            if (interleaved) {
                if (contiguous) {
                    interleave(scratch, job->input + (batch * pixels + pixel) * p->input_c, count, p->input_c);
                } else {
                    fill_interleaved_group(job, batch, pixel, count, scratch);
                }
                x[0] = scratch;
#if defined(__GNUC__)
                if (job->folded > 0 && count == MD_CONV_GROUP) {
                    compute_folded_interleaved_four(job, scratch, batch * pixels + pixel);
                } else
#endif
                if (job->folded > 0) {
                    compute_folded_interleaved(job, x, count, batch * pixels + pixel);
                }
                if (job->folded < p->output_c) {
                    compute_summing_interleaved(job, x, count, batch * pixels + pixel);
                }
                continue;
            }
            if (contiguous) { /* the group's pixels are one run of the input */
                const int8_t *run = job->input + (batch * pixels + pixel) * p->input_c;
                if (!in_place) {
                    copy_bytes(scratch, run, count * p->input_c);
                    run = scratch;
                }
                for (j = 0; j < count; ++j) {
                    x[j] = run + j * p->input_c;
                }
            }
            for (j = contiguous ? count : 0; j < count; ++j) {
                if (in_place) {
                    x[j] = pointwise_pixel(job, batch, pixel + j);
                } else {
                    fill_column_s8(job, batch, pixel + j, scratch + j * job->depth);
                    x[j] = scratch + j * job->depth;
                }
            }
            for (; j < MD_CONV_GROUP; ++j) {
                x[j] = x[count - 1];
            }
            /* x: copies, or in place apart from the output: the first channels' writes change none */
#if defined(__GNUC__)
            if (job->folded > 0 && job->depth <= 16 && count == MD_CONV_GROUP) {
                compute_short_folded_four(job, x, batch * pixels + pixel);
            } else if (job->folded > 0 && job->depth <= MD_CONV_RAGGED_DEPTH && count == MD_CONV_GROUP) {
                compute_folded_ragged_four(job, x, batch * pixels + pixel);
            } else
#endif
            if (job->folded > 0) {
                (job->depth <= 16 ? compute_short_folded : compute_folded)(job, x, count, batch * pixels + pixel);
            }
            if (job->folded < p->output_c) {
                (job->depth <= 16 ? compute_short_summing : compute_summing)(job, x, count, batch * pixels + pixel);
            }
        }
    }
}

/* The start of output channels c .. c + 3 (bias + offset * sum(weights)): the folded ones from the
 * table, the others summed here. */
static int32x4_t starts4(const conv_s8_job *job, int32_t c, mve_pred16_t lanes)
{
    int32_t starts[4];
    int32_t j;
    if (c + 4 <= job->folded) {
        return vldrwq_s32(job->starts + c);
    }
    for (j = 0; j < 4; ++j) {
        const int32_t channel = md_min_i32(c + j, job->p->output_c - 1);
        starts[j] = channel < job->folded ? job->starts[channel]
                                          : md_wrap_add(job->bias ? job->bias[channel] : 0,
                                                        md_wrap_mul(job->p->input_offset, weight_sum(job, channel)));
    }
    return vldrwq_z_s32(starts, lanes);
}

/* A 1x1 unpadded convolution without scratch, in the direct contract's order (pixel by pixel,
 * output channel by output channel, each written after its receptive field is read): each pixel
 * read in place, four output channels at a time sharing its loads (one VMLADAVA per weight
 * vector), the raw sums started from bias + offset * sum(weights) and requantized as one vector,
 * written after all four are computed. */
MD_NOINLINE static void pointwise_direct_s8(conv_s8_job *job)
{
    const md_window_params *p = job->p;
    const int32_t pixels = p->output_h * p->output_w;
    const int32_t n = job->depth;
    const int32_t last = p->output_c - 1;
    const md_mve_requant requant = md_mve_requant_s8(NULL, job->multipliers, job->shifts, p->per_channel,
                                                     p->output_offset, p->act_min, p->act_max);
    int32_t stack_starts[MD_CONV_STACK_STARTS];
    int32_t batch;
    int32_t pixel;
    int32_t c;
    if (job->folded < p->output_c) {
        fold_into(job, (int8_t *)stack_starts, (const int8_t *)(stack_starts + MD_CONV_STACK_STARTS));
    }
    for (batch = 0; batch < p->batches; ++batch) {
        for (pixel = 0; pixel < pixels; ++pixel) {
            const int8_t *x = pointwise_pixel(job, batch, pixel);
            int8_t *out = job->output + (batch * pixels + pixel) * p->output_c;
            for (c = 0; c <= last; c += 4) {
                const mve_pred16_t lanes = vctp32q((uint32_t)(last + 1 - c));
                const int8_t *w = job->filter + c * n;
                /* the channels past the last repeat it (their sums discarded) */
                const int32x4_t sums = dot4(0, w, w + md_min_i32(1, last - c) * n, w + md_min_i32(2, last - c) * n,
                                            w + md_min_i32(3, last - c) * n, x, n, 0, 0, 0);
                const int32x4_t outputs =
                    md_mve_requantize(&requant, vaddq_s32(sums, starts4(job, c, lanes)), c, lanes);
                vstrbq_p_s32(out + c, outputs, lanes);
            }
        }
    }
}

/* ------------------------------------------------------------------ a pixel's vectors by every channel */

#if defined(__GNUC__)
/* One output channel's sum (S) over the pixel's vectors x0 .. x3 by its weights, read in order from
 * w: each weight vector loaded, then multiplied (loads and products alternate). */
#define MD_PIXEL_FIRST(S) "vldrb.8 q7, [%[w]], #16\n" "vmladav.s8 %[" S "], %q[x0], q7\n"
#define MD_PIXEL_NEXT(S, X) "vldrb.8 q7, [%[w]], #16\n" "vmladava.s8 %[" S "], %q[" X "], q7\n"
#define MD_PIXEL_1(S) MD_PIXEL_FIRST(S)
#define MD_PIXEL_2(S) MD_PIXEL_1(S) MD_PIXEL_NEXT(S, "x1")
#define MD_PIXEL_3(S) MD_PIXEL_2(S) MD_PIXEL_NEXT(S, "x2")
#define MD_PIXEL_4(S) MD_PIXEL_3(S) MD_PIXEL_NEXT(S, "x3")

/* Every output channel of one pixel (its vectors x0 .. x3 in registers), four channels a
 * low-overhead loop iteration: their sums into one vector (two VMOV), requantized with the scales
 * laid out per four channels (start, left shift, multiplier, right shift: one load before each
 * use), clamped, stored together. */
#define MD_POINTWISE_PIXEL(CHANNEL)                                                                  \
    __asm__ volatile("dls lr, %[groups]\n"                                                           \
                     "1:\n" CHANNEL("s0") CHANNEL("s1") CHANNEL("s2") CHANNEL("s3")                  \
                     "vmov q6[2], q6[0], %[s0], %[s2]\n"                                             \
                     "vmov q6[3], q6[1], %[s1], %[s3]\n"                                             \
                     "vldrw.u32 q5, [%[sc]], #16\n"                                                  \
                     "vadd.i32 q6, q6, q5\n"                                                         \
                     "vldrw.u32 q5, [%[sc]], #16\n"                                                  \
                     "vshl.s32 q6, q6, q5\n"                                                         \
                     "vldrw.u32 q5, [%[sc]], #16\n"                                                  \
                     "vqrdmulh.s32 q6, q6, q5\n"                                                     \
                     "vldrw.u32 q5, [%[sc]], #16\n"                                                  \
                     "vand q4, q6, q5\n"                                                             \
                     "vshr.s32 q4, q4, #31\n"                                                        \
                     "vqadd.s32 q6, q6, q4\n"                                                        \
                     "vrshl.s32 q6, q6, q5\n"                                                        \
                     "vadd.i32 q6, q6, %[offset]\n"                                                  \
                     "vldrw.u32 q5, [%[bounds]]\n"                                                   \
                     "vmax.s32 q6, q6, q5\n"                                                         \
                     "vldrw.u32 q5, [%[bounds], #16]\n"                                              \
                     "vmin.s32 q6, q6, q5\n"                                                         \
                     "vstrb.32 q6, [%[out]], #4\n"                                                   \
                     "le lr, 1b\n"                                                                   \
                     : [s0] "=&Te"(s0), [s1] "=&Te"(s1), [s2] "=&Te"(s2), [s3] "=&Te"(s3), [w] "+r"(w), \
                       [sc] "+r"(sc), [out] "+r"(out)                                                \
                     : [groups] "r"(groups), [offset] "r"(offset), [bounds] "r"(bounds), [x0] "w"(x0), \
                       [x1] "w"(x1), [x2] "w"(x2), [x3] "w"(x3)                                       \
                     : "q4", "q5", "q6", "q7", "lr", "memory")

/* Channel j's scales where MD_POINTWISE_PIXEL reads them: per four channels their starts, left
 * shifts, multipliers and right shifts. */
static void lay_out_scales(const md_mve_requant *requant, int per_channel, int32_t j, int32_t start, int32_t *scales)
{
    const int32_t q = per_channel ? j : 0;
    int32_t *group = scales + 16 * (j / 4) + j % 4;
    group[0] = start;
    group[4] = md_max_i32(requant->shifts[q], 0);
    group[8] = requant->multipliers[q];
    group[12] = md_min_i32(requant->shifts[q], 0);
}
#endif

/* ------------------------------------------------------------------ short rows */

/* Stack of rows_s8: the filter rows' padded input rows, the weights (a vector per channel and filter
 * row), each channel's requantization. */
#define MD_CONV_ROW_BYTES 1024
#define MD_CONV_ROW_WEIGHTS 768
#define MD_CONV_ROW_CHANNELS 32

/* Bytes of one padded input row in rows_s8: the columns the windows reach and a vector past them. */
static int32_t padded_row_bytes(const md_window_params *p)
{
    return md_padded_extent(p->input_w, p->output_w, p->stride_w, p->pad_left, p->filter_w, 1) * p->input_c + 16;
}

/* Whether a layer's windows are 2 to 4 rows of one vector each (a filter row's taps, all input
 * channels: at most 16 bytes, undilated), within rows_s8's stack (1x1 layers take the groups'
 * kernels, faster there). */
static int fits_rows(const md_window_params *p)
{
    const int32_t channels = (p->output_c + 3) & ~3;
    return p->filter_h * p->filter_w > 1 && p->filter_h <= 4 && p->dilation_w == 1 && p->filter_w * p->input_c <= 16 &&
           channels <= MD_CONV_ROW_CHANNELS && channels * p->filter_h * 16 <= MD_CONV_ROW_WEIGHTS &&
           p->filter_h * padded_row_bytes(p) <= MD_CONV_ROW_BYTES;
}

/* Input row y of `image` padded into `to` (`bytes`: the zero point around it, or all of it when the
 * row lies outside the image). */
static void pad_row(const md_window_params *p, const int8_t *image, int32_t y, int32_t bytes, int8_t *to)
{
    const int8_t zero = (int8_t)-p->input_offset;
    const int32_t left = p->pad_left * p->input_c;
    const int32_t inside = p->input_w * p->input_c;
    if (y < 0 || y >= p->input_h) {
        md_mve_fill_s8(to, zero, bytes);
        return;
    }
    md_mve_fill_s8(to, zero, left);
    md_mve_copy_s8(to + left, image + y * inside, inside);
    md_mve_fill_s8(to + left + inside, zero, bytes - left - inside);
}

/* Four channels' sums of one window row `x` by its weights (four vectors from `w`). */
static MD_ALWAYS_INLINE void rows_dot4(int first, int8x16_t x, const int8_t *w, int32_t *s0, int32_t *s1, int32_t *s2,
                                       int32_t *s3)
{
    *s0 = first ? vmladavq_s8(x, vldrbq_s8(w)) : vmladavaq_s8(*s0, x, vldrbq_s8(w));
    *s1 = first ? vmladavq_s8(x, vldrbq_s8(w + 16)) : vmladavaq_s8(*s1, x, vldrbq_s8(w + 16));
    *s2 = first ? vmladavq_s8(x, vldrbq_s8(w + 32)) : vmladavaq_s8(*s2, x, vldrbq_s8(w + 32));
    *s3 = first ? vmladavq_s8(x, vldrbq_s8(w + 48)) : vmladavaq_s8(*s3, x, vldrbq_s8(w + 48));
}

/* One output row of `taps` (the filter's rows, a constant once inlined) window rows: each pixel's
 * window one vector a row, held in registers while every output channel, four at a time, takes one
 * VMLADAV(A) a row by weights laid out once in the order they are read, the four requantized as one
 * vector. */
static MD_ALWAYS_INLINE void rows_output_row(int taps, const conv_s8_job *job, const md_mve_lane_scales *scales,
                                             const int8_t *rows, int32_t row_bytes, const int8_t *weights,
                                             int8_t *out)
{
    const md_window_params *p = job->p;
    const int32_t m = p->output_c;
    const int32_t step = p->stride_w * p->input_c;
    int32_t ox;
    int32_t k;
    for (ox = 0; ox < p->output_w; ++ox, rows += step, out += m) {
        const int8x16_t x0 = vldrbq_s8(rows);
        const int8x16_t x1 = taps > 1 ? vldrbq_s8(rows + row_bytes) : x0;
        const int8x16_t x2 = taps > 2 ? vldrbq_s8(rows + 2 * row_bytes) : x0;
        const int8x16_t x3 = taps > 3 ? vldrbq_s8(rows + 3 * row_bytes) : x0;
        const int8_t *w = weights;
        for (k = 0; k < m; k += 4) {
            int32_t s0, s1, s2, s3;
            int32x4_t outputs;
            rows_dot4(1, x0, w, &s0, &s1, &s2, &s3);
            w += 64;
            if (taps > 1) {
                rows_dot4(0, x1, w, &s0, &s1, &s2, &s3);
                w += 64;
            }
            if (taps > 2) {
                rows_dot4(0, x2, w, &s0, &s1, &s2, &s3);
                w += 64;
            }
            if (taps > 3) {
                rows_dot4(0, x3, w, &s0, &s1, &s2, &s3);
                w += 64;
            }
            outputs = md_mve_requantize_split(scales, md_mve_vector4(s0, s1, s2, s3), k);
            if (k + 4 <= m) {
                vstrbq_s32(out + k, outputs);
            } else {
                vstrbq_p_s32(out + k, outputs, vctp32q((uint32_t)(m - k)));
            }
        }
    }
}

#if defined(__GNUC__)
/* One output row as rows_output_row for whole vectors of output channels, each pixel's window rows
 * in registers by every channel in assembly (MD_POINTWISE_PIXEL: in C, GCC spills the pointers of
 * the four channels' loop): the weights laid out channel by channel, a vector a filter row. */
static MD_ALWAYS_INLINE void rows_pixels_s8(int taps, const conv_s8_job *job, const int32_t *scales,
                                            const int32_t *bounds, const int8_t *rows, int32_t row_bytes,
                                            const int8_t *weights, int8_t *row_out)
{
    const md_window_params *p = job->p;
    const int32_t groups = p->output_c / 4;
    const int32_t offset = p->output_offset;
    const int32_t step = p->stride_w * p->input_c;
    int32_t ox;
    for (ox = 0; ox < p->output_w; ++ox, rows += step, row_out += p->output_c) {
        const int8x16_t x0 = vldrbq_s8(rows);
        const int8x16_t x1 = taps > 1 ? vldrbq_s8(rows + row_bytes) : x0;
        const int8x16_t x2 = taps > 2 ? vldrbq_s8(rows + 2 * row_bytes) : x0;
        const int8x16_t x3 = taps > 3 ? vldrbq_s8(rows + 3 * row_bytes) : x0;
        const int8_t *w = weights;
        const int32_t *sc = scales;
        int8_t *out = row_out;
        int32_t s0, s1, s2, s3;
        if (taps == 1) {
            MD_POINTWISE_PIXEL(MD_PIXEL_1);
        } else if (taps == 2) {
            MD_POINTWISE_PIXEL(MD_PIXEL_2);
        } else if (taps == 3) {
            MD_POINTWISE_PIXEL(MD_PIXEL_3);
        } else {
            MD_POINTWISE_PIXEL(MD_PIXEL_4);
        }
    }
}
#endif

/* Windows of at most 4 rows of one vector each (fits_rows), with scratch (the im2col contract):
 * output row by output row, the filter rows' input rows padded with the zero point on the stack
 * (read before any output of the row is written), so that every window is whole and a window row
 * is one 16-byte load from them (the bytes past its taps meet zero weights). */
MD_NOINLINE static void rows_s8(const conv_s8_job *job)
{
    const md_window_params *p = job->p;
    const int32_t m = p->output_c;
    const int32_t taps = p->filter_h;
    const int32_t run = p->filter_w * p->input_c;
    const int32_t row_bytes = padded_row_bytes(p);
    const mve_pred16_t run_lanes = vctp8q((uint32_t)run);
    const md_mve_requant requant = md_mve_requant_s8(NULL, job->multipliers, job->shifts, p->per_channel,
                                                     p->output_offset, p->act_min, p->act_max);
#if defined(__GNUC__)
    const int whole = m % 4 == 0; /* whole vectors of output channels: rows_pixels_s8 */
    int32_t grouped[4 * MD_CONV_ROW_CHANNELS]; /* its scales (lay_out_scales) */
    int32_t bounds[8];
#else
    const int whole = 0;
#endif
    int8_t rows[MD_CONV_ROW_BYTES];
    /* channel 4g + j's filter row fy: 16 bytes (zero past the run) from ((g * taps + fy) * 4 + j) * 16,
     * or from (k * taps + fy) * 16 for channel k when whole */
    int8_t weights[MD_CONV_ROW_WEIGHTS];
    int32_t starts[MD_CONV_ROW_CHANNELS], multipliers[MD_CONV_ROW_CHANNELS];
    int32_t lefts[MD_CONV_ROW_CHANNELS], rights[MD_CONV_ROW_CHANNELS];
    md_mve_lane_scales scales;
    int32_t batch;
    int32_t oy;
    int32_t fy;
    int32_t k;
    for (k = 0; k < ((m + 3) & ~3); ++k) { /* channels past m (to a multiple of 4): repeats of the last */
        const int32_t c = md_min_i32(k, m - 1);
        int32_t sum = 0;
        for (fy = 0; fy < taps; ++fy) {
            const int8x16_t row = vldrbq_z_s8(job->filter + c * job->depth + fy * run, run_lanes);
            vstrbq_s8(weights + (whole ? k * taps + fy : ((k >> 2) * taps + fy) * 4 + (k & 3)) * 16, row);
            sum = vaddvaq_s8(sum, row);
        }
        starts[k] = c < job->folded ? job->starts[c]
                                    : md_wrap_add(job->bias ? job->bias[c] : 0, md_wrap_mul(p->input_offset, sum));
    }
    md_mve_split_scales(&requant, m, multipliers, lefts, rights);
    scales.starts = starts;
    scales.multipliers = multipliers;
    scales.lefts = lefts;
    scales.rights = rights;
    scales.output_offset = requant.output_offset;
    scales.low = vdupq_n_s32(requant.low);
    scales.high = vdupq_n_s32(requant.high);
#if defined(__GNUC__)
    for (k = 0; whole && k < m; ++k) {
        lay_out_scales(&requant, p->per_channel, k, starts[k], grouped);
    }
    vstrwq_s32(bounds, scales.low);
    vstrwq_s32(bounds + 4, scales.high);
#endif
    for (batch = 0; batch < p->batches; ++batch) {
        const int8_t *image = job->input + batch * p->input_h * p->input_w * p->input_c;
        int8_t *out = job->output + batch * p->output_h * p->output_w * m;
        for (oy = 0; oy < p->output_h; ++oy, out += p->output_w * m) {
            const int32_t y0 = md_window_origin(oy, p->stride_h, p->pad_top);
            for (fy = 0; fy < taps; ++fy) {
                pad_row(p, image, y0 + fy * p->dilation_h, row_bytes, rows + fy * row_bytes);
            }
#if defined(__GNUC__)
            if (whole) {
                switch (taps) {
                case 1:
                    rows_pixels_s8(1, job, grouped, bounds, rows, row_bytes, weights, out);
                    break;
                case 2:
                    rows_pixels_s8(2, job, grouped, bounds, rows, row_bytes, weights, out);
                    break;
                case 3:
                    rows_pixels_s8(3, job, grouped, bounds, rows, row_bytes, weights, out);
                    break;
                default:
                    rows_pixels_s8(4, job, grouped, bounds, rows, row_bytes, weights, out);
                    break;
                }
                continue;
            }
#endif
            switch (taps) {
            case 1:
                rows_output_row(1, job, &scales, rows, row_bytes, weights, out);
                break;
            case 2:
                rows_output_row(2, job, &scales, rows, row_bytes, weights, out);
                break;
            case 3:
                rows_output_row(3, job, &scales, rows, row_bytes, weights, out);
                break;
            default:
                rows_output_row(4, job, &scales, rows, row_bytes, weights, out);
                break;
            }
        }
    }
}

/* ------------------------------------------------------------------ pointwise, a pixel in registers */

#if defined(__GNUC__)
#define MD_CONV_POINTWISE_CHANNELS 64 /* output channels whose requantization pointwise_s8 lays out */

/* Whether a 1x1 unpadded convolution fits pointwise_s8: a pixel of 1 to 4 whole vectors of
 * channels, whole vectors of up to MD_CONV_POINTWISE_CHANNELS output channels. */
static int fits_pointwise(const md_window_params *p)
{
    return is_pointwise(p) && p->input_c % 16 == 0 && p->input_c <= 64 && p->output_c % 4 == 0 &&
           p->output_c <= MD_CONV_POINTWISE_CHANNELS;
}

static MD_ALWAYS_INLINE void pointwise_pixel_s8(int vectors, const conv_s8_job *job, const int32_t *scales,
                                                const int32_t *bounds, const int8_t *x, int8_t *out)
{
    const int32_t groups = job->p->output_c / 4;
    const int32_t offset = job->p->output_offset;
    const int8x16_t x0 = vldrbq_s8(x);
    const int8x16_t x1 = vectors > 1 ? vldrbq_s8(x + 16) : x0;
    const int8x16_t x2 = vectors > 2 ? vldrbq_s8(x + 32) : x0;
    const int8x16_t x3 = vectors > 3 ? vldrbq_s8(x + 48) : x0;
    const int8_t *w = job->filter;
    const int32_t *sc = scales;
    int32_t s0, s1, s2, s3;
    switch (vectors) {
    case 1:
        MD_POINTWISE_PIXEL(MD_PIXEL_1);
        break;
    case 2:
        MD_POINTWISE_PIXEL(MD_PIXEL_2);
        break;
    case 3:
        MD_POINTWISE_PIXEL(MD_PIXEL_3);
        break;
    default:
        MD_POINTWISE_PIXEL(MD_PIXEL_4);
        break;
    }
}

/* 1x1 unpadded convolutions with fits_pointwise and scratch (the im2col contract: two pixels read
 * before either is written): pixel pairs copied to the scratch first unless the output lies apart
 * from the input, then each pixel by pointwise_pixel_s8. */
MD_NOINLINE static void pointwise_s8(const conv_s8_job *job, int8_t *scratch)
{
    const md_window_params *p = job->p;
    const int32_t m = p->output_c;
    const int32_t c = p->input_c;
    const int32_t vectors = c / 16;
    const int32_t pixels = p->output_h * p->output_w;
    const int in_place = reads_in_place(p, job->input, job->output);
    const md_mve_requant requant = md_mve_requant_s8(NULL, job->multipliers, job->shifts, p->per_channel,
                                                     p->output_offset, p->act_min, p->act_max);
    int32_t scales[4 * MD_CONV_POINTWISE_CHANNELS]; /* per 4 channels: starts, lefts, multipliers, rights */
    int32_t bounds[8];
    int32_t batch;
    int32_t pixel;
    int32_t j;
    for (j = 0; j < m; ++j) {
        lay_out_scales(&requant, p->per_channel, j,
                       j < job->folded ? job->starts[j]
                                       : md_wrap_add(job->bias ? job->bias[j] : 0,
                                                     md_wrap_mul(p->input_offset, weight_sum(job, j))),
                       scales);
    }
    vstrwq_s32(bounds, vdupq_n_s32(requant.low));
    vstrwq_s32(bounds + 4, vdupq_n_s32(requant.high));
    for (batch = 0; batch < p->batches; ++batch) {
        /* the pixels' inputs walked row by row (no division a pixel) */
        const int8_t *row = job->input + batch * p->input_h * p->input_w * c;
        const int8_t *next = row;
        int32_t ox = 0;
        for (pixel = 0; pixel < pixels; pixel += 2) {
            const int32_t count = md_min_i32(2, pixels - pixel);
            const int8_t *x[2];
            for (j = 0; j < count; ++j) {
                x[j] = next;
                next += p->stride_w * c;
                if (++ox == p->output_w) {
                    ox = 0;
                    row += p->stride_h * p->input_w * c;
                    next = row;
                }
                if (!in_place) {
                    md_mve_copy_s8(scratch + j * c, x[j], c);
                    x[j] = scratch + j * c;
                }
            }
            for (j = 0; j < count; ++j) {
                int8_t *out = job->output + (batch * pixels + pixel + j) * m;
                switch (vectors) {
                case 1:
                    pointwise_pixel_s8(1, job, scales, bounds, x[j], out);
                    break;
                case 2:
                    pointwise_pixel_s8(2, job, scales, bounds, x[j], out);
                    break;
                case 3:
                    pointwise_pixel_s8(3, job, scales, bounds, x[j], out);
                    break;
                default:
                    pointwise_pixel_s8(4, job, scales, bounds, x[j], out);
                    break;
                }
            }
        }
    }
}
#endif

void md_conv_run(const md_window_params *p, void *job, const md_conv_kernel *kernel, void *scratch)
{
    md_conv_run_portable(p, job, kernel, scratch);
}

static int runs_here(const md_window_params *p, const int16_t *scratch)
{
    return (scratch || is_pointwise(p)) && p->filter_c == p->input_c;
}

/* Either bias (starts NULL) or starts folded at generation (bias NULL). */
static void conv_s8(const md_window_params *p, const int8_t *input, const int8_t *filter, const int32_t *bias,
                    const int32_t *starts, const int32_t *multipliers, const int32_t *shifts, int8_t *output,
                    int16_t *scratch)
{
    conv_s8_job job;
    job.p = p;
    job.input = input;
    job.filter = filter;
    job.bias = bias;
    job.starts = starts;
    job.folded = starts ? p->output_c : 0;
    job.multipliers = multipliers;
    job.shifts = shifts;
    job.output = output;
    job.depth = p->filter_h * p->filter_w * p->input_c;
    if (scratch && fits_rows(p)) {
        rows_s8(&job);
#if defined(__GNUC__)
    } else if (scratch && fits_pointwise(p)) {
        pointwise_s8(&job, (int8_t *)scratch);
#endif
    } else if (scratch) {
        conv_s8_groups(&job, (int8_t *)scratch);
    } else {
        pointwise_direct_s8(&job);
    }
}

md_status md_conv_s8(const md_window_params *p, const int8_t *input, const int8_t *filter, const int32_t *bias,
                     const int32_t *multipliers, const int32_t *shifts, int8_t *output, int16_t *scratch)
{
    if (runs_here(p, scratch)) {
        conv_s8(p, input, filter, bias, NULL, multipliers, shifts, output, scratch);
        return MD_OK;
    }
    md_conv_int_portable(p, input, MD_INT8, filter, bias, multipliers, shifts, output, scratch);
    return MD_OK;
}

md_status md_conv_s8_folded(const md_window_params *p, const int8_t *input, const int8_t *filter, const int32_t *starts,
                            const int32_t *multipliers, const int32_t *shifts, int8_t *output, int16_t *scratch)
{
    if (!runs_here(p, scratch) || !starts) {
        return MD_ERROR_RANGE;
    }
    conv_s8(p, input, filter, NULL, starts, multipliers, shifts, output, scratch);
    return MD_OK;
}

#endif /* MD_PATH_MVE */
