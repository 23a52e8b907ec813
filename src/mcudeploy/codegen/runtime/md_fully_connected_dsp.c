/* mcudeploy kernel library: FULLY_CONNECTED for cores with the DSP extension (see
 * md_fully_connected.h, md_dsp.h).
 *
 * int8 with a symmetric filter (filter offset 0): three outputs at a time (then two), each 4 input
 * values unpacked to pairs once (SXTAB16 adding the input offset) and multiplied with every
 * weight row by SMLAD. Other cases run the portable kernel.
 */
#include "md_dsp.h"
#include "md_fully_connected_int.h"

/* sums[r] += (input + offset) . row r, r < 2, over `depth` values. */
static void dot_2rows(const int8_t *input, int32_t depth, int16x2_t offset, const int8_t *row_0, const int8_t *row_1,
                      int32_t *sums)
{
    int32_t s0 = sums[0], s1 = sums[1];
    const int8_t *end = input + (depth & ~3);
    while (input < end) {
        const uint32_t values = md_read32(input);
        const int16x2_t even = __sadd16(md_even_pair(values), offset);
        const int16x2_t odd = __sadd16(md_odd_pair(values), offset);
        uint32_t weights = md_read32(row_0);
        s0 = __smlad(even, md_even_pair(weights), s0);
        s0 = __smlad(odd, md_odd_pair(weights), s0);
        weights = md_read32(row_1);
        s1 = __smlad(even, md_even_pair(weights), s1);
        s1 = __smlad(odd, md_odd_pair(weights), s1);
        input += 4;
        row_0 += 4;
        row_1 += 4;
    }
    for (end = input + (depth & 3); input < end; ++input, ++row_0, ++row_1) {
        s0 = md_wrap_add(s0, (*input + (int16_t)offset) * *row_0);
        s1 = md_wrap_add(s1, (*input + (int16_t)offset) * *row_1);
    }
    sums[0] = s0;
    sums[1] = s1;
}

/* sums[r] += (input + offset) . row r, r < 3 (rows `row_step` apart), over `depth` values. GCC 12
 * spills this loop; written out it is 20 instructions for 12 MACs, all pointers post-incremented
 * and each weight word unpacked in place. */
static MD_DSP_NOINLINE void dot_3rows(const int8_t *input, int32_t depth, uint32_t offsets, const int8_t *row_0,
                                      int32_t row_step, int32_t *sums)
{
    const int8_t *row_1 = row_0 + row_step;
    const int8_t *row_2 = row_1 + row_step;
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

static void fully_connected_s8_dsp(const md_fully_connected_params *p, const int8_t *input, const int8_t *filter,
                                   const int32_t *bias, const int32_t *multipliers, const int32_t *shifts,
                                   int8_t *output)
{
    const int16x2_t offset = (int16x2_t)(((uint32_t)p->input_offset & 0xFFFFu) * 0x10001u);
    const int32_t depth = p->accum_depth;
    int32_t sums[3];
    int32_t b;
    int32_t o;
    int32_t r;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *row = input + b * depth;
        int8_t *out = output + b * p->output_depth;
        for (o = 0; o + 3 <= p->output_depth; o += 3) {
            for (r = 0; r < 3; ++r) {
                sums[r] = bias ? bias[o + r] : 0;
            }
            dot_3rows(row, depth, (uint32_t)offset, filter + o * depth, depth, sums);
            for (r = 0; r < 3; ++r) {
                const int32_t q = p->per_channel ? o + r : 0;
                out[o + r] = (int8_t)md_requantize32(sums[r], multipliers[q], shifts[q], p->output_offset, p->act_min,
                                                     p->act_max);
            }
        }
        for (; o < p->output_depth; o += 2) {
            const int32_t next = o + 1 < p->output_depth ? o + 1 : o; /* an odd last output: computed twice */
            sums[0] = bias ? bias[o] : 0;
            sums[1] = bias ? bias[next] : 0;
            dot_2rows(row, p->accum_depth, offset, filter + o * p->accum_depth, filter + next * p->accum_depth, sums);
            for (r = 0; r < 2; ++r) {
                const int32_t channel = r ? next : o;
                const int32_t q = p->per_channel ? channel : 0;
                output[b * p->output_depth + channel] = (int8_t)md_requantize32(
                    sums[r], multipliers[q], shifts[q], p->output_offset, p->act_min, p->act_max);
            }
        }
    }
}

void md_fully_connected_s8(const md_fully_connected_params *p, const int8_t *input, const int8_t *filter,
                           const int32_t *bias, const int32_t *multipliers, const int32_t *shifts, int8_t *output)
{
    if (p->filter_offset != 0 || p->accumulator64) {
        md_fully_connected_portable(p, input, MD_INT8, filter, bias, multipliers, shifts, output);
        return;
    }
    fully_connected_s8_dsp(p, input, filter, bias, multipliers, shifts, output);
}

void md_fully_connected_s16(const md_fully_connected_params *p, const int16_t *input, const int8_t *filter,
                            const void *bias, const int32_t *multipliers, const int32_t *shifts, int16_t *output)
{
    md_fully_connected_portable(p, input, MD_INT16, filter, bias, multipliers, shifts, output);
}
