/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: integer ADD, SUB and MUL for cores with the DSP extension (see md_nn.h).
 *
 * Over many elements, int8 ADD and SUB of contiguous rows take 4 elements a word: each input word
 * read once, its bytes sign-extended in place (SXTB with rotation) as indices into the shared tables
 * of md_elementwise_int.h (both indices before both loads, which pipeline), each doubled sum scaled
 * to the output (SMMLAR) and clamped (SSAT alone for the full int8 range): no byte loads, one loop
 * step per 4 elements. The tables are filled with SMMULR (add_sub_fill_table_dsp).
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

/* The doubled sum table1[v1] + table2[v2] of the int8 values v1, v2 at byte `rot` / 8 (0, 8, 16 or
 * 24, a literal) of two words: both indices sign-extended (SXTB with rotation) before both loads,
 * which then pipeline (GCC 12 puts each load right after its index, where it waits). */
#define TABLE_SUM(sum, tables, word1, word2, rot)                                                            \
    do {                                                                                                     \
        int32_t second_;                                                                                     \
        __asm__("sxtb %0, %2, ror #" #rot "\n\tsxtb %1, %3, ror #" #rot "\n\tldr %0, [%4, %0, lsl #2]\n\t" \
                "ldr %1, [%5, %1, lsl #2]\n\tadd %0, %0, %1"                                                   \
                : "=&r"(sum), "=&r"(second_)                                                                 \
                : "r"(word1), "r"(word2), "r"((tables)->table1), "r"((tables)->table2)                       \
                : "memory");                                                                                 \
    } while (0)

/* The output of a doubled sum. `full_range` (a compile-time flag): the activation clamp is one
 * saturation, as for add_sub_tabled_contiguous. */
static inline int8_t add_sub_byte(const add_sub_tables *t, int32_t doubled_sum, int full_range)
{
    const int32_t value = add_sub_output(t, doubled_sum);
    return (int8_t)(full_range ? md_saturate_s8(value) : md_clamp_i32(value, t->low, t->high));
}

/* Contiguous rows with no offset after the shift (the output exponent up to 23). */
static inline void add_sub_tabled_dsp(const add_sub_tables *tables, const int8_t *input1, const int8_t *input2,
                                      int8_t *output, int32_t count, int full_range)
{
    const add_sub_tables t = *tables; /* int8 stores could alias *tables */
    int32_t sum;
    int32_t i;
    for (i = 0; i + 4 <= count; i += 4) {
        const uint32_t word1 = md_read32(input1 + i), word2 = md_read32(input2 + i);
        TABLE_SUM(sum, &t, word1, word2, 0);
        output[i] = add_sub_byte(&t, sum, full_range);
        TABLE_SUM(sum, &t, word1, word2, 8);
        output[i + 1] = add_sub_byte(&t, sum, full_range);
        TABLE_SUM(sum, &t, word1, word2, 16);
        output[i + 2] = add_sub_byte(&t, sum, full_range);
        TABLE_SUM(sum, &t, word1, word2, 24);
        output[i + 3] = add_sub_byte(&t, sum, full_range);
    }
    for (; i < count; ++i) {
        output[i] = add_sub_byte(&t, t.table1[input1[i]] + t.table2[input2[i]], full_range);
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
            add_sub_tabled_dsp(t, first, second, (int8_t *)output + out, count, 1);
        } else {
            add_sub_tabled_dsp(t, first, second, (int8_t *)output + out, count, 0);
        }
        return;
    }
    add_sub_row_tabled(params, input1, index1, step1, input2, index2, step2, output, out, count);
}

/* add_sub_fill_table in fewer instructions: (v + offset) << left_shift is at most 2^28 in magnitude
 * (add_sub_tables_apply), so md_srdhm of it is SMMULR of its double, stepped from one value to the
 * next; then md_rdbpot_fast by the right shift (at least 1: no right shift takes the shared fill). */
static void add_sub_fill_table_dsp(int32_t *storage, int32_t offset, int32_t left_shift, int32_t multiplier,
                                   int32_t shift, int32_t sign)
{
    const int32_t step = (int32_t)(UINT32_C(1) << (left_shift + 1));
    int32_t doubled = (int32_t)((uint32_t)(INT8_MIN + offset) << (left_shift + 1));
    int32_t v;
    if (shift == 0) {
        add_sub_fill_table(storage, offset, left_shift, multiplier, shift, sign);
        return;
    }
    for (v = 0; v < 256; ++v, doubled += step) {
        storage[v] = sign * 2 * md_rdbpot_fast(md_smmlar(doubled, multiplier, 0), -shift);
    }
}

md_status md_arith_int(const md_arith_params *p, const md_broadcast *shape, const void *input1, const void *input2,
                       void *output)
{
    if (!md_add_sub_s8_tabled(p, shape, input1, input2, output, add_sub_fill_table_dsp, add_sub_row_tabled_dsp)) {
        md_broadcast_rows(shape, p, md_arith_row_portable, input1, input2, output);
    }
    return MD_OK;
}

#endif /* MD_PATH_DSP */
