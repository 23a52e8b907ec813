/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: the pointwise (1x1, stride 1, no padding) int8 CONV_2D for cores with the
 * DSP extension, called by md_conv_s8's DSP path (md_conv_dsp.c) when the input channels are a
 * multiple of 4, and md_conv_s8_live (here), which takes a layer's pruned (all-zero) channels from
 * the list made when the code is generated.
 *
 * The contract's schedule, as the im2col path: two output pixels at a time, their input copied
 * (plus the input offset, SXTAB16) into the 2-column scratch in SMLAD pair order, then every output
 * channel of both written. A pixel's receptive field is its own input_c bytes, and two consecutive
 * pixels' are one run: the fill is a word loop with no window arithmetic. The products run 2 pixels
 * x 2 output channels at a time (each unpacked weight word feeds two SMLADs, each column word two).
 * A narrow channel (its sums below 2^30, a right shift: md_dsp_narrow_layer's test, per channel) is
 * requantized with its constants taken once per pair of pixels and one SMMLAR doing the doubling
 * high multiply and adding the rounding half of the right shift: each output then costs a doubling,
 * the SMMLAR, the sign correction, the shift, the offset, the clamp. Other channels (a dead one's
 * bias near 2^30, a left shift) take md_requantize32. A pruned channel's output is a constant: the
 * live path copies the constants into both pixels, then computes the live channels over them.
 */
#include "md_conv_int.h"

#if MD_PATH_DSP /* the ISA path this build takes: md_nn_support.h */

typedef struct {
    const int8_t *filter;
    const int32_t *bias;
    const int32_t *multipliers;
    const int32_t *shifts;
    int32_t depth;        /* input channels: a multiple of 4 */
    int32_t channels;     /* output channels */
    int32_t channel_step; /* 1: per-channel scales, 0: one for the tensor */
    int32_t offset, low, high;
    int32_t room; /* 2^30 less the largest sum of products of a column: a narrow channel's bias bound */
} pointwise_job;

/* `columns` (1, or 2: `input` and `second`) pixels' `depth` int8 values, plus the input offset, as the
 * pair-order words of md_conv_dsp.c's scratch: per group of 4 values, each column's two words. */
static void fill_columns(const int8_t *input, const int8_t *second, int32_t depth, int32_t columns,
                         int32_t input_offset, uint32_t *words)
{
    const int16x2_t offsets = (int16x2_t)(((uint32_t)input_offset & 0xFFFFu) * 0x10001u);
    const int8_t *end = input + depth;
    if (columns == 1) {
        for (; input < end; input += 4, words += 2) {
            const uint32_t a = md_read32(input);
            words[0] = (uint32_t)md_even_pair_add(offsets, a);
            words[1] = (uint32_t)md_odd_pair_add(offsets, a);
        }
        return;
    }
    for (; input < end; input += 4, second += 4, words += 4) {
        const uint32_t a = md_read32(input);
        const uint32_t b = md_read32(second);
        words[0] = (uint32_t)md_even_pair_add(offsets, a);
        words[1] = (uint32_t)md_odd_pair_add(offsets, a);
        words[2] = (uint32_t)md_even_pair_add(offsets, b);
        words[3] = (uint32_t)md_odd_pair_add(offsets, b);
    }
}

typedef struct {
    int32_t a0, a1, b0, b1; /* pixel a or b, channel 0 or 1 */
} pointwise_sums;

/* sums of the two interleaved columns in `words` with the int8 rows row_0 and row_1 (`depth` values,
 * a multiple of 4). Per 4 values: both weight words and the first column's two words as four single
 * loads (pipelined: one cycle each after the first), the weights unpacked, four SMLADs, the second
 * column's two words, four SMLADs. */
static MD_ALWAYS_INLINE pointwise_sums dot_2x2(const uint32_t *words, const int8_t *row_0, const int8_t *row_1,
                                               int32_t depth, pointwise_sums s)
{
    const int8_t *end = row_0 + depth;
#define POINTWISE_STEP(at)                                                                                  \
    "ldr %[w0], [%[row_0]], #4\n\t"                                                                      \
    "ldr %[w1], [%[row_1]], #4\n\t"                                                                      \
    "ldr %[c0], [%[words], #" #at "]\n\t"                                                                 \
    "ldr %[c1], [%[words], #" #at "+4]\n\t"                                                               \
    "sxtb16 %[e0], %[w0]\n\t"                                                                            \
    "sxtb16 %[e1], %[w1]\n\t"                                                                            \
    "sxtb16 %[w0], %[w0], ror #8\n\t"                                                                    \
    "sxtb16 %[w1], %[w1], ror #8\n\t"                                                                    \
    "smlad %[a0], %[c0], %[e0], %[a0]\n\t"                                                               \
    "smlad %[a1], %[c0], %[e1], %[a1]\n\t"                                                               \
    "smlad %[a0], %[c1], %[w0], %[a0]\n\t"                                                               \
    "smlad %[a1], %[c1], %[w1], %[a1]\n\t"                                                               \
    "ldr %[c0], [%[words], #" #at "+8]\n\t"                                                               \
    "ldr %[c1], [%[words], #" #at "+12]\n\t"                                                              \
    "smlad %[b0], %[c0], %[e0], %[b0]\n\t"                                                               \
    "smlad %[b1], %[c0], %[e1], %[b1]\n\t"                                                               \
    "smlad %[b0], %[c1], %[w0], %[b0]\n\t"                                                               \
    "smlad %[b1], %[c1], %[w1], %[b1]\n\t"
#define POINTWISE_OPERANDS                                                                                  \
    : [a0] "+r"(s.a0), [a1] "+r"(s.a1), [b0] "+r"(s.b0), [b1] "+r"(s.b1), [words] "+r"(words),              \
      [row_0] "+r"(row_0), [row_1] "+r"(row_1), [w0] "=&r"(w0), [w1] "=&r"(w1), [e0] "=&r"(e0),             \
      [e1] "=&r"(e1), [c0] "=&r"(c0), [c1] "=&r"(c1)                                                        \
    :                                                                                                       \
    : "memory"
    if (depth & 4) {
        uint32_t w0, w1, e0, e1, c0, c1;
        __asm__(POINTWISE_STEP(0) "add %[words], %[words], #16\n\t" POINTWISE_OPERANDS);
    }
    while (row_0 < end) {
        uint32_t w0, w1, e0, e1, c0, c1;
        __asm__(POINTWISE_STEP(0) POINTWISE_STEP(16) "add %[words], %[words], #32\n\t" POINTWISE_OPERANDS);
    }
#undef POINTWISE_STEP
#undef POINTWISE_OPERANDS
    return s;
}

/* sums {a0, a1} of the single column in `words` (a lone last pixel). */
static pointwise_sums dot_1x2(const uint32_t *words, const int8_t *row_0, const int8_t *row_1, int32_t depth,
                              pointwise_sums s)
{
    const int8_t *end = row_0 + depth;
    for (; row_0 < end; row_0 += 4, row_1 += 4, words += 2) {
        const uint32_t w0 = md_read32(row_0);
        const uint32_t w1 = md_read32(row_1);
        s.a0 = __smlad((int16x2_t)words[0], md_even_pair(w0), s.a0);
        s.a1 = __smlad((int16x2_t)words[0], md_even_pair(w1), s.a1);
        s.a0 = __smlad((int16x2_t)words[1], md_odd_pair(w0), s.a0);
        s.a1 = __smlad((int16x2_t)words[1], md_odd_pair(w1), s.a1);
    }
    return s;
}

static MD_ALWAYS_INLINE int32_t narrow_output(const pointwise_job *job, int32_t sum, int32_t multiplier,
                                             int32_t exponent, int32_t half)
{
    return md_clamp_i32(narrow_shift(narrow_product(sum, multiplier, half), sum, exponent) + job->offset, job->low,
                        job->high);
}

/* Output channels oc (`row`, the constants at `channel`) and oc + 1 (the next row and constants;
 * with `count` 1, the same again, written once) of pixel a (`out_a`) and pixel b (`out_b`, or NULL). */
static MD_ALWAYS_INLINE void channel_pair(const pointwise_job *job, const uint32_t *words, const int8_t *row,
                                          int32_t channel, int32_t count, int8_t *out_a, int8_t *out_b)
{
    const int32_t depth = job->depth;
    const int32_t next = channel + (count - 1) * job->channel_step;
    const int32_t m0 = job->multipliers[channel], m1 = job->multipliers[next];
    const int32_t s0 = job->shifts[channel], s1 = job->shifts[next];
    pointwise_sums sums;
    int32_t bias0 = 0, bias1 = 0;
    if (job->bias) {
        bias0 = job->bias[0];
        bias1 = job->bias[count - 1];
    }
    sums.a0 = sums.b0 = bias0;
    sums.a1 = sums.b1 = bias1;
    if (out_b) {
        sums = dot_2x2(words, row, row + (count - 1) * depth, depth, sums);
    } else {
        sums = dot_1x2(words, row, row + (count - 1) * depth, depth, sums);
    }
    if (narrow_channel(bias0, s0, job->room) && narrow_channel(bias1, s1, job->room)) {
        const int32_t e0 = -s0, e1 = -s1;
        const int32_t half0 = (int32_t)(1u << (e0 - 1)), half1 = (int32_t)(1u << (e1 - 1));
        out_a[0] = (int8_t)narrow_output(job, sums.a0, m0, e0, half0);
        if (count == 2) {
            out_a[1] = (int8_t)narrow_output(job, sums.a1, m1, e1, half1);
        }
        if (out_b) {
            out_b[0] = (int8_t)narrow_output(job, sums.b0, m0, e0, half0);
            if (count == 2) {
                out_b[1] = (int8_t)narrow_output(job, sums.b1, m1, e1, half1);
            }
        }
        return;
    }
    out_a[0] = (int8_t)md_requantize32(sums.a0, m0, s0, job->offset, job->low, job->high);
    if (count == 2) {
        out_a[1] = (int8_t)md_requantize32(sums.a1, m1, s1, job->offset, job->low, job->high);
    }
    if (out_b) {
        out_b[0] = (int8_t)md_requantize32(sums.b0, m0, s0, job->offset, job->low, job->high);
        if (count == 2) {
            out_b[1] = (int8_t)md_requantize32(sums.b1, m1, s1, job->offset, job->low, job->high);
        }
    }
}

/* Every output channel of one pixel (out_b NULL) or two, two channels at a time, then an odd last one. */
static void pointwise_pixels(const pointwise_job *job, const uint32_t *words, int8_t *out_a, int8_t *out_b)
{
    pointwise_job pair = *job;
    const int32_t depth = job->depth;
    const int8_t *row = job->filter;
    const int8_t *last = row + (job->channels - 1) * depth;
    int32_t channel = 0;
    for (; row < last; row += 2 * depth, channel += 2 * job->channel_step, out_a += 2) {
        channel_pair(&pair, words, row, channel, 2, out_a, out_b);
        pair.bias = pair.bias ? pair.bias + 2 : NULL;
        out_b = out_b ? out_b + 2 : NULL;
    }
    if (row == last) {
        channel_pair(&pair, words, row, channel, 1, out_a, out_b);
    }
}

/* The output channels of two pixels in pairs (an even count): per-channel scales and a bias, so every
 * constant pointer walks two channels a pair. `checked`: a pair with a channel that is not narrow is
 * requantized exactly (md_requantize32); else every channel is narrow. */
static MD_ALWAYS_INLINE void narrow_pairs(const pointwise_job *job, int checked, const uint32_t *words, int8_t *out_a,
                                          int8_t *out_b)
{
    const int32_t depth = job->depth;
    const int32_t offset = job->offset;
    const int8_t *row = job->filter;
    const int32_t *bias = job->bias;
    const int32_t *multipliers = job->multipliers;
    const int32_t *shifts = job->shifts;
    int8_t *const end = out_a + job->channels;
    for (; out_a < end; out_a += 2, out_b += 2, bias += 2, multipliers += 2, shifts += 2) {
        const int8_t *row_1 = row + depth;
        pointwise_sums sums;
        int32_t e0, e1, half0, half1;
        sums.a0 = sums.b0 = bias[0];
        sums.a1 = sums.b1 = bias[1];
        sums = dot_2x2(words, row, row_1, depth, sums);
        row = row_1 + depth;
        if (checked &&
            !(narrow_channel(bias[0], shifts[0], job->room) && narrow_channel(bias[1], shifts[1], job->room))) {
            out_a[0] = (int8_t)md_requantize32(sums.a0, multipliers[0], shifts[0], offset, -128, 127);
            out_a[1] = (int8_t)md_requantize32(sums.a1, multipliers[1], shifts[1], offset, -128, 127);
            out_b[0] = (int8_t)md_requantize32(sums.b0, multipliers[0], shifts[0], offset, -128, 127);
            out_b[1] = (int8_t)md_requantize32(sums.b1, multipliers[1], shifts[1], offset, -128, 127);
            continue;
        }
        e0 = -shifts[0];
        e1 = -shifts[1];
        half0 = (int32_t)(1u << (e0 - 1));
        half1 = (int32_t)(1u << (e1 - 1));
        out_a[0] = (int8_t)__ssat(narrow_shift(narrow_product(sums.a0, multipliers[0], half0), sums.a0, e0) + offset,
                                        8);
        out_a[1] = (int8_t)__ssat(narrow_shift(narrow_product(sums.a1, multipliers[1], half1), sums.a1, e1) + offset,
                                        8);
        out_b[0] = (int8_t)__ssat(narrow_shift(narrow_product(sums.b0, multipliers[0], half0), sums.b0, e0) + offset,
                                        8);
        out_b[1] = (int8_t)__ssat(narrow_shift(narrow_product(sums.b1, multipliers[1], half1), sums.b1, e1) + offset,
                                        8);
    }
}

static MD_NOINLINE void narrow_pairs_checked(const pointwise_job *job, const uint32_t *words, int8_t *out_a,
                                             int8_t *out_b)
{
    narrow_pairs(job, 1, words, out_a, out_b);
}

/* narrow_pairs of a layer whose every channel is narrow, in assembly: the C compiler keeps the
 * loop state on the stack in ways that cost more than the products of a short column. The walk is in
 * memory; each channel pair reloads what it needs around the 2 x 2 block of dot_2x2 (which takes all
 * 14 registers) and writes back the pointers it advanced. Per pair, beside the block: the two biases
 * (one LDRD) copied to both pixels' sums, the two multipliers and shifts (two LDRDs), each channel's
 * exponent and rounding half, then per output LSL, SMMLAR, ADD (sign), ASR, ADD (offset), SSAT, STRB. */
typedef struct {
    const uint32_t *words;      /* the two interleaved columns */
    const int8_t *row;          /* the next pair's first row */
    int32_t depth;              /* a multiple of 4 */
    const int32_t *bias;        /* the next pair's */
    const int32_t *multipliers; /* the next pair's */
    const int32_t *shifts;      /* the next pair's */
    int8_t *out_a;              /* the next pair's outputs of pixel a */
    int8_t *out_b;              /* of pixel b */
    int8_t *end;                /* out_a after the last pair */
    int32_t offset;             /* the output offset */
} pair_walk;

MD_STATIC_CHECK(pair_walk_layout, sizeof(void *) == 4 && sizeof(pair_walk) == 40);

#define PAIR_STEP(at)                                                                                           \
    "ldr r8, [r5], #4\n\t"                                                                                   \
    "ldr r9, [r6], #4\n\t"                                                                                   \
    "ldr r12, [r4, #" #at "]\n\t"                                                                             \
    "ldr lr, [r4, #" #at "+4]\n\t"                                                                            \
    "sxtb16 r10, r8\n\t"                                                                                     \
    "sxtb16 r11, r9\n\t"                                                                                     \
    "sxtb16 r8, r8, ror #8\n\t"                                                                              \
    "sxtb16 r9, r9, ror #8\n\t"                                                                              \
    "smlad r0, r12, r10, r0\n\t"                                                                             \
    "smlad r1, r12, r11, r1\n\t"                                                                             \
    "smlad r0, lr, r8, r0\n\t"                                                                               \
    "smlad r1, lr, r9, r1\n\t"                                                                               \
    "ldr r12, [r4, #" #at "+8]\n\t"                                                                           \
    "ldr lr, [r4, #" #at "+12]\n\t"                                                                           \
    "smlad r2, r12, r10, r2\n\t"                                                                             \
    "smlad r3, r12, r11, r3\n\t"                                                                             \
    "smlad r2, lr, r8, r2\n\t"                                                                               \
    "smlad r3, lr, r9, r3\n\t"

/* The output of `sum` with multiplier m, half h and exponent e (narrow_output, SSAT for int8's
 * whole range) stored at `out`, which advances; r12 holds the offset, r5 is scratch. */
#define PAIR_OUTPUT(sum, m, h, e, out)                                                                          \
    "lsl r5, " sum ", #1\n\t"                                                                                \
    "smmlar r5, r5, " m ", " h "\n\t"                                                                        \
    "add r5, r5, " sum ", asr #31\n\t"                                                                       \
    "asr r5, r5, " e "\n\t"                                                                                  \
    "add r5, r5, r12\n\t"                                                                                    \
    "ssat r5, #8, r5\n\t"                                                                                    \
    "strb r5, [" out "], #1\n\t"

__attribute__((naked, noinline)) static void narrow_pairs_int8(pair_walk *walk __attribute__((unused)))
{
    __asm__("push {r0, r4-r11, lr}\n\t" /* [sp]: the walk */
            "1:\n\t"
            "ldr lr, [sp]\n\t"
            "ldr r4, [lr, #0]\n\t"  /* words */
            "ldr r5, [lr, #4]\n\t"  /* row 0 */
            "ldr r7, [lr, #8]\n\t"  /* depth */
            "ldr r8, [lr, #12]\n\t" /* bias */
            "add r6, r5, r7\n\t"    /* row 1 */
            "ldrd r0, r1, [r8], #8\n\t"
            "str r8, [lr, #12]\n\t"
            "mov r2, r0\n\t"
            "mov r3, r1\n\t"
            "lsls r8, r7, #29\n\t" /* N: depth & 4, C: depth & 8 (the steps leave the flags) */
            "mov r7, r6\n\t"       /* row 0 ends where row 1 starts */
            "bpl 4f\n\t" PAIR_STEP(0) "add r4, r4, #16\n\t"
            "4:\n\t"
            "bcc 8f\n\t" PAIR_STEP(0) PAIR_STEP(16) "add r4, r4, #32\n\t"
            "8:\n\t"
            "cmp r5, r7\n\t"
            "beq 3f\n\t"
            "2:\n\t" PAIR_STEP(0) PAIR_STEP(16) PAIR_STEP(32) PAIR_STEP(48) "add r4, r4, #64\n\t"
            "cmp r5, r7\n\t"
            "bne 2b\n\t"
            "3:\n\t"
            "ldr lr, [sp]\n\t"
            "str r6, [lr, #4]\n\t" /* row 1 ended at the next pair's row 0 */
            "ldr r4, [lr, #16]\n\t"
            "ldr r5, [lr, #20]\n\t"
            "ldr r6, [lr, #24]\n\t"
            "ldr r7, [lr, #28]\n\t"
            "ldr r12, [lr, #36]\n\t"
            "ldrd r8, r9, [r4], #8\n\t"   /* multipliers */
            "ldrd r10, r11, [r5], #8\n\t" /* shifts */
            "str r4, [lr, #16]\n\t"
            "str r5, [lr, #20]\n\t"
            "mvn r4, r10\n\t" /* e0 - 1 */
            "mov r5, #1\n\t"
            "lsl r4, r5, r4\n\t" /* h0 */
            "rsb r10, r10, #0\n\t" PAIR_OUTPUT("r0", "r8", "r4", "r10", "r6") PAIR_OUTPUT("r2", "r8", "r4", "r10", "r7")
            "mvn r4, r11\n\t"
            "mov r5, #1\n\t"
            "lsl r4, r5, r4\n\t"
            "rsb r11, r11, #0\n\t" PAIR_OUTPUT("r1", "r9", "r4", "r11", "r6") PAIR_OUTPUT("r3", "r9", "r4", "r11", "r7")
            "str r6, [lr, #24]\n\t"
            "str r7, [lr, #28]\n\t"
            "ldr r4, [lr, #32]\n\t"
            "cmp r6, r4\n\t"
            "bne 1b\n\t"
            "pop {r0, r4-r11, pc}");
}

#undef PAIR_OUTPUT

/* Any layer, channel pair by channel pair, each pair's requantization chosen by whether both are narrow. */
static MD_NOINLINE void pointwise_checked(const pointwise_job *job, const int8_t *input, int32_t pixels,
                                          int32_t input_offset, int8_t *output, uint32_t *words)
{
    int32_t pixel;
    for (pixel = 0; pixel + 1 < pixels; pixel += 2) {
        const int8_t *first = input + pixel * job->depth;
        fill_columns(first, first + job->depth, job->depth, 2, input_offset, words);
        pointwise_pixels(job, words, output + pixel * job->channels, output + (pixel + 1) * job->channels);
    }
    if (pixel < pixels) {
        fill_columns(input + pixel * job->depth, NULL, job->depth, 1, input_offset, words);
        pointwise_pixels(job, words, output + pixel * job->channels, NULL);
    }
}

/* A layer with per-channel scales, a bias and int8's whole range: the pixel pairs' channel pairs by
 * narrow_pairs (checked when a channel is not narrow: `first_wide` below the pairs' count), an odd
 * last channel by channel_pair; a lone last pixel as a pair of it with itself, unless it is the only one
 * (the scratch then holds one column: md_conv_im2col_bytes). */
static void pointwise_paired(const pointwise_job *job, int32_t first_wide, const int8_t *input, int32_t pixels,
                             int32_t input_offset, int8_t *output, uint32_t *words)
{
    const int32_t channels = job->channels;
    pointwise_job pairs = *job;
    pointwise_job last = *job;
    int32_t pixel;
    pairs.channels = channels & ~1;
    last.bias = job->bias + pairs.channels;
    for (pixel = 0; pixel < pixels; pixel += 2) {
        const int lone = pixel + 1 == pixels; /* both columns that pixel, both outputs in one place */
        const int8_t *first = input + pixel * job->depth;
        int8_t *out_a = output + pixel * channels;
        int8_t *out_b = lone ? out_a : out_a + channels;
        if (pixels == 1) { /* the scratch holds one column */
            fill_columns(first, NULL, job->depth, 1, input_offset, words);
            pointwise_pixels(job, words, out_a, NULL);
            return;
        }
        fill_columns(first, lone ? first : first + job->depth, job->depth, 2, input_offset, words);
        if (first_wide < pairs.channels) {
            narrow_pairs_checked(&pairs, words, out_a, out_b);
        } else if (pairs.channels > 0) {
            pair_walk walk;
            walk.words = words;
            walk.row = job->filter;
            walk.depth = job->depth;
            walk.bias = job->bias;
            walk.multipliers = job->multipliers;
            walk.shifts = job->shifts;
            walk.out_a = out_a;
            walk.out_b = out_b;
            walk.end = out_a + pairs.channels;
            walk.offset = job->offset;
            narrow_pairs_int8(&walk);
        }
        if (channels & 1) {
            channel_pair(&last, words, job->filter + pairs.channels * job->depth, pairs.channels, 1,
                         out_a + pairs.channels, out_b + pairs.channels);
        }
    }
}

/* Layers whose filter has all-zero rows (pruned channels: most of vww_96's last layers): such a
 * channel's sum is its bias, so its output is one value for every pixel; the other (live) channels
 * are computed in pairs of any two of them. The list and the constants come from the generated
 * record (md_conv_s8_live), or are found once per call (find_live) for up to POINTWISE_MAX_CHANNELS
 * output channels (the lists are then on the stack); per-channel scales and a bias. */
#define POINTWISE_MAX_CHANNELS 256

typedef struct {
    int32_t count;           /* live channels */
    int narrow;              /* every live channel narrow */
    const uint8_t *channels; /* the live channels, in order; an odd count's last twice */
    const int8_t *outputs;   /* each pruned channel's output (any value for live ones) */
} live_channels;

typedef struct {
    uint32_t outputs[POINTWISE_MAX_CHANNELS / 4]; /* bytes, word-aligned as the record's */
    uint8_t channels[POINTWISE_MAX_CHANNELS + 1];
} live_lists;

/* Output channel `oc` from its sum: narrow or exact. */
static MD_ALWAYS_INLINE int8_t channel_output(const pointwise_job *job, int32_t oc, int32_t sum)
{
    const int32_t shift = job->shifts[oc];
    if (narrow_channel(job->bias[oc], shift, job->room)) {
        return (int8_t)narrow_output(job, sum, job->multipliers[oc], -shift, (int32_t)(1u << (-shift - 1)));
    }
    return (int8_t)md_requantize32(sum, job->multipliers[oc], shift, job->offset, job->low, job->high);
}

/* Whether a row is all zero: a dense row answers at its first word. */
static int zero_row(const int8_t *row, int32_t depth)
{
    int32_t k;
    for (k = 0; k < depth; k += 4) {
        if (md_read32(row + k) != 0) {
            return 0;
        }
    }
    return 1;
}

static void find_live(const pointwise_job *job, live_lists *lists, live_channels *live)
{
    int32_t oc;
    live->count = 0;
    live->narrow = 1;
    live->channels = lists->channels;
    live->outputs = (const int8_t *)lists->outputs;
    for (oc = 0; oc < job->channels; ++oc) {
        int8_t *const output = (int8_t *)lists->outputs + oc;
        *output = 0;
        if (zero_row(job->filter + oc * job->depth, job->depth)) {
            *output = channel_output(job, oc, job->bias[oc]);
        } else {
            lists->channels[live->count++] = (uint8_t)oc;
            live->narrow &= narrow_channel(job->bias[oc], job->shifts[oc], job->room);
        }
    }
    if (live->count & 1) {
        lists->channels[live->count] = lists->channels[live->count - 1];
    }
}

/* Both pixels' outputs of the pruned channels (out_b may be out_a), with the live channels' bytes to
 * be written after: all `channels` bytes; where every address is word-aligned and the channels a
 * multiple of 16, four words a loop, one LDM and two STMs. */
static void copy_constants(int8_t *out_a, int8_t *out_b, const int8_t *outputs, int32_t channels)
{
    int32_t c;
    if ((((uintptr_t)out_a | (uintptr_t)out_b | (uintptr_t)outputs) & 3u) == 0 && (channels & 15) == 0) {
        register uint32_t w0 __asm__("r4"), w1 __asm__("r5"), w2 __asm__("r6"), w3 __asm__("r7");
        const int8_t *const end = outputs + channels;
        while (outputs < end) {
            __asm__ volatile("ldmia %[from]!, {%[w0], %[w1], %[w2], %[w3]}\n\t"
                             "stmia %[a]!, {%[w0], %[w1], %[w2], %[w3]}\n\t"
                             "stmia %[b]!, {%[w0], %[w1], %[w2], %[w3]}"
                             : [from] "+r"(outputs), [a] "+r"(out_a), [b] "+r"(out_b), [w0] "=r"(w0), [w1] "=r"(w1),
                               [w2] "=r"(w2), [w3] "=r"(w3)
                             :
                             : "memory");
        }
        return;
    }
    for (c = 0; c < channels; ++c) {
        out_a[c] = outputs[c];
        out_b[c] = outputs[c];
    }
}

/* live_pairs of a layer whose live channels are all narrow, its clamp all of int8, in assembly as
 * narrow_pairs_int8: each pair's two channels from the list, their rows, biases and constants indexed
 * by them, both outputs of a channel stored at out_a + c and out_b + c. */
typedef struct {
    const uint32_t *words;      /* the two interleaved columns */
    const uint8_t *next;        /* the next pair's two channels */
    int32_t depth;              /* a multiple of 4 */
    const int8_t *filter;
    const int32_t *bias;
    const int32_t *multipliers;
    const int32_t *shifts;
    int8_t *out_a;              /* pixel a's outputs */
    int32_t out_b;              /* pixel b's outputs, from out_a */
    const uint8_t *end;         /* the list after its last pair */
    int32_t offset;             /* the output offset */
    int32_t pair[2];            /* the current pair's channels */
} live_walk;

MD_STATIC_CHECK(live_walk_layout, sizeof(void *) == 4 && sizeof(live_walk) == 52);

/* The output of `sum` with multiplier m, half h and exponent e stored at [address] (a register, or
 * a register plus an offset register); r12 holds the offset, lr is scratch. */
#define LIVE_OUTPUT(sum, m, h, e, address)                                                                      \
    "lsl lr, " sum ", #1\n\t"                                                                                \
    "smmlar lr, lr, " m ", " h "\n\t"                                                                        \
    "add lr, lr, " sum ", asr #31\n\t"                                                                       \
    "asr lr, lr, " e "\n\t"                                                                                  \
    "add lr, lr, r12\n\t"                                                                                    \
    "ssat lr, #8, lr\n\t"                                                                                    \
    "strb lr, [" address "]\n\t"

__attribute__((naked, noinline)) static void live_pairs_int8(live_walk *walk __attribute__((unused)))
{
    __asm__("push {r0, r4-r11, lr}\n\t" /* [sp]: the walk */
            "1:\n\t"
            "ldr lr, [sp]\n\t"
            "ldr r8, [lr, #4]\n\t"  /* next */
            "ldr r7, [lr, #8]\n\t"  /* depth */
            "ldr r5, [lr, #12]\n\t" /* filter */
            "ldrb r9, [r8], #1\n\t"
            "ldrb r10, [r8], #1\n\t"
            "str r8, [lr, #4]\n\t"
            "strd r9, r10, [lr, #44]\n\t"
            "ldr r8, [lr, #16]\n\t" /* bias */
            "ldr r4, [lr, #0]\n\t"  /* words */
            "ldr r0, [r8, r9, lsl #2]\n\t"
            "ldr r1, [r8, r10, lsl #2]\n\t"
            "mla r6, r10, r7, r5\n\t" /* row 1 */
            "mla r5, r9, r7, r5\n\t"  /* row 0 */
            "mov r2, r0\n\t"
            "mov r3, r1\n\t"
            "add.w r8, r5, r7\n\t"
            "lsls r7, r7, #29\n\t" /* N: depth & 4, C: depth & 8 (the steps leave the flags) */
            "mov r7, r8\n\t"       /* the end of row 0 */
            "bpl 4f\n\t" PAIR_STEP(0) "add r4, r4, #16\n\t"
            "4:\n\t"
            "bcc 8f\n\t" PAIR_STEP(0) PAIR_STEP(16) "add r4, r4, #32\n\t"
            "8:\n\t"
            "sub lr, r7, r5\n\t" /* the rest, 32 values a loop, after 16 where it is an odd multiple of 16 */
            "tst lr, #16\n\t"
            "beq 16f\n\t" PAIR_STEP(0) PAIR_STEP(16) PAIR_STEP(32) PAIR_STEP(48) "add r4, r4, #64\n\t"
            "16:\n\t"
            "cmp r5, r7\n\t"
            "beq 3f\n\t"
            "2:\n\t" PAIR_STEP(0) PAIR_STEP(16) PAIR_STEP(32) PAIR_STEP(48) PAIR_STEP(64) PAIR_STEP(80)
                PAIR_STEP(96) PAIR_STEP(112) "add r4, r4, #128\n\t"
            "cmp r5, r7\n\t"
            "bne 2b\n\t"
            "3:\n\t"
            "ldr lr, [sp]\n\t"
            "ldrd r9, r10, [lr, #44]\n\t" /* c0, c1 */
            "ldr r4, [lr, #20]\n\t"       /* multipliers */
            "ldr r5, [lr, #24]\n\t"       /* shifts */
            "ldr r6, [lr, #28]\n\t"       /* out_a */
            "ldr r7, [lr, #32]\n\t"       /* out_b - out_a */
            "ldr r12, [lr, #40]\n\t"      /* offset */
            "ldr r8, [r4, r9, lsl #2]\n\t"  /* m0 */
            "ldr r11, [r5, r9, lsl #2]\n\t" /* s0 */
            "ldr r4, [r4, r10, lsl #2]\n\t" /* m1 */
            "ldr r5, [r5, r10, lsl #2]\n\t" /* s1 */
            "add r9, r6, r9\n\t"            /* out_a + c0 */
            "add r10, r6, r10\n\t"          /* out_a + c1 */
            "mvn r6, r11\n\t"               /* e0 - 1 */
            "mov lr, #1\n\t"
            "lsl r6, lr, r6\n\t" /* h0 */
            "rsb r11, r11, #0\n\t" /* pixel a at out_a + c0, pixel b r7 further */
            LIVE_OUTPUT("r0", "r8", "r6", "r11", "r9") LIVE_OUTPUT("r2", "r8", "r6", "r11", "r9, r7")
            "mvn r6, r5\n\t"
            "mov lr, #1\n\t"
            "lsl r6, lr, r6\n\t"
            "rsb r5, r5, #0\n\t"
            LIVE_OUTPUT("r1", "r4", "r6", "r5", "r10") LIVE_OUTPUT("r3", "r4", "r6", "r5", "r10, r7")
            "ldr lr, [sp]\n\t"
            "ldr r8, [lr, #4]\n\t"
            "ldr r9, [lr, #36]\n\t"
            "cmp r8, r9\n\t"
            "bne 1b\n\t"
            "pop {r0, r4-r11, pc}");
}

#undef PAIR_STEP
#undef LIVE_OUTPUT

/* Both pixels' outputs: the zero channels' values, then the live channels two at a time (an odd
 * last one with its row twice). */
static MD_NOINLINE void live_pairs(const pointwise_job *job, const live_channels *live, const uint32_t *words,
                                   int8_t *out_a, int8_t *out_b)
{
    int32_t i;
    copy_constants(out_a, out_b, live->outputs, job->channels);
    for (i = 0; i < live->count; i += 2) {
        const int32_t c0 = live->channels[i];
        const int32_t c1 = live->channels[i + 1 < live->count ? i + 1 : i];
        pointwise_sums sums;
        sums.a0 = sums.b0 = job->bias[c0];
        sums.a1 = sums.b1 = job->bias[c1];
        sums = dot_2x2(words, job->filter + c0 * job->depth, job->filter + c1 * job->depth, job->depth, sums);
        out_a[c0] = channel_output(job, c0, sums.a0);
        out_b[c0] = channel_output(job, c0, sums.b0);
        out_a[c1] = channel_output(job, c1, sums.a1);
        out_b[c1] = channel_output(job, c1, sums.b1);
    }
}

static void pointwise_live(const pointwise_job *job, const live_channels *live, const int8_t *input, int32_t pixels,
                           int32_t input_offset, int8_t *output, uint32_t *words)
{
    const int fast = live->narrow && job->low == -128 && job->high == 127;
    int32_t pixel;
    for (pixel = 0; pixel < pixels; pixel += 2) {
        const int lone = pixel + 1 == pixels; /* both columns that pixel, both outputs in one place */
        const int8_t *first = input + pixel * job->depth;
        int8_t *out_a = output + pixel * job->channels;
        int8_t *out_b = lone ? out_a : out_a + job->channels;
        if (pixels == 1) { /* the scratch holds one column */
            fill_columns(first, NULL, job->depth, 1, input_offset, words);
            pointwise_pixels(job, words, out_a, NULL);
            return;
        }
        fill_columns(first, lone ? first : first + job->depth, job->depth, 2, input_offset, words);
        if (fast && live->count > 0) {
            live_walk walk;
            copy_constants(out_a, out_b, live->outputs, job->channels);
            walk.words = words;
            walk.next = live->channels;
            walk.depth = job->depth;
            walk.filter = job->filter;
            walk.bias = job->bias;
            walk.multipliers = job->multipliers;
            walk.shifts = job->shifts;
            walk.out_a = out_a;
            walk.out_b = (int32_t)(out_b - out_a);
            walk.end = live->channels + ((live->count + 1) & ~1);
            walk.offset = job->offset;
            live_pairs_int8(&walk);
        } else {
            live_pairs(job, live, words, out_a, out_b);
        }
    }
}

static pointwise_job pointwise_job_of(const md_window_params *p, const int8_t *filter, const int32_t *bias,
                                     const int32_t *multipliers, const int32_t *shifts)
{
    pointwise_job job;
    job.filter = filter;
    job.bias = bias;
    job.multipliers = multipliers;
    job.shifts = shifts;
    job.depth = p->input_c;
    job.channels = p->output_c;
    job.channel_step = p->per_channel ? 1 : 0;
    job.offset = p->output_offset;
    job.low = p->act_min;
    job.high = p->act_max;
    job.room = (int32_t)md_max_i32((1 << 30) - md_min_i32(p->input_c, (1 << 30) / MD_DSP_PRODUCT_BOUND) *
                                                   MD_DSP_PRODUCT_BOUND, 0);
    return job;
}

void md_conv_1x1_s8_dsp(const md_window_params *p, const int8_t *input, const int8_t *filter, const int32_t *bias,
                        const int32_t *multipliers, const int32_t *shifts, int8_t *output, int16_t *scratch)
{
    const int32_t pixels = p->batches * p->output_h * p->output_w;
    const int full_range = p->act_min == -128 && p->act_max == 127;
    const pointwise_job job = pointwise_job_of(p, filter, bias, multipliers, shifts);
    if (p->per_channel && bias != NULL && p->output_c <= POINTWISE_MAX_CHANNELS) {
        live_lists lists;
        live_channels live;
        find_live(&job, &lists, &live);
        if (4 * live.count <= 3 * p->output_c) { /* a quarter of the channels or more zero: it pays */
            pointwise_live(&job, &live, input, pixels, p->input_offset, output, (uint32_t *)scratch);
            return;
        }
    }
    if (full_range && p->per_channel && bias != NULL) {
        int32_t first_wide = 0;
        while (first_wide < p->output_c && narrow_channel(bias[first_wide], shifts[first_wide], job.room)) {
            ++first_wide;
        }
        pointwise_paired(&job, first_wide, input, pixels, p->input_offset, output, (uint32_t *)scratch);
    } else {
        pointwise_checked(&job, input, pixels, p->input_offset, output, (uint32_t *)scratch);
    }
}

/* The record's live list (md_nn.h) taken as found, every live channel narrow. */
md_status md_conv_s8_live(const md_window_params *p, const int8_t *input, const int8_t *filter, const int32_t *bias,
                          const int32_t *multipliers, const int32_t *shifts, const int32_t *live, int8_t *output,
                          int16_t *scratch)
{
    live_channels list;
    pointwise_job job;
    if (live == NULL || scratch == NULL || bias == NULL || !p->per_channel || p->output_c > POINTWISE_MAX_CHANNELS ||
        !md_conv_1x1_fits(p)) {
        return md_conv_s8(p, input, filter, bias, multipliers, shifts, output, scratch);
    }
    job = pointwise_job_of(p, filter, bias, multipliers, shifts);
    list.count = live[0];
    list.narrow = 1;
    list.channels = (const uint8_t *)(live + 1);
    list.outputs = (const int8_t *)(live + 1 + md_conv_live_list_words(list.count));
    pointwise_live(&job, &list, input, p->batches * p->output_h * p->output_w, p->input_offset, output,
                   (uint32_t *)scratch);
    return MD_OK;
}

#endif /* MD_PATH_DSP */
