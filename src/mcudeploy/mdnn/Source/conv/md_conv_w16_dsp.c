/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: CONV_2D int8 with the filter pre-expanded to int16, for cores with the
 * DSP extension (see md_nn.h; the DSP helpers of md_nn_support.h).
 *
 * The contract's im2col schedule, as md_conv_s8's DSP path: two output pixels at a time, both
 * receptive fields copied (plus the input offset, as int16) into the 2-column scratch, then every
 * output channel of both pixels computed and written, 2 columns x 2 output channels at a time.
 * The weights are already int16 in the columns' order, so each word of them meets a column word
 * in one SMLAD with nothing to unpack: per 4 values, three LDRDs and eight SMLADs.
 */
#include "md_conv_int.h"

#if MD_PATH_DSP /* the ISA path this build takes: md_nn_support.h */

MD_PATH_SYMBOL(md_path_conv_w16_dsp);

typedef struct {
    const md_window_params *p;
    const int8_t *input;
    const int16_t *filter;
    const int32_t *bias;
    const int32_t *multipliers;
    const int32_t *shifts;
    int8_t *output;
    int32_t depth; /* column length: filter_h * filter_w * input_c */
} conv_w16_job;

/* Index in the scratch of value j of column `column` (of `columns`, 1 or 2): per group of 4 values,
 * the columns' 4 values side by side, so one pointer walks both; the last depth % 4 values of each
 * column after all groups. */
static inline int32_t column_index(int32_t depth, int32_t columns, int32_t column, int32_t j)
{
    const int32_t grouped = depth & ~3;
    if (j < grouped) {
        return (j >> 2) * 4 * columns + column * 4 + (j & 3);
    }
    return grouped * columns + column * (depth & 3) + j - grouped;
}

/* Column `column` of `columns` with the receptive field of output `pixel` of `batch`: taps of a
 * multiple of 4 channels a word at a time (SXTAB16 adds the offset, the halves packed back in
 * order), other taps value by value; a padding tap adds nothing (zeros). */
static MD_NOINLINE void fill_column(const conv_w16_job *job, int32_t batch, int32_t pixel, int16_t *scratch,
                                    int32_t columns, int32_t column)
{
    const md_window_params *p = job->p;
    const int32_t channels = p->input_c;
    const int32_t oy = pixel / p->output_w;
    const int32_t ox = pixel % p->output_w;
    const int16x2_t offsets = (int16x2_t)(((uint32_t)p->input_offset & 0xFFFFu) * 0x10001u);
    int32_t position = 0;
    int32_t fy;
    int32_t fx;
    int32_t c;
    for (fy = 0; fy < p->filter_h; ++fy) {
        for (fx = 0; fx < p->filter_w; ++fx, position += channels) {
            const int32_t first = md_tap_index(p, batch, oy, ox, fy, fx);
            if ((channels & 3) == 0) {
                int16_t *values = scratch + column_index(job->depth, columns, column, position);
                for (c = 0; c < channels; c += 4, values += 4 * columns) {
                    uint32_t low = 0;
                    uint32_t high = 0;
                    if (first >= 0) {
                        const uint32_t bytes = md_read32(job->input + first + c);
                        const uint32_t even = (uint32_t)md_even_pair_add(offsets, bytes);
                        const uint32_t odd = (uint32_t)md_odd_pair_add(offsets, bytes);
                        low = (even & 0xFFFFu) | (odd << 16);
                        high = (even >> 16) | (odd & 0xFFFF0000u);
                    }
                    md_write32(values, low);
                    md_write32(values + 2, high);
                }
                continue;
            }
            for (c = 0; c < channels; ++c) {
                const int32_t value = first >= 0 ? job->input[first + c] + p->input_offset : 0;
                scratch[column_index(job->depth, columns, column, position + c)] = (int16_t)value;
            }
        }
    }
}

/* 4 values of both columns against 4 of both rows, in C: the rows at any even address. */
static inline void block_2x2(const int16_t *values, const int16_t *row_0, const int16_t *row_1, int32_t *a0,
                             int32_t *a1, int32_t *b0, int32_t *b1)
{
    const int16x2_t u0 = (int16x2_t)md_read32(row_0), u1 = (int16x2_t)md_read32(row_0 + 2);
    const int16x2_t v0 = (int16x2_t)md_read32(row_1), v1 = (int16x2_t)md_read32(row_1 + 2);
    const int16x2_t x0 = (int16x2_t)md_read32(values), x1 = (int16x2_t)md_read32(values + 2);
    const int16x2_t y0 = (int16x2_t)md_read32(values + 4), y1 = (int16x2_t)md_read32(values + 6);
    *a0 = __smlad(x1, u1, __smlad(x0, u0, *a0));
    *a1 = __smlad(x1, v1, __smlad(x0, v0, *a1));
    *b0 = __smlad(y1, u1, __smlad(y0, u0, *b0));
    *b1 = __smlad(y1, v1, __smlad(y0, v0, *b1));
}

/* 4 values of both interleaved columns against 4 of each row (`values`, `row_0`, `row_1` advanced). */
#define BLOCK_2X2_STEP                                                                                            \
    "ldrd %[u0], %[u1], [%[row_0]], #8\n\t"                                                                     \
    "ldrd %[v0], %[v1], [%[row_1]], #8\n\t"                                                                     \
    "ldrd %[x0], %[x1], [%[values]], #8\n\t"                                                                    \
    "smlad %[a0], %[x0], %[u0], %[a0]\n\t"                                                                      \
    "smlad %[a1], %[x0], %[v0], %[a1]\n\t"                                                                      \
    "smlad %[a0], %[x1], %[u1], %[a0]\n\t"                                                                      \
    "smlad %[a1], %[x1], %[v1], %[a1]\n\t"                                                                      \
    "ldrd %[x0], %[x1], [%[values]], #8\n\t"                                                                    \
    "smlad %[b0], %[x0], %[u0], %[b0]\n\t"                                                                      \
    "smlad %[b1], %[x0], %[v0], %[b1]\n\t"                                                                      \
    "smlad %[b0], %[x1], %[u1], %[b0]\n\t"                                                                      \
    "smlad %[b1], %[x1], %[v1], %[b1]"

#define BLOCK_2X2(code)                                                                                           \
    do {                                                                                                          \
        uint32_t u0, u1, v0, v1, x0, x1;                                                                          \
        __asm__(code                                                                                              \
                : [a0] "+r"(a0), [a1] "+r"(a1), [b0] "+r"(b0), [b1] "+r"(b1), [values] "+r"(values),              \
                  [row_0] "+r"(row_0), [row_1] "+r"(row_1), [u0] "=&r"(u0), [u1] "=&r"(u1), [v0] "=&r"(v0),        \
                  [v1] "=&r"(v1), [x0] "=&r"(x0), [x1] "=&r"(x1)                                                  \
                :                                                                                                 \
                : "memory");                                                                                      \
    } while (0)

/* sums {a.row_0, a.row_1, b.row_0, b.row_1} of the two interleaved columns a and b in `values`
 * with two int16 weight rows of `depth` values. Not inlined: the 4 accumulators, 2 column words
 * and 4 weight words then fit the registers. */
static MD_NOINLINE void dot_2x2(const int16_t *values, const int16_t *row_0, const int16_t *row_1, int32_t depth,
                                int32_t *sums)
{
    const int16_t *end = row_0 + (depth & ~3);
    int32_t a0 = sums[0], a1 = sums[1], b0 = sums[2], b1 = sums[3];
    int32_t t;
    if (depth & 1) { /* rows at odd multiples of 2 bytes: no LDRD */
        for (; row_0 < end; values += 8, row_0 += 4, row_1 += 4) {
            block_2x2(values, row_0, row_1, &a0, &a1, &b0, &b1);
        }
    }
    /* Rows and columns word aligned: one post-incremented LDRD for each row's 4 weights and each
     * column's 4 values (the second column's into the first's registers); 8 values a pass where
     * there are, which halves the loop's compare and branch. */
    while (row_0 + 8 <= end) {
        BLOCK_2X2(BLOCK_2X2_STEP "\n\t" BLOCK_2X2_STEP);
    }
    if (row_0 < end) {
        BLOCK_2X2(BLOCK_2X2_STEP);
    }
    for (t = 0; t < (depth & 3); ++t) {
        a0 = md_wrap_add(a0, values[t] * row_0[t]);
        a1 = md_wrap_add(a1, values[t] * row_1[t]);
        b0 = md_wrap_add(b0, values[(depth & 3) + t] * row_0[t]);
        b1 = md_wrap_add(b1, values[(depth & 3) + t] * row_1[t]);
    }
    sums[0] = a0;
    sums[1] = a1;
    sums[2] = b0;
    sums[3] = b1;
}

/* sums {a.row_0, a.row_1} of the single column a in `values` (a lone last pixel). */
static MD_NOINLINE void dot_1x2(const int16_t *values, const int16_t *row_0, const int16_t *row_1, int32_t depth,
                                int32_t *sums)
{
    int32_t a0 = sums[0], a1 = sums[1];
    int32_t k = 0;
    for (; k + 2 <= depth; k += 2) {
        const int16x2_t x = (int16x2_t)md_read32(values + k);
        a0 = __smlad(x, (int16x2_t)md_read32(row_0 + k), a0);
        a1 = __smlad(x, (int16x2_t)md_read32(row_1 + k), a1);
    }
    if (k < depth) {
        a0 = md_wrap_add(a0, values[k] * row_0[k]);
        a1 = md_wrap_add(a1, values[k] * row_1[k]);
    }
    sums[0] = a0;
    sums[1] = a1;
}

/* sums[0..3] (column a) and sums[4..7] (column b) of the two interleaved columns in `values` with a
 * group of 4 channels' weights from `weights` (md_w16_index's layout) to `end`, 4 values of each
 * column a pass: per pair of values, the two column words and the four weight words (a burst of
 * loads: one LDR, one pipelined, two LDRDs) meet in eight SMLADs, no unpacking. 2 pixels x 4
 * channels take all 14 registers (8 sums, 2 column words, 2 weight words, 2 pointers): the end and
 * the sums' address wait on the stack. */
__attribute__((naked, noinline)) static void dot_2x4(const int16_t *values __attribute__((unused)),
                                                     const int16_t *weights __attribute__((unused)),
                                                     const int16_t *end __attribute__((unused)),
                                                     int32_t *sums __attribute__((unused)))
{
#define QUAD_PAIR(a, b)                                                                                           \
    "ldr r10, [r0, #" #a "]\n\t"                                                                                 \
    "ldr r11, [r0, #" #b "]\n\t"                                                                                 \
    "ldrd r12, lr, [r1], #8\n\t"                                                                               \
    "smlad r2, r10, r12, r2\n\t"                                                                               \
    "smlad r6, r11, r12, r6\n\t"                                                                               \
    "smlad r3, r10, lr, r3\n\t"                                                                                \
    "smlad r7, r11, lr, r7\n\t"                                                                                \
    "ldrd r12, lr, [r1], #8\n\t"                                                                               \
    "smlad r4, r10, r12, r4\n\t"                                                                               \
    "smlad r8, r11, r12, r8\n\t"                                                                               \
    "smlad r5, r10, lr, r5\n\t"                                                                                \
    "smlad r9, r11, lr, r9\n\t"
    __asm__("push {r2, r3, r4-r11, lr}\n\t" /* [sp]: end, [sp, #4]: sums */
            "ldm r3, {r2-r9}\n\t"
            "1:\n\t" QUAD_PAIR(0, 8) QUAD_PAIR(4, 12)
            "adds r0, r0, #16\n\t"
            "ldr r10, [sp]\n\t"
            "cmp r1, r10\n\t"
            "bne 1b\n\t"
            "ldr r10, [sp, #4]\n\t"
            "stm r10, {r2-r9}\n\t"
            "add sp, sp, #8\n\t"
            "pop {r4-r11, pc}");
#undef QUAD_PAIR
}

/* How the 8 sums of a block become outputs: `mode` (md_dsp_mode) a constant in each copy. */
static MD_ALWAYS_INLINE void store_quad(const md_dsp_requant *r, int mode, int32_t oc, const int32_t *sums,
                                        int8_t *out_a, int8_t *out_b)
{
    int32_t lane;
    for (lane = 0; lane < 4; ++lane) {
        const int32_t q = (oc + lane) * r->channel_step;
        const int32_t m = r->multipliers[q], shift = r->shifts[q];
        out_a[oc + lane] = (int8_t)md_dsp_requantize_mode(mode, sums[lane], m, shift, r->offset, r->low, r->high);
        if (out_b) {
            out_b[oc + lane] =
                (int8_t)md_dsp_requantize_mode(mode, sums[4 + lane], m, shift, r->offset, r->low, r->high);
        }
    }
}

/* The channels of whole groups of 4 of two pixels (`scratch` 2 interleaved columns; out_b NULL: the
 * second is a copy of the first, not written), each group's 8 sums requantized together. */
static MD_ALWAYS_INLINE void compute_quads(const conv_w16_job *job, int mode, const int16_t *scratch, int8_t *out_a,
                                           int8_t *out_b)
{
    const md_dsp_requant r = md_dsp_requant_of(job->bias, job->multipliers, job->shifts, job->p->per_channel,
                                               job->p->output_offset, job->p->act_min, job->p->act_max);
    const int32_t depth = job->depth;
    const int32_t grouped = depth & ~3;
    const int32_t quads = job->p->output_c & ~3;
    int32_t sums[8];
    int32_t oc;
    int32_t lane;
    int32_t k;
    for (oc = 0; oc < quads; oc += 4) {
        const int16_t *weights = job->filter + oc * depth;
        for (lane = 0; lane < 4; ++lane) {
            sums[lane] = sums[4 + lane] = md_dsp_bias(&r, oc + lane);
        }
        if (grouped > 0) {
            dot_2x4(scratch, weights, weights + grouped * 4, sums);
        }
        for (k = grouped; k < depth; ++k) { /* the last depth % 4 values of both columns */
            const int32_t a = scratch[column_index(depth, 2, 0, k)];
            const int32_t b = scratch[column_index(depth, 2, 1, k)];
            for (lane = 0; lane < 4; ++lane) {
                const int32_t w = job->filter[md_w16_index(depth, job->p->output_c, oc + lane, k)];
                sums[lane] = md_wrap_add(sums[lane], a * w);
                sums[4 + lane] = md_wrap_add(sums[4 + lane], b * w);
            }
        }
        store_quad(&r, mode, oc, sums, out_a, out_b);
    }
}

static MD_NOINLINE void compute_quads_general(const conv_w16_job *job, const int16_t *scratch, int8_t *out_a,
                                              int8_t *out_b)
{
    compute_quads(job, MD_DSP_GENERAL, scratch, out_a, out_b);
}

static MD_NOINLINE void compute_quads_narrow(const conv_w16_job *job, const int16_t *scratch, int8_t *out_a,
                                             int8_t *out_b)
{
    compute_quads(job, MD_DSP_NARROW, scratch, out_a, out_b);
}

static MD_NOINLINE void compute_quads_int8(const conv_w16_job *job, const int16_t *scratch, int8_t *out_a,
                                           int8_t *out_b)
{
    compute_quads(job, MD_DSP_NARROW_INT8, scratch, out_a, out_b);
}

/* The channels after the whole groups of 4 (rows as they are) of one pixel (out_b NULL, `columns`
 * 1) or two, two at a time; an odd last channel is computed twice (its row repeated), written once. */
static MD_NOINLINE void compute_rest(const conv_w16_job *job, const int16_t *scratch, int32_t columns, int8_t *out_a,
                                     int8_t *out_b)
{
    const md_dsp_requant r = md_dsp_requant_of(job->bias, job->multipliers, job->shifts, job->p->per_channel,
                                               job->p->output_offset, job->p->act_min, job->p->act_max);
    const int32_t channels = job->p->output_c;
    const int32_t depth = job->depth;
    int32_t sums[4];
    int32_t oc;
    for (oc = channels & ~3; oc < channels; oc += 2) {
        const int32_t next = oc + 1 < channels ? oc + 1 : oc;
        sums[0] = sums[2] = md_dsp_bias(&r, oc);
        sums[1] = sums[3] = md_dsp_bias(&r, next);
        if (columns == 2) {
            dot_2x2(scratch, job->filter + oc * depth, job->filter + next * depth, depth, sums);
        } else {
            dot_1x2(scratch, job->filter + oc * depth, job->filter + next * depth, depth, sums);
        }
        if (out_b) {
            out_b[oc] = (int8_t)md_dsp_requantize(&r, oc, sums[2]);
            out_b[next] = (int8_t)md_dsp_requantize(&r, next, sums[3]);
        }
        out_a[oc] = (int8_t)md_dsp_requantize(&r, oc, sums[0]);
        out_a[next] = (int8_t)md_dsp_requantize(&r, next, sums[1]);
    }
}

/* The whole groups of 4 channels of the single column in `scratch` (a layer of one output pixel:
 * its scratch holds one column), in C. */
static MD_NOINLINE void compute_quads_single(const conv_w16_job *job, const int16_t *scratch, int8_t *out)
{
    const md_dsp_requant r = md_dsp_requant_of(job->bias, job->multipliers, job->shifts, job->p->per_channel,
                                               job->p->output_offset, job->p->act_min, job->p->act_max);
    const int32_t depth = job->depth;
    const int32_t quads = job->p->output_c & ~3;
    int32_t oc;
    int32_t lane;
    int32_t k;
    for (oc = 0; oc < quads; oc += 4) {
        for (lane = 0; lane < 4; ++lane) {
            int32_t sum = md_dsp_bias(&r, oc + lane);
            for (k = 0; k < depth; ++k) {
                sum = md_wrap_add(sum, scratch[k] * job->filter[md_w16_index(depth, job->p->output_c, oc + lane, k)]);
            }
            out[oc + lane] = (int8_t)md_dsp_requantize(&r, oc + lane, sum);
        }
    }
}

md_status md_conv_s8_w16(const md_window_params *p, const int8_t *input, const int16_t *filter, const int32_t *bias,
                         const int32_t *multipliers, const int32_t *shifts, int8_t *output, int16_t *scratch)
{
    const int32_t pixels = p->output_h * p->output_w;
    conv_w16_job job;
    int mode;
    int32_t batch;
    int32_t pixel;
    if (scratch == NULL || p->filter_c != p->input_c || p->accumulator64) {
        return md_conv_s8_w16_portable(p, input, filter, bias, multipliers, shifts, output, scratch);
    }
    job.p = p;
    job.input = input;
    job.filter = filter;
    job.bias = bias;
    job.multipliers = multipliers;
    job.shifts = shifts;
    job.output = output;
    job.depth = p->filter_h * p->filter_w * p->input_c;
    mode = md_dsp_mode(md_dsp_narrow_layer(bias, shifts, p->output_c, p->per_channel, job.depth), p->act_min,
                       p->act_max);
    for (batch = 0; batch < p->batches; ++batch) {
        for (pixel = 0; pixel < pixels; pixel += 2) {
            int8_t *out_a = output + (batch * pixels + pixel) * p->output_c;
            int8_t *out_b = pixel + 1 < pixels ? out_a + p->output_c : NULL;
            if (pixels == 1) { /* the scratch holds one column */
                fill_column(&job, batch, pixel, scratch, 1, 0);
                compute_quads_single(&job, scratch, out_a);
                compute_rest(&job, scratch, 1, out_a, NULL);
                continue;
            }
            /* A lone last pixel fills both columns, its outputs written once. */
            fill_column(&job, batch, pixel, scratch, 2, 0);
            fill_column(&job, batch, out_b ? pixel + 1 : pixel, scratch, 2, 1);
            if (mode == MD_DSP_NARROW_INT8) {
                compute_quads_int8(&job, scratch, out_a, out_b);
            } else if (mode == MD_DSP_NARROW) {
                compute_quads_narrow(&job, scratch, out_a, out_b);
            } else {
                compute_quads_general(&job, scratch, out_a, out_b);
            }
            compute_rest(&job, scratch, 2, out_a, out_b);
        }
    }
    return MD_OK;
}

#endif /* MD_PATH_DSP */
