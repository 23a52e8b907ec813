/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: integer ADD, SUB and MUL for cores with the DSP extension (see md_nn.h).
 *
 * Over many elements, int8 ADD and SUB of contiguous rows take 4 elements a word: each input word
 * read once, its bytes sign-extended in place (SXTB with rotation) as indices into the shared tables
 * of md_elementwise_int.h, each doubled sum scaled to the output (SMMLAR) and saturated (SSAT), the
 * 4 outputs packed into a word (BFI) and clamped to the activation 4 at a time (SSUB8 and SEL, only
 * the bounds inside int8's range): no byte loads or stores, no branch per element.
 * Other cases run the portable kernel.
 */
#include "md_elementwise_int.h"

#if MD_PATH_DSP /* the ISA path this build takes: md_nn_support.h */

MD_PATH_SYMBOL(md_path_elementwise_dsp);

void md_broadcast_rows(const md_broadcast *shape, const void *params, md_row_fn row, const void *input1,
                       const void *input2, void *output)
{
    md_broadcast_rows_portable(shape, params, row, input1, input2, output);
}

/* The output of the elements at byte `shift` / 8 of the two input words, saturated to int8. */
static inline int32_t add_sub_lane(const add_sub_tables *t, uint32_t word1, uint32_t word2, uint32_t shift)
{
    return md_saturate_s8(add_sub_output(t, t->table1[(int8_t)(word1 >> shift)] + t->table2[(int8_t)(word2 >> shift)]));
}

/* Replaces byte `lsb` / 8 of `word` with the low byte of `value`: one BFI (GCC 12 writes masks and ORs
 * for the C expression); a macro, so that `lsb` is a literal at any optimisation level. */
#define INSERT_BYTE(word, value, lsb) __asm__("bfi %0, %1, #" #lsb ", #8" : "+r"(word) : "r"(value))

/* Each int8 of `word` raised to at least the bytes of `low` (each value repeated 4 times): SSUB8
 * sets a GE flag per byte where word - low >= 0, SEL picks by them. */
static inline uint32_t max_bytes(uint32_t word, uint32_t low)
{
    uint32_t difference;
    __asm__("ssub8 %1, %0, %2\n\tsel %0, %0, %2" : "+r"(word), "=&r"(difference) : "r"(low));
    return word;
}

/* Each int8 of `word` lowered to at most the bytes of `high`. */
static inline uint32_t min_bytes(uint32_t word, uint32_t high)
{
    uint32_t difference;
    __asm__("ssub8 %1, %2, %0\n\tsel %0, %0, %2" : "+r"(word), "=&r"(difference) : "r"(high));
    return word;
}

/* Which bounds of the activation an int8 output needs beyond its saturation. */
enum { CLAMP_NONE, CLAMP_LOW, CLAMP_BOTH };

/* Contiguous rows with no offset after the shift (the output exponent up to 23): 4 outputs packed
 * into a word, clamped 4 at a time as `clamp` (a compile-time constant) says, one store. */
static MD_ALWAYS_INLINE void add_sub_tabled_dsp(const add_sub_tables *tables, const int8_t *input1,
                                                const int8_t *input2, int8_t *output, int32_t count, int clamp)
{
    const add_sub_tables t = *tables; /* int8 stores could alias *tables */
    const uint32_t low = (uint8_t)t.low * UINT32_C(0x01010101), high = (uint8_t)t.high * UINT32_C(0x01010101);
    int32_t i;
    for (i = 0; i + 4 <= count; i += 4) {
        const uint32_t word1 = md_read32(input1 + i), word2 = md_read32(input2 + i);
        uint32_t packed = (uint32_t)add_sub_lane(&t, word1, word2, 0);
        INSERT_BYTE(packed, add_sub_lane(&t, word1, word2, 8), 8);
        INSERT_BYTE(packed, add_sub_lane(&t, word1, word2, 16), 16);
        INSERT_BYTE(packed, add_sub_lane(&t, word1, word2, 24), 24);
        if (clamp != CLAMP_NONE) {
            packed = max_bytes(packed, low);
        }
        md_write32(output + i, clamp == CLAMP_BOTH ? min_bytes(packed, high) : packed);
    }
    for (; i < count; ++i) {
        output[i] = (int8_t)md_clamp_i32(add_sub_lane(&t, (uint8_t)input1[i], (uint8_t)input2[i], 0), t.low, t.high);
    }
}

static void add_sub_row_tabled_dsp(const void *params, const void *input1, int32_t index1, int32_t step1,
                                   const void *input2, int32_t index2, int32_t step2, void *output, int32_t out,
                                   int32_t count)
{
    const add_sub_tables *t = (const add_sub_tables *)params;
    if (step1 == 1 && step2 == 1 && t->offset_after == 0) {
        const int8_t *first = (const int8_t *)input1 + index1, *second = (const int8_t *)input2 + index2;
        if (t->full_range) {
            add_sub_tabled_dsp(t, first, second, (int8_t *)output + out, count, CLAMP_NONE);
        } else if (t->high == INT8_MAX) { /* RELU */
            add_sub_tabled_dsp(t, first, second, (int8_t *)output + out, count, CLAMP_LOW);
        } else {
            add_sub_tabled_dsp(t, first, second, (int8_t *)output + out, count, CLAMP_BOTH);
        }
        return;
    }
    add_sub_row_tabled(params, input1, index1, step1, input2, index2, step2, output, out, count);
}

md_status md_arith_int(const md_arith_params *p, const md_broadcast *shape, const void *input1, const void *input2,
                       void *output)
{
    if (!md_add_sub_s8_tabled(p, shape, input1, input2, output, add_sub_fill_table, add_sub_row_tabled_dsp)) {
        md_broadcast_rows(shape, p, md_arith_row_portable, input1, input2, output);
    }
    return MD_OK;
}

#endif /* MD_PATH_DSP */
