/* mcudeploy kernel library: integer ABS and CAST, portable C (see md_unary.h). */
#include "md_fixedpoint.h"
#include "md_unary.h"

void md_abs_int(const md_abs_params *p, const void *input, void *output, int32_t count)
{
    int32_t i;
    for (i = 0; i < count; ++i) {
        const int32_t centred = md_load(input, i, p->dtype) - p->input_offset;
        int32_t value = centred < 0 ? -centred : centred;
        if (p->rescale) {
            value = md_mbqm(value, p->multiplier, p->shift);
        }
        if (p->saturate) {
            md_store_saturated(output, i, p->dtype, (int64_t)value + p->output_offset);
        } else {
            ((int16_t *)output)[i] = (int16_t)(uint16_t)value; /* int16 only: 32768 wraps to -32768 */
        }
    }
}

/* float32 to int32 by truncation, saturated, NaN to 0. */
static int32_t truncate_f32(float value)
{
    if (!(value == value)) {
        return 0;
    }
    if (value >= 2147483648.0f) {
        return INT32_MAX;
    }
    return value <= -2147483648.0f ? INT32_MIN : (int32_t)value;
}

void md_cast(md_dtype from, md_dtype to, const void *input, void *output, int32_t count)
{
    int32_t i;
    for (i = 0; i < count; ++i) {
        if (to == MD_FLOAT32) {
            ((float *)output)[i] = from == MD_FLOAT32 ? ((const float *)input)[i] : (float)md_load(input, i, from);
            continue;
        }
        {
            const int32_t value = from == MD_FLOAT32 ? truncate_f32(((const float *)input)[i]) : md_load(input, i, from);
            switch (to) {
            case MD_INT8:
                ((int8_t *)output)[i] = (int8_t)(uint8_t)value;
                break;
            case MD_INT16:
                ((int16_t *)output)[i] = (int16_t)(uint16_t)value;
                break;
            default:
                ((int32_t *)output)[i] = value;
                break;
            }
        }
    }
}
