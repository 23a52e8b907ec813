/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: FULLY_CONNECTED for cores with the DSP extension (see
 * md_nn.h, md_nn_support.h).
 *
 * int8 with a symmetric filter (filter offset 0): four outputs at a time (the last three, two or
 * one by a three-row kernel), each 4 input values unpacked to pairs once (SXTAB16 adding the
 * input offset) and multiplied with every weight row by SMLAD; the sums requantized 16 at a time.
 * Other cases run the portable kernel.
 */
#include "md_fully_connected_int.h"

#if MD_PATH_DSP /* the ISA path this build takes: md_nn_support.h */

MD_PATH_SYMBOL(md_path_fully_connected_dsp);

/* One group of 4 input values against rows 0 to 3 (registers: r1 input, r2 row 0, r4 row 2, r3 the
 * row step, r5 the offsets; sums r0, r10, r11, r12). The rows after 0 and 2 are read at +step
 * before those two pointers move on. */
#define MD_FC_ROW(load, sum)                                                                                        \
    load "\n\t"                                                                                                     \
         "sxtb16 r9, r8\n\t"                                                                                        \
         "sxtb16 r8, r8, ror #8\n\t"                                                                                \
         "smlad " sum ", r6, r9, " sum "\n\t"                                                                       \
         "smlad " sum ", r7, r8, " sum "\n\t"
#define MD_FC_GROUP                                                                                                 \
    "ldr r8, [r1], #4\n\t"                                                                                          \
    "sxtab16 r6, r5, r8\n\t"                                                                                        \
    "sxtab16 r7, r5, r8, ror #8\n\t" MD_FC_ROW("ldr r8, [r2, r3]", "r10") MD_FC_ROW("ldr r8, [r4, r3]", "r12")     \
        MD_FC_ROW("ldr r8, [r2], #4", "r0") MD_FC_ROW("ldr r8, [r4], #4", "r11")

/* sums[r] = initial[r] + (input + offset) . row r for r < 4 (rows `depth` apart) over the first
 * depth & ~3 values, offset in both halves of `offsets`. Every register is needed (13 values and
 * the loop end), so the whole function is assembly: 24 instructions per 16 MACs, the loop written
 * out twice (an odd group count enters it halfway). `initial`: the bias from output 0 on, or zeros. */
#define MD_ASM_ARG __attribute__((unused)) /* read by the assembly, in its AAPCS place */
__attribute__((naked, noinline)) static void dot_4rows(MD_ASM_ARG int32_t *sums, MD_ASM_ARG const int8_t *input,
                                                       MD_ASM_ARG const int8_t *row_0, MD_ASM_ARG int32_t depth,
                                                       MD_ASM_ARG uint32_t offsets,
                                                       MD_ASM_ARG const int32_t *initial)
{
    __asm__("push {r0, r4-r11, lr}\n\t"
            "ldrd r5, r6, [sp, #40]\n\t" /* offsets and initial: the fifth and sixth arguments */
            "add r4, r2, r3, lsl #1\n\t"
            "bic lr, r3, #3\n\t"
            "add lr, r1, lr\n\t"
            "ldm r6, {r0, r10, r11, r12}\n\t"
            "tst r3, #4\n\t"
            "bne 2f\n\t"
            "cmp r1, lr\n\t"
            "beq 3f\n"
            "1:\n\t" MD_FC_GROUP "2:\n\t" MD_FC_GROUP "cmp r1, lr\n\t"
            "bne 1b\n"
            "3:\n\t"
            "ldr r1, [sp]\n\t"
            "stm r1, {r0, r10, r11, r12}\n\t"
            "pop {r1, r4-r11, pc}");
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

#define MD_FC_CHUNK 16 /* outputs requantized together */

/* One layer's parameters, in locals: int8 stores could alias *p. */
typedef struct {
    const int8_t *filter;
    const int32_t *bias;        /* or NULL */
    const int32_t *multipliers; /* one per output channel, or one for all */
    const int32_t *shifts;
    int32_t per_channel, depth, outputs, input_offset, output_offset, low, high;
    uint32_t offsets; /* the input offset in both halfwords */
} fc_layer;

/* out[first + r] for r < count from sums[r]; one scale below one (the usual case) has its own
 * loop. Not inlined: the caller's loop keeps its registers. */
static MD_NOINLINE void requantize_outputs(const fc_layer *layer, const int32_t *sums, int32_t first,
                                               int32_t count, int8_t *out)
{
    const int32_t offset = layer->output_offset, low = layer->low, high = layer->high;
    const int32_t *end = sums + count;
    const int32_t step = layer->per_channel;
    const int32_t *multiplier = layer->multipliers + first * step;
    const int32_t *shift = layer->shifts + first * step;
    out += first;
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

/* Every output of one input row: four at a time, requantized MD_FC_CHUNK at a time, then the
 * last 3, 2 or 1. */
static void fully_connected_row_s8(const fc_layer *layer, const int8_t *row, int8_t *out)
{
    static const int32_t zeros[4] = {0, 0, 0, 0};
    const int32_t depth = layer->depth;
    const int32_t groups = layer->outputs & ~3;
    const int8_t *rows = layer->filter;
    int32_t sums[MD_FC_CHUNK];
    int32_t o;
    int32_t g;
    for (o = 0; o < groups; o += MD_FC_CHUNK) {
        const int32_t count = md_min_i32(MD_FC_CHUNK, groups - o);
        for (g = 0; g < count; g += 4, rows += 4 * depth) {
            dot_4rows(sums + g, row, rows, depth, layer->offsets, layer->bias ? layer->bias + o + g : zeros);
            if (depth & 3) {
                dot_tail(row, depth, layer->input_offset, rows, 4, sums + g);
            }
        }
        requantize_outputs(layer, sums, o, count, out);
    }
    if (groups < layer->outputs) {
        last_outputs(layer, row, groups, out);
    }
}

static void fully_connected_s8_dsp(const md_fully_connected_params *p, const int8_t *input, const int8_t *filter,
                                   const int32_t *bias, const int32_t *multipliers, const int32_t *shifts,
                                   int8_t *output)
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
    const int32_t batches = p->batches;
    int32_t b;
    for (b = 0; b < batches; ++b) {
        fully_connected_row_s8(&layer, input + b * layer.depth, output + b * layer.outputs);
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

md_status md_fully_connected_s16(const md_fully_connected_params *p, const int16_t *input, const int8_t *filter,
                                 const void *bias, const int32_t *multipliers, const int32_t *shifts, int16_t *output)
{
    md_fully_connected_portable(p, input, MD_INT16, filter, bias, multipliers, shifts, output);
    return MD_OK;
}

#endif /* MD_PATH_DSP */
