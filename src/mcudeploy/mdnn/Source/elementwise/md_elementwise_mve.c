/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: integer ADD, SUB and MUL for cores with MVE (Helium) (see md_nn.h).
 *
 * int8 ADD and SUB of contiguous or broadcast rows take 4 elements a vector: each input widened
 * on load, centred and shifted left, scaled by md_mve_mbqm, the sum or difference scaled to the
 * output, offset, clamped and narrowed on store; the last vector tail-predicated. Over many
 * elements, contiguous rows gather each input's scaled value from the shared tables of
 * md_elementwise_int.h instead, software-pipelined so that loads and arithmetic alternate.
 * Other cases run the portable kernel.
 */
#include "md_elementwise_int.h"

#if MD_PATH_MVE /* the ISA path this build takes: md_nn_support.h */

MD_PATH_SYMBOL(md_path_elementwise_mve);

void md_broadcast_rows(const md_broadcast *shape, const void *params, md_row_fn row, const void *input1,
                       const void *input2, void *output)
{
    md_broadcast_rows_portable(shape, params, row, input1, input2, output);
}

/* Four elements of an int8 input from `at` (lanes past `lanes` zero), or its one value repeated
 * when the row broadcasts it (step 0). */
static inline int32x4_t load_s8(const int8_t *at, int32_t step, mve_pred16_t lanes)
{
    return step ? vldrbq_z_s32(at, lanes) : vdupq_n_s32(*at);
}

static void add_sub_s8_mve(const md_arith_params *p, const int8_t *input1, int32_t step1, const int8_t *input2,
                           int32_t step2, int8_t *output, int32_t count)
{
    const int32x4_t left_shift = vdupq_n_s32(p->left_shift);
    const int32x4_t multiplier1 = vdupq_n_s32(p->input1_multiplier), shift1 = vdupq_n_s32(p->input1_shift);
    const int32x4_t multiplier2 = vdupq_n_s32(p->input2_multiplier), shift2 = vdupq_n_s32(p->input2_shift);
    const int32x4_t output_multiplier = vdupq_n_s32(p->output_multiplier);
    const int32x4_t output_shift = vdupq_n_s32(p->output_shift);
    const int32x4_t low = vdupq_n_s32(p->act_min), high = vdupq_n_s32(p->act_max);
    const int32_t offset1 = p->input1_offset, offset2 = p->input2_offset, output_offset = p->output_offset;
    const int subtract = p->op == MD_OP_SUB;
    int32_t i;
    for (i = 0; i < count; i += 4) {
        const mve_pred16_t lanes = vctp32q((uint32_t)(count - i));
        const int32x4_t first = vshlq_s32(vaddq_n_s32(load_s8(input1 + i * step1, step1, lanes), offset1), left_shift);
        const int32x4_t second = vshlq_s32(vaddq_n_s32(load_s8(input2 + i * step2, step2, lanes), offset2), left_shift);
        const int32x4_t scaled1 = md_mve_mbqm(first, multiplier1, shift1);
        const int32x4_t scaled2 = md_mve_mbqm(second, multiplier2, shift2);
        const int32x4_t raw = md_mve_mbqm(subtract ? vsubq_s32(scaled1, scaled2) : vaddq_s32(scaled1, scaled2),
                                          output_multiplier, output_shift);
        vstrbq_p_s32(output + i, vminq_s32(vmaxq_s32(vaddq_n_s32(raw, output_offset), low), high), lanes);
    }
}

static void arith_row_mve(const void *params, const void *input1, int32_t index1, int32_t step1, const void *input2,
                          int32_t index2, int32_t step2, void *output, int32_t out, int32_t count)
{
    const md_arith_params *p = (const md_arith_params *)params;
    if (arith_fast_add_sub_s8(p) && step1 <= 1 && step2 <= 1) {
        add_sub_s8_mve(p, (const int8_t *)input1 + index1, step1, (const int8_t *)input2 + index2, step2,
                       (int8_t *)output + out, count);
        return;
    }
    md_arith_row_portable(params, input1, index1, step1, input2, index2, step2, output, out, count);
}

/* Contiguous int8 ADD or SUB rows by tables: each input value gathered as a signed offset from
 * its table's entry 0 (the address wraps), the doubled sum scaled as add_sub_output does: VRMULH
 * is SMMULR, then the nudge (holding the output offset: rows with an offset after the shift run the
 * portable table row) and the sign added before an exact shift, the activation clamp last. */
static inline int32x4_t add_sub_gather(const int32_t *table, int32x4_t value)
{
    return vldrwq_gather_shifted_offset_s32(table, vreinterpretq_u32_s32(value));
}

static inline int32x4_t add_sub_scale(const add_sub_tables *t, int32x4_t doubled, int32x4_t multiplier)
{
    const int32x4_t rounding = vaddq_n_s32(vshrq_n_s32(doubled, 31), t->nudge);
    return vshlq_r_s32(vaddq_s32(vrmulhq_s32(doubled, multiplier), rounding), -t->exponent);
}

static inline int32x4_t add_sub_clamp(int32x4_t scaled, int32x4_t low, int32x4_t high)
{
    return vminq_s32(vmaxq_s32(scaled, low), high);
}

static inline int32x4_t add_sub_tabled_vector(const add_sub_tables *t, int32x4_t value1, int32x4_t value2,
                                              int32x4_t multiplier, int32x4_t low, int32x4_t high)
{
    const int32x4_t doubled = vaddq_s32(add_sub_gather(t->table1, value1), add_sub_gather(t->table2, value2));
    return add_sub_clamp(add_sub_scale(t, doubled, multiplier), low, high);
}

/* Keeps the compiler from moving instructions across it (a volatile asm is a scheduling barrier):
 * the loop below alternates loads and arithmetic in the order written. */
#define MD_IN_ORDER() __asm__ volatile("")

/* Whole vectors software-pipelined: while vector k's inputs and table entries load, vector k - 1's
 * doubled sum is scaled, clamped and stored, so that on a dual-beat core each load or store
 * overlaps an arithmetic instruction. Then the last 1 to 3 elements predicated (inactive lanes
 * read 0, a valid index). */
static void add_sub_tabled_mve(const add_sub_tables *tables, const int8_t *input1, const int8_t *input2,
                               int8_t *output, int32_t count)
{
    const add_sub_tables t = *tables; /* int8 stores could alias *tables */
    const int32x4_t multiplier = vdupq_n_s32(t.multiplier);
    const int32x4_t low = vdupq_n_s32(t.low), high = vdupq_n_s32(t.high);
    const int32_t nudge = t.nudge, shift = -t.exponent;
    const int32_t whole = count & ~3;
    const int8_t *const end = input1 + whole;
    if (whole > 0) {
        int32x4_t doubled = vaddq_s32(add_sub_gather(t.table1, vldrbq_s32(input1)),
                                      add_sub_gather(t.table2, vldrbq_s32(input2)));
        for (input1 += 4, input2 += 4; input1 < end; input1 += 4, input2 += 4, output += 4) {
            int32x4_t value1, value2, entry1, entry2, sign, scaled;
            value1 = vldrbq_s32(input1);
            MD_IN_ORDER();
            sign = vshrq_n_s32(doubled, 31);
            MD_IN_ORDER();
            value2 = vldrbq_s32(input2);
            MD_IN_ORDER();
            scaled = vrmulhq_s32(doubled, multiplier);
            MD_IN_ORDER();
            entry1 = add_sub_gather(t.table1, value1);
            MD_IN_ORDER();
            sign = vaddq_n_s32(sign, nudge);
            MD_IN_ORDER();
            entry2 = add_sub_gather(t.table2, value2);
            MD_IN_ORDER();
            scaled = vshlq_r_s32(vaddq_s32(scaled, sign), shift);
            scaled = vminq_s32(vmaxq_s32(scaled, low), high);
            MD_IN_ORDER();
            vstrbq_s32(output, scaled);
            MD_IN_ORDER();
            doubled = vaddq_s32(entry1, entry2);
        }
        vstrbq_s32(output, add_sub_clamp(add_sub_scale(&t, doubled, multiplier), low, high));
        output += 4;
    }
    if (count & 3) {
        const mve_pred16_t lanes = vctp32q((uint32_t)(count & 3));
        vstrbq_p_s32(output,
                     add_sub_tabled_vector(&t, vldrbq_z_s32(input1, lanes), vldrbq_z_s32(input2, lanes), multiplier,
                                           low, high),
                     lanes);
    }
}

/* add_sub_fill_table 4 entries a vector: md_mve_mbqm is md_mbqm, which for shifts <= 0 is the
 * smaller-than-one form the portable table takes. `table` is the storage of entries -128 .. 127. */
static void add_sub_fill_table_mve(int32_t *table, int32_t offset, int32_t left_shift, int32_t multiplier,
                                   int32_t shift, int32_t sign)
{
    const int32x4_t multipliers = vdupq_n_s32(multiplier), shifts = vdupq_n_s32(shift);
    int32x4_t centred = vaddq_n_s32(vreinterpretq_s32_u32(vidupq_n_u32(0, 1)), INT8_MIN + offset);
    int32_t i;
    for (i = 0; i < 256; i += 4) {
        const int32x4_t scaled = md_mve_mbqm(vshlq_r_s32(centred, left_shift), multipliers, shifts);
        vst1q_s32(table + i, vmulq_n_s32(scaled, 2 * sign));
        centred = vaddq_n_s32(centred, 4);
    }
}

static void add_sub_row_tabled_mve(const void *params, const void *input1, int32_t index1, int32_t step1,
                                   const void *input2, int32_t index2, int32_t step2, void *output, int32_t out,
                                   int32_t count)
{
    if (step1 == 1 && step2 == 1 && ((const add_sub_tables *)params)->offset_after == 0) {
        add_sub_tabled_mve((const add_sub_tables *)params, (const int8_t *)input1 + index1,
                           (const int8_t *)input2 + index2, (int8_t *)output + out, count);
        return;
    }
    add_sub_row_tabled(params, input1, index1, step1, input2, index2, step2, output, out, count);
}

md_status md_arith_int(const md_arith_params *p, const md_broadcast *shape, const void *input1, const void *input2,
                       void *output)
{
    if (!md_add_sub_s8_tabled(p, shape, input1, input2, output, add_sub_fill_table_mve, add_sub_row_tabled_mve)) {
        md_broadcast_rows(shape, p, arith_row_mve, input1, input2, output);
    }
    return MD_OK;
}

#endif /* MD_PATH_MVE */
