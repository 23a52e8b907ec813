/* mcudeploy kernel library: integer ADD, SUB and MUL for cores with MVE (Helium) (see md_elementwise.h).
 *
 * int8 ADD and SUB of contiguous or broadcast rows take 4 elements a vector: each input widened
 * on load, centred and shifted left, scaled by md_mve_mbqm, the sum or difference scaled to the
 * output, offset, clamped and narrowed on store; the last vector tail-predicated. Other cases
 * run the portable kernel.
 */
#include "md_elementwise_int.h"
#include "md_mve.h"

void md_broadcast_rows(const md_broadcast *shape, const void *params, md_row_fn row, const void *input1,
                       const void *input2, void *output)
{
    md_broadcast_rows_portable(shape, params, row, input1, input2, output);
}

#if MD_MVE

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

void md_arith_int(const md_arith_params *p, const md_broadcast *shape, const void *input1, const void *input2,
                  void *output)
{
    md_broadcast_rows(shape, p, arith_row_mve, input1, input2, output);
}

#else

void md_arith_int(const md_arith_params *p, const md_broadcast *shape, const void *input1, const void *input2,
                  void *output)
{
    md_broadcast_rows(shape, p, md_arith_row_portable, input1, input2, output);
}

#endif
