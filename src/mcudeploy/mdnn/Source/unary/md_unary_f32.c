/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: float32 ABS, NEG and math with C's libm (see md_nn.h). */
#include <math.h>

#include "md_nn_support.h"

/* Half to even, as TFLite's Round: the floor, plus one above the half or at an odd half. */
static float round_half_even(float x)
{
    const float low = floorf(x);
    const float fraction = x - low;
    if (fraction < 0.5f || (fraction == 0.5f && fmodf(low, 2.0f) == 0.0f)) {
        return low;
    }
    return low + 1.0f;
}

static float unary_f32(md_unary_op op, float x)
{
    switch (op) {
    case MD_UNARY_ABS:
        return fabsf(x);
    case MD_UNARY_NEG:
        return -x;
    case MD_UNARY_SIN:
        return sinf(x);
    case MD_UNARY_COS:
        return cosf(x);
    case MD_UNARY_EXP:
        return expf(x);
    case MD_UNARY_LOG:
        return logf(x);
    case MD_UNARY_SQRT:
        return sqrtf(x);
    case MD_UNARY_RSQRT:
        return 1.0f / sqrtf(x);
    case MD_UNARY_SQUARE:
        return x * x;
    case MD_UNARY_FLOOR:
        return floorf(x);
    case MD_UNARY_CEIL:
        return ceilf(x);
    case MD_UNARY_ELU:
        return x < 0.0f ? expm1f(x) : x;
    default:
        return round_half_even(x);
    }
}

md_status md_unary_f32(md_unary_op op, const float *input, float *output, int32_t count)
{
    int32_t i;
    for (i = 0; i < count; ++i) {
        output[i] = unary_f32(op, input[i]);
    }
    return MD_OK;
}
