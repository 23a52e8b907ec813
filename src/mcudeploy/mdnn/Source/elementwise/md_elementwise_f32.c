/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: float32 ADD, SUB, MUL, SQUARED_DIFFERENCE, DIV, FLOOR_DIV, FLOOR_MOD (see
 * md_nn.h). */
#include <math.h>

#include "md_nn_support.h"

/* fmodf, moved into the divisor's sign when it is not 0 (TFLite's FloorMod). */
static float floor_mod(float a, float b)
{
    const float mod = fmodf(a, b);
    return mod != 0.0f && ((b < 0.0f) != (mod < 0.0f)) ? mod + b : mod;
}

static void arith_row_f32(const void *params, const void *input1, int32_t index1, int32_t step1, const void *input2,
                          int32_t index2, int32_t step2, void *output, int32_t out, int32_t count)
{
    const md_arith_f32_params *p = (const md_arith_f32_params *)params;
    const float *first = (const float *)input1;
    const float *second = (const float *)input2;
    float *result = (float *)output;
    int32_t i;
    for (i = 0; i < count; ++i) {
        const float a = first[index1 + i * step1];
        const float b = second[index2 + i * step2];
        const float value = p->op == MD_OP_ADD         ? a + b
                            : p->op == MD_OP_SUB       ? a - b
                            : p->op == MD_OP_MUL       ? a * b
                            : p->op == MD_OP_DIV       ? a / b
                            : p->op == MD_OP_FLOOR_DIV ? (float)floor((double)a / (double)b)
                            : p->op == MD_OP_FLOOR_MOD ? floor_mod(a, b)
                                                       : (a - b) * (a - b);
        result[out + i] = md_clamp_f32(value, p->act_low, p->act_high);
    }
}

md_status md_arith_f32(const md_arith_f32_params *p, const md_broadcast *shape, const float *input1,
                       const float *input2, float *output)
{
    md_broadcast_rows(shape, p, arith_row_f32, input1, input2, output);
    return MD_OK;
}
