/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: integer ADD, SUB and MUL for cores with the DSP extension (see md_nn.h).
 *
 * Over many elements, int8 ADD and SUB of contiguous rows take 4 elements a word: each input word
 * read once, its bytes sign-extended in place (SXTB with rotation) as indices into the shared tables
 * of md_elementwise_int.h, each doubled sum scaled to the output (SMMLAR) and clamped (SSAT alone
 * for the full int8 range): no byte loads, one loop step per 4 elements.
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

/* The output of the elements at byte `shift` / 8 of the two input words. `full_range` (a
 * compile-time flag): the activation clamp is one saturation, as for add_sub_tabled_contiguous. */
static inline int8_t add_sub_byte(const add_sub_tables *t, uint32_t word1, uint32_t word2, uint32_t shift,
                                  int full_range)
{
    const int32_t value = add_sub_output(t, t->table1[(int8_t)(word1 >> shift)] + t->table2[(int8_t)(word2 >> shift)]);
    return (int8_t)(full_range ? md_saturate_s8(value) : md_clamp_i32(value, t->low, t->high));
}

/* Contiguous rows with no offset after the shift (the output exponent up to 23). */
static inline void add_sub_tabled_dsp(const add_sub_tables *tables, const int8_t *input1, const int8_t *input2,
                                      int8_t *output, int32_t count, int full_range)
{
    const add_sub_tables t = *tables; /* int8 stores could alias *tables */
    int32_t i;
    for (i = 0; i + 4 <= count; i += 4) {
        const uint32_t word1 = md_read32(input1 + i), word2 = md_read32(input2 + i);
        output[i] = add_sub_byte(&t, word1, word2, 0, full_range);
        output[i + 1] = add_sub_byte(&t, word1, word2, 8, full_range);
        output[i + 2] = add_sub_byte(&t, word1, word2, 16, full_range);
        output[i + 3] = add_sub_byte(&t, word1, word2, 24, full_range);
    }
    for (; i < count; ++i) {
        output[i] = add_sub_byte(&t, (uint8_t)input1[i], (uint8_t)input2[i], 0, full_range);
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

md_status md_arith_int(const md_arith_params *p, const md_broadcast *shape, const void *input1, const void *input2,
                       void *output)
{
    if (!md_add_sub_s8_tabled(p, shape, input1, input2, output, add_sub_fill_table, add_sub_row_tabled_dsp)) {
        md_broadcast_rows(shape, p, md_arith_row_portable, input1, input2, output);
    }
    return MD_OK;
}

#endif /* MD_PATH_DSP */
