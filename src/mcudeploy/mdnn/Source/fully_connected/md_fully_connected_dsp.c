/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: FULLY_CONNECTED for cores with the DSP extension (see
 * md_nn.h, md_nn_support.h).
 *
 * int8 with a symmetric filter (filter offset 0): the input unpacked to int16 pairs once (SXTAB16
 * adding the input offset, MD_FC_SPAN values at a time on the stack), then four outputs at a time
 * (the last three, two or one by a three-row kernel) multiplied with every weight row by SMLAD;
 * the sums requantized MD_FC_CHUNK at a time.
 * Other cases run the portable kernel.
 */
#include "md_fully_connected_int.h"

#if MD_PATH_DSP /* the ISA path this build takes: md_nn_support.h */

MD_PATH_SYMBOL(md_path_fully_connected_dsp);

/* One group of 4 input values, held as the int16 pairs {x0, x2} and {x1, x3} with the input offset
 * added (r5, r6), against rows 0 to 3 (registers: r1 the pairs, r2 row 0, r4 row 2, r3 the row
 * step; sums r0, r10, r11, r12). Four words loaded back to back, then two (a load after a load
 * takes one cycle on the Cortex-M4 and M33); rows 1 and 3 are read at +step before rows 0 and 2
 * move on. */
#define MD_FC_ROW(word, sum)                                                                                        \
    "sxtb16 r9, " word "\n\t"                                                                                       \
    "smlad " sum ", r5, r9, " sum "\n\t"                                                                            \
    "sxtb16 " word ", " word ", ror #8\n\t"                                                                         \
    "smlad " sum ", r6, " word ", " sum "\n\t"
#define MD_FC_GROUP                                                                                                 \
    "ldr r7, [r2, r3]\n\t"                                                                                          \
    "ldr r8, [r4, r3]\n\t"                                                                                          \
    "ldr r6, [r1, #4]\n\t"                                                                                          \
    "ldr r5, [r1], #8\n\t" MD_FC_ROW("r7", "r10") MD_FC_ROW("r8", "r12") "ldr r7, [r2], #4\n\t"                    \
    "ldr r8, [r4], #4\n\t" MD_FC_ROW("r7", "r0") MD_FC_ROW("r8", "r11")

/* One pass of a 4-row kernel (dot_blocks, dot_blocks_w16) over `blocks` blocks of 4 outputs and
 * `length` input values; the call moves sums, rows and initial on block by block and counts blocks
 * down to 0. Offsets fixed: the assembly reads the fields by them. */
typedef struct {
    int32_t *sums;          /* 0: 4 sums a block written */
    const uint32_t *pairs;  /* 4: the input, unpacked */
    const void *rows;       /* 8: the first block's row 0 at the pass's first value */
    int32_t length;         /* 12: values, a multiple of 4 */
    int32_t step;           /* 16: bytes from a row to the next (4 rows: a block) */
    const int32_t *initial; /* 20: the first block's 4 initial sums */
    int32_t initial_step;   /* 24: bytes from a block's initial sums to the next: 16, or 0 (zeros) */
    int32_t blocks;         /* 28: at least 1 */
} fc_pass;
MD_STATIC_CHECK(fc_pass_blocks, sizeof(fc_pass) == 32 || sizeof(void *) != 4);

/* After a block (sums r0, r10, r11, r12; the pass at [sp]): its sums stored, the pass moved on,
 * back to the block loop at 4: with the pass in r6 while blocks remain. */
#define MD_FC_NEXT_BLOCK                                                                                            \
    "ldr r6, [sp]\n\t"                                                                                              \
    "ldr r7, [r6]\n\t"                                                                                              \
    "stm r7!, {r0, r10, r11, r12}\n\t"                                                                              \
    "ldrd r8, r9, [r6, #20]\n\t"                                                                                    \
    "add r8, r8, r9\n\t"                                                                                            \
    "ldr r9, [r6, #8]\n\t"                                                                                          \
    "ldr r3, [r6, #16]\n\t"                                                                                         \
    "ldr r5, [r6, #28]\n\t"                                                                                         \
    "add r9, r9, r3, lsl #2\n\t"                                                                                    \
    "subs r5, r5, #1\n\t"                                                                                           \
    "str r7, [r6]\n\t"                                                                                              \
    "str r9, [r6, #8]\n\t"                                                                                          \
    "str r8, [r6, #20]\n\t"                                                                                         \
    "str r5, [r6, #28]\n\t"                                                                                         \
    "bne 4b\n\t"                                                                                                    \
    "pop {r0, r4-r11, pc}"

/* Per block of the pass (rows `step` apart; `pairs`: expand_inputs): sums[r] = initial[r] +
 * pairs . row r for r < 4. Every register is needed in the loop (13 values and its end), so the
 * whole function is assembly: 24 instructions per 16 MACs and the loop's compare and branch
 * per four groups (the loop written out four times, entered where the group count leaves the
 * rest a multiple of 4; a count of whole fours, the usual case, tested first). */
#define MD_ASM_ARG __attribute__((unused)) /* read by the assembly, in its AAPCS place */
__attribute__((naked, noinline)) static void dot_blocks(MD_ASM_ARG fc_pass *pass)
{
    __asm__("push {r0, r4-r11, lr}\n\t"
            "mov r6, r0\n" /* the pass, in r6 at every block (MD_FC_NEXT_BLOCK leaves it there) */
            "4:\n\t"
            "ldrd r1, r2, [r6, #4]\n\t"
            "ldrd r5, r3, [r6, #12]\n\t"
            "ldr r7, [r6, #20]\n\t"
            "add lr, r1, r5, lsl #1\n\t"
            "ldm r7, {r0, r10, r11, r12}\n\t"
            "add r4, r2, r3, lsl #1\n\t"
            "ands r6, r5, #12\n\t" /* 4 x (groups % 4): past 0, enter the loop at copy 4 - groups % 4 (8:) */
            "bne 8f\n\t"
            "cmp r1, lr\n\t"
            "beq 3f\n"
            "1:\n\t" MD_FC_GROUP "5:\n\t" MD_FC_GROUP "6:\n\t" MD_FC_GROUP "7:\n\t" MD_FC_GROUP "cmp r1, lr\n\t"
            "bne 1b\n"
            "3:\n\t" MD_FC_NEXT_BLOCK "\n"
            "8:\n\t"
            "cmp r6, #8\n\t"
            "beq 6b\n\t"
            "bhi 5b\n\t"
            "b 7b");
}

/* One group of 4 input values (the int16 pairs {x0, x1}, {x2, x3} with the offset added: r4, r5)
 * against the 4 rows of an int16 block (md_nn.h: two words of each row in turn, r2 walking them;
 * row 0's in r6, r7 on entry), sums r0, r10, r11, r12. Each LDR follows an SMLAD that does not
 * read what it loads, and no loaded word is read by the next instruction: a Cortex-M7 issues each
 * pair together (it issues no LDRD beside another instruction). `next` loads the next group's row
 * 0 into r6, r7. */
#define MD_FC_W16_GROUP(next_0, next_1)                                                                             \
    "smlad r0, r4, r6, r0\n\t"                                                                                      \
    "ldr r8, [r2], #4\n\t"                                                                                          \
    "smlad r0, r5, r7, r0\n\t"                                                                                      \
    "ldr r9, [r2], #4\n\t"                                                                                          \
    "smlad r10, r4, r8, r10\n\t"                                                                                    \
    "ldr r6, [r2], #4\n\t"                                                                                          \
    "smlad r10, r5, r9, r10\n\t"                                                                                    \
    "ldr r7, [r2], #4\n\t"                                                                                          \
    "smlad r11, r4, r6, r11\n\t"                                                                                    \
    "ldr r8, [r2], #4\n\t"                                                                                          \
    "smlad r11, r5, r7, r11\n\t"                                                                                    \
    "ldr r9, [r2], #4\n\t"                                                                                          \
    "smlad r12, r4, r8, r12\n\t" next_0 "smlad r12, r5, r9, r12\n\t" next_1
#define MD_FC_W16_NEXT_0 "ldr r6, [r2], #4\n\t"
#define MD_FC_W16_NEXT_1 "ldr r7, [r2], #4\n\t"

/* Per block of the pass (an int16 block of 4 rows, md_nn.h; `pairs`: expand_inputs_w16): sums[r] =
 * initial[r] + pairs . row r for r < 4. 8 SMLADs and 10 LDRs per 16 MACs, the loop's compare and
 * branch each issued beside the load of an input pair (no instruction reading a register the load
 * before it wrote, its base included); the last group after the loop, without the loads of a next
 * one (nothing read past the block). */
__attribute__((naked, noinline)) static void dot_blocks_w16(MD_ASM_ARG fc_pass *pass)
{
    __asm__("push {r0, r4-r11, lr}\n\t"
            "mov r6, r0\n" /* the pass, in r6 at every block (MD_FC_NEXT_BLOCK leaves it there) */
            "4:\n\t"
            "ldrd r1, r2, [r6, #4]\n\t"
            "ldr r3, [r6, #12]\n\t"
            "ldr r7, [r6, #20]\n\t"
            "ldm r7, {r0, r10, r11, r12}\n\t"
            "cmp r3, #0\n\t"
            "beq 3f\n\t"
            "add r3, r2, r3, lsl #3\n\t"
            "sub r3, r3, #24\n\t" /* r2 there: the last group's row 1 */
            "ldr r5, [r1, #4]\n\t"
            "ldr r4, [r1], #8\n\t"
            "ldr r6, [r2], #4\n\t"
            "ldr r7, [r2], #4\n\t"
            "cmp r2, r3\n\t"
            "beq 2f\n"
            "1:\n\t" MD_FC_W16_GROUP(MD_FC_W16_NEXT_0, MD_FC_W16_NEXT_1) "ldr r5, [r1, #4]\n\t"
            "cmp r2, r3\n\t"
            "ldr r4, [r1], #8\n\t"
            "bne 1b\n"
            "2:\n\t" MD_FC_W16_GROUP("", "") "3:\n\t" MD_FC_NEXT_BLOCK);
}

/* sums[r] += (input + offset) . row r for the rows row_0, row_1, row_2 (fewer outputs repeat a
 * row), over `depth` values. GCC 12 spills this loop; written out it is 20 instructions for 12
 * MACs, all pointers post-incremented and each weight word unpacked in place. */
static MD_NOINLINE void dot_3rows(const int8_t *input, int32_t depth, uint32_t offsets, const int8_t *row_0,
                                  const int8_t *row_1, const int8_t *row_2, int32_t *sums)
{
    const int8_t *end = input + (depth & ~3);
    const int32_t offset = (int16_t)offsets;
    int32_t s0 = sums[0], s1 = sums[1], s2 = sums[2];
    while (input < end) {
        uint32_t word, even, odd, low;
        __asm__("ldr %[word], [%[input]], #4\n\t"
                "sxtab16 %[even], %[offsets], %[word]\n\t"
                "sxtab16 %[odd], %[offsets], %[word], ror #8\n\t"
                "ldr %[word], [%[row_0]], #4\n\t"
                "sxtb16 %[low], %[word]\n\t"
                "sxtb16 %[word], %[word], ror #8\n\t"
                "smlad %[s0], %[even], %[low], %[s0]\n\t"
                "smlad %[s0], %[odd], %[word], %[s0]\n\t"
                "ldr %[word], [%[row_1]], #4\n\t"
                "sxtb16 %[low], %[word]\n\t"
                "sxtb16 %[word], %[word], ror #8\n\t"
                "smlad %[s1], %[even], %[low], %[s1]\n\t"
                "smlad %[s1], %[odd], %[word], %[s1]\n\t"
                "ldr %[word], [%[row_2]], #4\n\t"
                "sxtb16 %[low], %[word]\n\t"
                "sxtb16 %[word], %[word], ror #8\n\t"
                "smlad %[s2], %[even], %[low], %[s2]\n\t"
                "smlad %[s2], %[odd], %[word], %[s2]"
                : [s0] "+r"(s0), [s1] "+r"(s1), [s2] "+r"(s2), [input] "+r"(input), [row_0] "+r"(row_0),
                  [row_1] "+r"(row_1), [row_2] "+r"(row_2), [word] "=&r"(word), [even] "=&r"(even), [odd] "=&r"(odd),
                  [low] "=&r"(low)
                : [offsets] "r"(offsets)
                : "memory");
    }
    for (end = input + (depth & 3); input < end; ++input, ++row_0, ++row_1, ++row_2) {
        s0 = md_wrap_add(s0, (*input + offset) * *row_0);
        s1 = md_wrap_add(s1, (*input + offset) * *row_1);
        s2 = md_wrap_add(s2, (*input + offset) * *row_2);
    }
    sums[0] = s0;
    sums[1] = s1;
    sums[2] = s2;
}

#define MD_FC_CHUNK 64 /* outputs requantized together */
#define MD_FC_SPAN 192 /* input values unpacked together (a multiple of 4) */

/* One layer's parameters, in locals: int8 stores could alias *p. */
typedef struct {
    const int8_t *filter;
    const int32_t *bias;        /* or NULL */
    const int32_t *multipliers; /* one per output channel, or one for all */
    const int32_t *shifts;
    int32_t per_channel, depth, outputs, input_offset, output_offset, low, high;
    uint32_t offsets; /* the input offset in both halfwords */
} fc_layer;

/* An output of one scale below one whose clamp is all of int8's range. */
static inline int8_t unclamped_output(int32_t sum, int32_t scale, int32_t right, int32_t offset)
{
    return (int8_t)__ssat(md_wrap_add(md_rdbpot_fast(md_srdhm_fast(sum, scale), right), offset), 8);
}

/* out[first + r] for r < count from sums[r]; one scale below one (the usual case) has its own
 * loops, with and without a clamp inside int8's range. Not inlined: the caller's loop keeps its
 * registers. */
static MD_NOINLINE void requantize_outputs(const fc_layer *layer, const int32_t *sums, int32_t first,
                                               int32_t count, int8_t *out)
{
    const int32_t offset = layer->output_offset, low = layer->low, high = layer->high;
    const int32_t *end = sums + count;
    const int32_t step = layer->per_channel;
    const int32_t *multiplier = layer->multipliers + first * step;
    const int32_t *shift = layer->shifts + first * step;
    out += first;
    if (!step && *shift < 0 && low == INT8_MIN && high == INT8_MAX) { /* the clamp: one SSAT */
        const int32_t scale = *multiplier, right = -*shift;
        for (; sums + 2 <= end; sums += 2, out += 2) { /* two a pass: half the loop's branches */
            out[0] = unclamped_output(sums[0], scale, right, offset);
            out[1] = unclamped_output(sums[1], scale, right, offset);
        }
        if (sums < end) {
            *out = unclamped_output(*sums, scale, right, offset);
        }
        return;
    }
    if (!step && *shift < 0) {
        const int32_t scale = *multiplier, right = -*shift;
        while (sums < end) {
            const int32_t scaled = md_rdbpot_fast(md_srdhm_fast(*sums++, scale), right);
            *out++ = (int8_t)md_clamp_i32(md_wrap_add(scaled, offset), low, high);
        }
        return;
    }
    while (sums < end) {
        *out++ = (int8_t)md_requantize32(*sums++, *multiplier, *shift, offset, low, high);
        multiplier += step;
        shift += step;
    }
}

/* sums[r] += the products of the last depth & 3 values for r < rows (rows `depth` apart). */
static void dot_tail(const int8_t *input, int32_t depth, int32_t offset, const int8_t *row_0, int32_t rows,
                     int32_t *sums)
{
    int32_t r;
    int32_t k;
    for (r = 0; r < rows; ++r) {
        for (k = depth & ~3; k < depth; ++k) {
            sums[r] = md_wrap_add(sums[r], (input[k] + offset) * row_0[r * depth + k]);
        }
    }
}

static inline int32_t bias_of(const fc_layer *layer, int32_t channel)
{
    return layer->bias ? layer->bias[channel] : 0;
}

/* The last 3, 2 or 1 outputs of one input row, from output `first` on: three rows, the last one
 * repeated when fewer remain (its repeats computed, not written). */
static void last_outputs(const fc_layer *layer, const int8_t *row, int32_t first, int8_t *out)
{
    const int32_t depth = layer->depth;
    const int32_t last = layer->outputs - 1;
    const int32_t second = md_min_i32(first + 1, last);
    int32_t sums[3] = {bias_of(layer, first), bias_of(layer, second), bias_of(layer, last)};
    dot_3rows(row, depth, layer->offsets, layer->filter + first * depth, layer->filter + second * depth,
              layer->filter + last * depth, sums);
    requantize_outputs(layer, sums, first, layer->outputs - first, out);
}

/* A pass's first initial sums and their step: over the first values (`start` 0) the bias from
 * output `first` on, or zeros without one; over later ones the sums so far. */
static void set_initial(fc_pass *pass, const fc_layer *layer, int32_t first, int32_t start)
{
    static const int32_t zeros[4] = {0, 0, 0, 0};
    pass->initial = start ? pass->sums : (layer->bias ? layer->bias + first : zeros);
    pass->initial_step = pass->initial == zeros ? 0 : 16;
}

/* pairs[2i], pairs[2i + 1] = the halfword pairs {x0, x2} and {x1, x3} of input values 4i to 4i + 3,
 * the offset (in both halfwords of `offsets`) added: unpacked once, read by every row. */
static void expand_inputs(const int8_t *input, int32_t count, uint32_t offsets, uint32_t *pairs)
{
    const int8_t *end = input + count;
    for (; input < end; input += 4, pairs += 2) {
        const uint32_t word = md_read32(input);
        pairs[0] = (uint32_t)md_even_pair_add((int16x2_t)offsets, word);
        pairs[1] = (uint32_t)md_odd_pair_add((int16x2_t)offsets, word);
    }
}

/* Every output of one input row: four at a time, requantized MD_FC_CHUNK at a time, then the
 * last 3, 2 or 1. The input is unpacked MD_FC_SPAN values at a time: once for the row when it
 * fits, else again for every chunk of outputs. */
static void fully_connected_row_s8(const fc_layer *layer, const int8_t *row, int8_t *out)
{
    uint32_t pairs[MD_FC_SPAN / 2];
    const int32_t depth = layer->depth;
    const int32_t whole = depth & ~3;
    const int32_t one_span = whole <= MD_FC_SPAN;
    const int32_t groups = layer->outputs & ~3;
    const int8_t *rows = layer->filter;
    int32_t sums[MD_FC_CHUNK];
    int32_t o;
    int32_t g;
    int32_t s;
    if (one_span && groups) {
        expand_inputs(row, whole, layer->offsets, pairs);
    }
    for (o = 0; o < groups; o += MD_FC_CHUNK, rows += MD_FC_CHUNK * depth) {
        const int32_t count = md_min_i32(MD_FC_CHUNK, groups - o);
        for (s = 0; s == 0 || s < whole; s += MD_FC_SPAN) {
            const int32_t length = md_min_i32(MD_FC_SPAN, whole - s);
            if (!one_span) {
                expand_inputs(row + s, length, layer->offsets, pairs);
            }
            fc_pass pass = {sums, pairs, rows + s, length, depth, NULL, 0, count / 4};
            set_initial(&pass, layer, o, s);
            dot_blocks(&pass);
        }
        if (depth & 3) {
            for (g = 0; g < count; g += 4) {
                dot_tail(row, depth, layer->input_offset, rows + g * depth, 4, sums + g);
            }
        }
        requantize_outputs(layer, sums, o, count, out);
    }
    if (groups < layer->outputs) {
        last_outputs(layer, row, groups, out);
    }
}

static fc_layer fc_layer_of(const md_fully_connected_params *p, const int8_t *filter, const int32_t *bias,
                            const int32_t *multipliers, const int32_t *shifts)
{
    const fc_layer layer = {filter,
                            bias,
                            multipliers,
                            shifts,
                            p->per_channel,
                            p->accum_depth,
                            p->output_depth,
                            p->input_offset,
                            p->output_offset,
                            p->act_min,
                            p->act_max,
                            ((uint32_t)p->input_offset & 0xFFFFu) * 0x10001u};
    return layer;
}

static void fully_connected_s8_dsp(const md_fully_connected_params *p, const int8_t *input, const int8_t *filter,
                                   const int32_t *bias, const int32_t *multipliers, const int32_t *shifts,
                                   int8_t *output)
{
    const fc_layer layer = fc_layer_of(p, filter, bias, multipliers, shifts);
    int32_t b;
    for (b = 0; b < p->batches; ++b) {
        fully_connected_row_s8(&layer, input + b * layer.depth, output + b * layer.outputs);
    }
}

/* pairs[2i], pairs[2i + 1] = the halfword pairs {x0, x1} and {x2, x3} of input values 4i to 4i + 3,
 * the offset added: the order of the int16 filter's words. */
static void expand_inputs_w16(const int8_t *input, int32_t count, uint32_t offsets, uint32_t *pairs)
{
    const int8_t *end = input + count;
    for (; input < end; input += 4, pairs += 2) {
        const uint32_t word = md_read32(input);
        const uint32_t even = (uint32_t)md_even_pair_add((int16x2_t)offsets, word);
        const uint32_t odd = (uint32_t)md_odd_pair_add((int16x2_t)offsets, word);
        pairs[0] = (even & 0xFFFFu) | (odd << 16);
        pairs[1] = (odd & 0xFFFF0000u) | (even >> 16);
    }
}

/* sum + (input + offset) . weights over `count` values of int16 weights. */
static int32_t dot_w16(const int8_t *input, int32_t count, int32_t offset, const int16_t *weights, int32_t sum)
{
    int32_t k;
    for (k = 0; k < count; ++k) {
        sum = md_wrap_add(sum, (input[k] + offset) * weights[k]);
    }
    return sum;
}

/* Every output of one input row from the int16 filter (md_nn.h): as fully_connected_row_s8, each
 * block of 4 rows by dot_4rows_w16, then its last depth % 4 values; the rows after the last
 * block one by one. */
static void fully_connected_row_w16(const fc_layer *layer, const int16_t *filter, const int8_t *row, int8_t *out)
{
    uint32_t pairs[MD_FC_SPAN / 2];
    const int32_t depth = layer->depth;
    const int32_t whole = depth & ~3;
    const int32_t tail = depth - whole;
    const int32_t one_span = whole <= MD_FC_SPAN;
    const int32_t groups = layer->outputs & ~3;
    int32_t sums[MD_FC_CHUNK];
    int32_t o;
    int32_t g;
    int32_t s;
    int32_t r;
    if (one_span && groups) {
        expand_inputs_w16(row, whole, layer->offsets, pairs);
    }
    for (o = 0; o < groups; o += MD_FC_CHUNK) {
        const int32_t count = md_min_i32(MD_FC_CHUNK, groups - o);
        for (s = 0; s == 0 || s < whole; s += MD_FC_SPAN) {
            const int32_t length = md_min_i32(MD_FC_SPAN, whole - s);
            if (!one_span) {
                expand_inputs_w16(row + s, length, layer->offsets, pairs);
            }
            fc_pass pass = {sums, pairs, filter + o * depth + 4 * s, length, 2 * depth, NULL, 0, count / 4};
            set_initial(&pass, layer, o, s);
            dot_blocks_w16(&pass);
        }
        for (g = 0; tail && g < count; g += 4) {
            const int16_t *last = filter + (o + g) * depth + 4 * whole;
            for (r = 0; r < 4; ++r) {
                sums[g + r] = dot_w16(row + whole, tail, layer->input_offset, last + r * tail, sums[g + r]);
            }
        }
        requantize_outputs(layer, sums, o, count, out);
    }
    for (o = groups; o < layer->outputs; ++o) {
        sums[0] = dot_w16(row, depth, layer->input_offset, filter + o * depth, bias_of(layer, o));
        requantize_outputs(layer, sums, o, 1, out);
    }
}

md_status md_fully_connected_s8(const md_fully_connected_params *p, const int8_t *input, const int8_t *filter,
                                const int32_t *bias, const int32_t *multipliers, const int32_t *shifts, int8_t *output)
{
    if (p->filter_offset != 0 || p->accumulator64) {
        md_fully_connected_portable(p, input, MD_INT8, filter, bias, multipliers, shifts, output);
        return MD_OK;
    }
    fully_connected_s8_dsp(p, input, filter, bias, multipliers, shifts, output);
    return MD_OK;
}

md_status md_fully_connected_s8_w16(const md_fully_connected_params *p, const int8_t *input, const int16_t *filter,
                                    const int32_t *bias, const int32_t *multipliers, const int32_t *shifts,
                                    int8_t *output)
{
    const fc_layer layer = fc_layer_of(p, NULL, bias, multipliers, shifts);
    int32_t b;
    if (p->filter_offset != 0 || p->accumulator64) {
        return MD_ERROR_RANGE; /* code generation gives this variant symmetric int8 layers only */
    }
    for (b = 0; b < p->batches; ++b) {
        fully_connected_row_w16(&layer, filter, input + b * layer.depth, output + b * layer.outputs);
    }
    return MD_OK;
}

md_status md_fully_connected_s16(const md_fully_connected_params *p, const int16_t *input, const int8_t *filter,
                                 const void *bias, const int32_t *multipliers, const int32_t *shifts, int16_t *output)
{
    md_fully_connected_portable(p, input, MD_INT16, filter, bias, multipliers, shifts, output);
    return MD_OK;
}

#endif /* MD_PATH_DSP */
