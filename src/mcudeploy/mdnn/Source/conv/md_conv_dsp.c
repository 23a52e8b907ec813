/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: CONV_2D for cores with the DSP extension (see md_nn.h, md_nn_support.h).
 *
 * int8, not grouped, with the planned scratch: the memory contract's schedule (two output
 * pixels at a time, both receptive fields copied into the 2-column int16 im2col buffer, then
 * every output channel of both pixels written), with the columns in SMLAD pair order and a
 * 2 columns x 2 output channels block: each pair of column words and each unpacked weight
 * word feeds two SMLADs. A 1x1 stride-1 convolution is then a matrix multiply of the pixel pairs
 * by the filter (compute_pixels); other windows in a narrow requantization mode take block_pair
 * (rows walked by pointer, four 2x2 steps a pass, the block's constants read once). Other cases
 * run the portable kernel.
 */
#include "md_conv_int.h"

#if MD_PATH_DSP /* the ISA path this build takes: md_nn_support.h */

MD_PATH_SYMBOL(md_path_conv_dsp);

typedef struct {
    const md_window_params *p;
    const int8_t *input;
    const int8_t *filter;
    const int32_t *bias;
    const int32_t *multipliers;
    const int32_t *shifts;
    int8_t *output;
    int32_t depth; /* column length: filter_h * filter_w * input_c */
    int mode;      /* md_dsp_mode */
    int matrix;    /* a 1x1 stride-1 window: the pixels' columns are their input pixels */
} conv_dsp_job;

/* Index in the scratch of value j of column `column` (of `columns`, 1 or 2): per group of 4 values,
 * the two columns' pair-order words side by side, so one pointer walks both; the last depth % 4
 * values of each column after all groups. */
static inline int32_t scratch_index(const conv_dsp_job *job, int32_t columns, int32_t column, int32_t j)
{
    const int32_t grouped = job->depth & ~3;
    if (j < grouped) {
        return (j >> 2) * 4 * columns + column * 4 + (md_dsp_pair_order(j) & 3);
    }
    return grouped * columns + column * (job->depth & 3) + j - grouped;
}

/* `count` values from `bytes` on (a multiple of 4), plus the input offset (SXTAB16): two pair-order
 * words per 4 values, `step` halfwords apart (a constant in each inlined copy: immediate offsets);
 * four groups a pass, then the last one to three. */
static MD_ALWAYS_INLINE int16_t *fill_tap_words(int16x2_t offset, const int8_t *bytes, int32_t count,
                                                int16_t *values, int32_t step)
{
    const int8_t *end = bytes + count;
    const int8_t *end_quads = bytes + (count & ~15);
    while (bytes < end_quads) {
        const uint32_t word_0 = md_read32(bytes);
        const uint32_t word_1 = md_read32(bytes + 4);
        const uint32_t word_2 = md_read32(bytes + 8);
        const uint32_t word_3 = md_read32(bytes + 12);
        md_write32(values, (uint32_t)md_even_pair_add(offset, word_0));
        md_write32(values + 2, (uint32_t)md_odd_pair_add(offset, word_0));
        md_write32(values + step, (uint32_t)md_even_pair_add(offset, word_1));
        md_write32(values + step + 2, (uint32_t)md_odd_pair_add(offset, word_1));
        md_write32(values + 2 * step, (uint32_t)md_even_pair_add(offset, word_2));
        md_write32(values + 2 * step + 2, (uint32_t)md_odd_pair_add(offset, word_2));
        md_write32(values + 3 * step, (uint32_t)md_even_pair_add(offset, word_3));
        md_write32(values + 3 * step + 2, (uint32_t)md_odd_pair_add(offset, word_3));
        bytes += 16;
        values += 4 * step;
    }
    for (; bytes < end; bytes += 4, values += step) {
        const uint32_t word = md_read32(bytes);
        md_write32(values, (uint32_t)md_even_pair_add(offset, word));
        md_write32(values + 2, (uint32_t)md_odd_pair_add(offset, word));
    }
    return values;
}

/* A padding tap of `channels` values (a multiple of 4): zeros, which add nothing. */
static MD_ALWAYS_INLINE int16_t *fill_tap_zeros(int32_t channels, int16_t *values, int32_t step)
{
    int32_t c;
    for (c = 0; c < channels; c += 4, values += step) {
        md_write32(values, 0u);
        md_write32(values + 2, 0u);
    }
    return values;
}

static MD_NOINLINE void fill_column_values(const conv_dsp_job *job, int32_t batch, int32_t oy, int32_t ox,
                                           int16_t *scratch, int32_t columns, int32_t column)
{
    const md_window_params *p = job->p;
    const int32_t channels = p->input_c;
    const int32_t step = 4 * columns;
    const int32_t y0 = md_window_origin(oy, p->stride_h, p->pad_top);
    const int32_t x0 = md_window_origin(ox, p->stride_w, p->pad_left);
    const int16x2_t offsets = (int16x2_t)(((uint32_t)p->input_offset & 0xFFFFu) * 0x10001u);
    int16_t *tail = scratch + (job->depth & ~3) * columns + column * (job->depth & 3);
    column_packer packer;
    int32_t i;
    packer.word = 0;
    packer.shift = 0;
    packer.group = scratch + scratch_index(job, columns, column, 0);
    pack_window(&packer, p, (const uint8_t *)job->input + batch * p->input_h * p->input_w * channels, y0, x0, offsets,
                step, 2);
    for (i = 0; packer.shift > 0; ++i, packer.word >>= 8, packer.shift -= 8) {
        tail[i] = (int16_t)((int8_t)packer.word + p->input_offset);
    }
}

/* Column `column` of `columns` (1 or 2, `step` = 4 * columns: a constant once inlined) with the
 * receptive field of output (oy, ox) of `batch`, input_c a multiple of 4: whole groups only. */
static MD_ALWAYS_INLINE void fill_column_words(const conv_dsp_job *job, int32_t batch, int32_t oy, int32_t ox,
                                               int16_t *words, int32_t step)
{
    const md_window_params *p = job->p;
    const int32_t channels = p->input_c;
    const int16x2_t offset = (int16x2_t)(((uint32_t)p->input_offset & 0xFFFFu) * 0x10001u);
    const int32_t y0 = md_window_origin(oy, p->stride_h, p->pad_top);
    const int32_t x0 = md_window_origin(ox, p->stride_w, p->pad_left);
    int32_t fy;
    int32_t fx;
    if (p->dilation_w == 1 && y0 >= 0 && x0 >= 0 && y0 + (p->filter_h - 1) * p->dilation_h < p->input_h &&
        x0 + p->filter_w <= p->input_w) { /* inside: each filter row is one run of values */
        const int32_t run = p->filter_w * channels;
        const int32_t row_step = p->dilation_h * p->input_w * channels;
        const int8_t *row = job->input + md_tap_index(p, batch, oy, ox, 0, 0);
        for (fy = 0; fy < p->filter_h; ++fy, row += row_step) {
            words = fill_tap_words(offset, row, run, words, step);
        }
        return;
    }
    for (fy = 0; fy < p->filter_h; ++fy) {
        for (fx = 0; fx < p->filter_w; ++fx) {
            const int32_t first = md_tap_index(p, batch, oy, ox, fy, fx);
            words = first >= 0 ? fill_tap_words(offset, job->input + first, channels, words, step)
                               : fill_tap_zeros(channels, words, step);
        }
    }
}

/* Column `column` of `columns` with the receptive field of output `pixel` of `batch`. */
static MD_NOINLINE void fill_column(const conv_dsp_job *job, int32_t batch, int32_t pixel, int16_t *scratch,
                                    int32_t columns, int32_t column)
{
    const int32_t oy = pixel / job->p->output_w;
    const int32_t ox = pixel - oy * job->p->output_w;
    if ((job->p->input_c & 3) != 0) {
        fill_column_values(job, batch, oy, ox, scratch, columns, column);
    } else if (columns == 2) {
        fill_column_words(job, batch, oy, ox, scratch + 4 * column, 8);
    } else {
        fill_column_words(job, batch, oy, ox, scratch, 4);
    }
}

/* sums {a.row_0, a.row_1, b.row_0, b.row_1} of the two interleaved columns a and b in `words`
 * with two weight rows of `depth` values. Inlined into the channel loop: the loop's assembly takes
 * 13 registers, GCC keeps the rest on the stack around it, cheaper than a call per channel pair. */
/* The sums of one block of two pixels (a, b) by two output channels (0, 1): values, not an array,
 * so that the assembly's memory clobber leaves them in registers. */
typedef struct {
    int32_t a0, a1, b0, b1;
} conv_sums;

static MD_ALWAYS_INLINE conv_sums dot_2x2(const uint32_t *words, const int8_t *row_0, const int8_t *row_1,
                                          int32_t depth, conv_sums sums)
{
    const int8_t *end = row_0 + (depth & ~3);
    const int8_t *end_pairs = row_0 + (depth & ~7);
    const int16_t *tail;
    int32_t a0 = sums.a0, a1 = sums.a1, b0 = sums.b0, b1 = sums.b1;
    int32_t t;
    /* GCC 12 spills in this loop whatever the C; written out it is 16 instructions for 16 MACs:
     * both weight words post-incremented, each column's word pair one post-incremented LDRD
     * into the same two registers, the odd weight pairs unpacked in place. Two such steps a
     * pass (one loop test for 32 MACs), then a last single step when depth / 4 is odd. */
#define DOT_2X2_STEP                                                                                        \
    "ldr %[w0], [%[row_0]], #4\n\t"                                                                      \
    "ldr %[w1], [%[row_1]], #4\n\t"                                                                      \
    "ldrd %[c0], %[c1], [%[words]], #8\n\t"                                                              \
    "sxtb16 %[e0], %[w0]\n\t"                                                                            \
    "sxtb16 %[e1], %[w1]\n\t"                                                                            \
    "sxtb16 %[w0], %[w0], ror #8\n\t"                                                                    \
    "sxtb16 %[w1], %[w1], ror #8\n\t"                                                                    \
    "smlad %[a0], %[c0], %[e0], %[a0]\n\t"                                                               \
    "smlad %[a1], %[c0], %[e1], %[a1]\n\t"                                                               \
    "smlad %[a0], %[c1], %[w0], %[a0]\n\t"                                                               \
    "smlad %[a1], %[c1], %[w1], %[a1]\n\t"                                                               \
    "ldrd %[c0], %[c1], [%[words]], #8\n\t"                                                              \
    "smlad %[b0], %[c0], %[e0], %[b0]\n\t"                                                               \
    "smlad %[b1], %[c0], %[e1], %[b1]\n\t"                                                               \
    "smlad %[b0], %[c1], %[w0], %[b0]\n\t"                                                               \
    "smlad %[b1], %[c1], %[w1], %[b1]\n\t"
#define DOT_2X2_OPERANDS                                                                                    \
    : [a0] "+r"(a0), [a1] "+r"(a1), [b0] "+r"(b0), [b1] "+r"(b1), [words] "+r"(words), [row_0] "+r"(row_0),  \
      [row_1] "+r"(row_1), [w0] "=&r"(w0), [w1] "=&r"(w1), [e0] "=&r"(e0), [e1] "=&r"(e1), [c0] "=&r"(c0),      \
      [c1] "=&r"(c1)                                                                                          \
    :                                                                                                         \
    : "memory"
    while (row_0 < end_pairs) {
        uint32_t w0, w1, e0, e1, c0, c1;
        __asm__(DOT_2X2_STEP DOT_2X2_STEP DOT_2X2_OPERANDS);
    }
    if (row_0 < end) {
        uint32_t w0, w1, e0, e1, c0, c1;
        __asm__(DOT_2X2_STEP DOT_2X2_OPERANDS);
    }
    tail = (const int16_t *)words;
    for (t = 0; t < (depth & 3); ++t) {
        a0 = md_wrap_add(a0, tail[t] * row_0[t]);
        a1 = md_wrap_add(a1, tail[t] * row_1[t]);
        b0 = md_wrap_add(b0, tail[(depth & 3) + t] * row_0[t]);
        b1 = md_wrap_add(b1, tail[(depth & 3) + t] * row_1[t]);
    }
    sums.a0 = a0;
    sums.a1 = a1;
    sums.b0 = b0;
    sums.b1 = b1;
    return sums;
}

/* sums {a.row_0, a.row_1} of the single column a in `words` (a lone last pixel). */
MD_NOINLINE static conv_sums dot_1x2(const uint32_t *words, const int8_t *row_0, const int8_t *row_1, int32_t depth,
                                     conv_sums sums)
{
    const int8_t *end = row_0 + (depth & ~3);
    const int16_t *tail;
    int32_t a0 = sums.a0, a1 = sums.a1;
    int32_t t;
    while (row_0 < end) {
        const uint32_t w0 = md_read32(row_0);
        const uint32_t w1 = md_read32(row_1);
        a0 = __smlad((int16x2_t)words[0], md_even_pair(w0), a0);
        a1 = __smlad((int16x2_t)words[0], md_even_pair(w1), a1);
        a0 = __smlad((int16x2_t)words[1], md_odd_pair(w0), a0);
        a1 = __smlad((int16x2_t)words[1], md_odd_pair(w1), a1);
        words += 2;
        row_0 += 4;
        row_1 += 4;
    }
    tail = (const int16_t *)words;
    for (t = 0; t < (depth & 3); ++t) {
        a0 = md_wrap_add(a0, tail[t] * row_0[t]);
        a1 = md_wrap_add(a1, tail[t] * row_1[t]);
    }
    sums.a0 = a0;
    sums.a1 = a1;
    return sums;
}

/* Output channel `oc` from its sum; `mode` (md_dsp_mode) a constant in each specialised copy of
 * compute_pixels_with. */
static MD_ALWAYS_INLINE int8_t requantize_output(int mode, const md_dsp_requant *r, int32_t oc, int32_t sum)
{
    const int32_t q = oc * r->channel_step;
    return (int8_t)md_dsp_requantize_mode(mode, sum, r->multipliers[q], r->shifts[q], r->offset, r->low, r->high);
}

/* Every output channel of one pixel (out_b NULL) or two, from the filled scratch, two channels
 * at a time. An odd last channel is computed twice (its row repeated), written once. */
static MD_ALWAYS_INLINE void compute_pixels_with(const conv_dsp_job *job, const int16_t *scratch, int8_t *out_a,
                                                 int8_t *out_b, int mode)
{
    const md_dsp_requant r = md_dsp_requant_of(NULL, job->multipliers, job->shifts, job->p->per_channel,
                                               job->p->output_offset, job->p->act_min, job->p->act_max);
    const int32_t channels = job->p->output_c;
    const int32_t depth = job->depth;
    const int8_t *filter = job->filter;
    const int32_t *bias = job->bias;
    int32_t oc;
    for (oc = 0; oc < channels; oc += 2) {
        const int32_t next = oc + 1 < channels ? oc + 1 : oc;
        conv_sums sums;
        sums.a0 = sums.b0 = bias ? bias[oc] : 0;
        sums.a1 = sums.b1 = bias ? bias[next] : 0;
        if (out_b) {
            sums = dot_2x2((const uint32_t *)scratch, filter + oc * depth, filter + next * depth, depth, sums);
            out_b[oc] = requantize_output(mode, &r, oc, sums.b0);
            out_b[next] = requantize_output(mode, &r, next, sums.b1);
        } else {
            sums = dot_1x2((const uint32_t *)scratch, filter + oc * depth, filter + next * depth, depth, sums);
        }
        out_a[oc] = requantize_output(mode, &r, oc, sums.a0);
        out_a[next] = requantize_output(mode, &r, next, sums.a1);
    }
}

static MD_NOINLINE void compute_pixels(const conv_dsp_job *job, const int16_t *scratch, int8_t *out_a, int8_t *out_b)
{
    switch (job->mode) {
    case MD_DSP_NARROW_INT8:
        compute_pixels_with(job, scratch, out_a, out_b, MD_DSP_NARROW_INT8);
        break;
    case MD_DSP_NARROW:
        compute_pixels_with(job, scratch, out_a, out_b, MD_DSP_NARROW);
        break;
    default:
        compute_pixels_with(job, scratch, out_a, out_b, MD_DSP_GENERAL);
        break;
    }
}

/* ---- Any window but the 1x1 stride-1 one (the matrix multiply above): every output channel of a
 * pixel pair from its filled columns, rows walked in order by two pointers (row_1 ends where the
 * next pair's row_0 starts), four 16-MAC steps a loop pass, the channel pair's multipliers and
 * shifts loaded once for both pixels. */

/* The block kernel's steps are dot_2x2's DOT_2X2_STEP: 4 values of both interleaved columns against
 * 4 of two weight rows, 16 MACs in 16 instructions. */

/* The block's outputs requantized (`mode` a constant in each specialised copy) and stored: the
 * constants read into registers after the dot product (read before, they would wait on the stack)
 * and before the first int8 store (which may alias them). */
static MD_ALWAYS_INLINE void requantize_block(int mode, const md_dsp_requant *r, const int32_t *multipliers,
                                              const int32_t *shifts, int32_t step, int pair, int32_t a0, int32_t a1,
                                              int32_t b0, int32_t b1, int8_t *out_a, int8_t *out_b)
{
    const int32_t multiplier_0 = multipliers[0];
    const int32_t shift_0 = shifts[0];
    const int32_t multiplier_1 = multipliers[step];
    const int32_t shift_1 = shifts[step];
    const int32_t offset = r->offset;
    const int32_t low = r->low;
    const int32_t high = r->high;
    out_a[0] = (int8_t)md_dsp_requantize_mode(mode, a0, multiplier_0, shift_0, offset, low, high);
    out_b[0] = (int8_t)md_dsp_requantize_mode(mode, b0, multiplier_0, shift_0, offset, low, high);
    if (pair) {
        out_a[1] = (int8_t)md_dsp_requantize_mode(mode, a1, multiplier_1, shift_1, offset, low, high);
        out_b[1] = (int8_t)md_dsp_requantize_mode(mode, b1, multiplier_1, shift_1, offset, low, high);
    }
}

static MD_ALWAYS_INLINE void block_pair_with(const conv_dsp_job *job, const int16_t *scratch, int8_t *out_a,
                                             int8_t *out_b, int mode)
{
    const md_dsp_requant r = md_dsp_requant_of(NULL, NULL, NULL, 0, job->p->output_offset, job->p->act_min,
                                               job->p->act_max);
    const int32_t depth = job->depth;
    const int32_t quads = (depth >> 2) & ~3; /* groups of 4 values in the 4-step passes */
    const int32_t rest = depth & 3;
    const int32_t step = job->p->per_channel ? 1 : 0;
    const int32_t *bias = job->bias;
    const int32_t *multipliers = job->multipliers;
    const int32_t *shifts = job->shifts;
    const int8_t *row_0 = job->filter;
    int8_t *end_a = out_a + job->p->output_c;
    while (out_a < end_a) {
        const int pair = out_a + 1 < end_a;
        const int8_t *row_1 = pair ? row_0 + depth : row_0;
        const int8_t *end = row_0 + 4 * quads;
        const uint32_t *words = (const uint32_t *)scratch;
        int32_t a0 = bias ? bias[0] : 0;
        int32_t a1 = bias ? bias[pair] : 0;
        int32_t b0 = a0;
        int32_t b1 = a1;
        int32_t t;
        uint32_t w0, w1, e0, e1, c0, c1;
        while (row_0 < end) {
            __asm__(DOT_2X2_STEP DOT_2X2_STEP DOT_2X2_STEP DOT_2X2_STEP DOT_2X2_OPERANDS);
        }
        if (depth & 8) {
            __asm__(DOT_2X2_STEP DOT_2X2_STEP DOT_2X2_OPERANDS);
        }
        if (depth & 4) {
            __asm__(DOT_2X2_STEP DOT_2X2_OPERANDS);
        }
        for (t = 0; t < rest; ++t) {
            const int16_t *tail = (const int16_t *)words;
            a0 = md_wrap_add(a0, tail[t] * row_0[t]);
            a1 = md_wrap_add(a1, tail[t] * row_1[t]);
            b0 = md_wrap_add(b0, tail[rest + t] * row_0[t]);
            b1 = md_wrap_add(b1, tail[rest + t] * row_1[t]);
        }
        requantize_block(mode, &r, multipliers, shifts, step, pair, a0, a1, b0, b1, out_a, out_b);
        row_0 = row_1 + rest; /* the loops advanced both rows by depth - rest: the next pair starts here */
        out_a += 2;
        out_b += 2;
        bias = bias ? bias + 2 : NULL;
        multipliers += 2 * step;
        shifts += 2 * step;
    }
}
#undef DOT_2X2_STEP
#undef DOT_2X2_OPERANDS

/* The narrow modes only (md_dsp_mode: the layers of real models); the general one, rare, takes
 * compute_pixels rather than a third copy of this code. */
static MD_NOINLINE void block_pair(const conv_dsp_job *job, const int16_t *scratch, int8_t *out_a, int8_t *out_b)
{
    if (job->mode == MD_DSP_NARROW_INT8) {
        block_pair_with(job, scratch, out_a, out_b, MD_DSP_NARROW_INT8);
    } else {
        block_pair_with(job, scratch, out_a, out_b, MD_DSP_NARROW);
    }
}

static void conv_s8_pairs(const conv_dsp_job *job, int16_t *scratch)
{
    const md_window_params *p = job->p;
    const int32_t pixels = p->output_h * p->output_w;
    int32_t batch;
    int32_t pixel;
    for (batch = 0; batch < p->batches; ++batch) {
        for (pixel = 0; pixel < pixels; pixel += 2) {
            int8_t *out_a = job->output + (batch * pixels + pixel) * p->output_c;
            if (pixel + 1 < pixels) {
                fill_column(job, batch, pixel, scratch, 2, 0);
                fill_column(job, batch, pixel + 1, scratch, 2, 1);
                if (job->matrix || job->mode == MD_DSP_GENERAL) {
                    compute_pixels(job, scratch, out_a, out_a + p->output_c);
                } else {
                    block_pair(job, scratch, out_a, out_a + p->output_c);
                }
            } else {
                fill_column(job, batch, pixel, scratch, 1, 0);
                compute_pixels(job, scratch, out_a, NULL);
            }
        }
    }
}

void md_conv_run(const md_window_params *p, void *job, const md_conv_kernel *kernel, void *scratch)
{
    md_conv_run_portable(p, job, kernel, scratch);
}

md_status md_conv_s8(const md_window_params *p, const int8_t *input, const int8_t *filter, const int32_t *bias,
                     const int32_t *multipliers, const int32_t *shifts, int8_t *output, int16_t *scratch)
{
    conv_dsp_job job;
    if (scratch == NULL || p->filter_c != p->input_c || p->accumulator64) {
        md_conv_int_portable(p, input, MD_INT8, filter, bias, multipliers, shifts, output, scratch);
        return MD_OK;
    }
    if (md_conv_1x1_fits(p)) {
        md_conv_1x1_s8_dsp(p, input, filter, bias, multipliers, shifts, output, scratch);
        return MD_OK;
    }
    job.p = p;
    job.input = input;
    job.filter = filter;
    job.bias = bias;
    job.multipliers = multipliers;
    job.shifts = shifts;
    job.output = output;
    job.depth = p->filter_h * p->filter_w * p->input_c;
    job.matrix = p->filter_h == 1 && p->filter_w == 1 && p->stride_h == 1 && p->stride_w == 1;
    job.mode = md_dsp_mode(md_dsp_narrow_layer(bias, shifts, p->output_c, p->per_channel, job.depth), p->act_min,
                           p->act_max);
    conv_s8_pairs(&job, scratch);
    return MD_OK;
}

#endif /* MD_PATH_DSP */
