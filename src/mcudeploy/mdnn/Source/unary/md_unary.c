/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: integer ABS, int8 RSQRT and CAST, portable C (see md_nn.h). */
#include "md_nn_support.h"

md_status md_abs_int(const md_abs_params *p, const void *input, void *output, int32_t count)
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
    return MD_OK;
}

#define MD_RSQRT_HEADROOM 20 /* bits the inverse square root keeps before the output scale */


md_status md_rsqrt_s8(const md_rsqrt_s8_params *p, const int8_t *input, int8_t *output, int32_t count)
{
    md_status status = MD_OK;
    int32_t i;
    for (i = 0; i < count; ++i) {
        const int32_t centred = input[i] - p->input_offset;
        int32_t multiplier = INT32_MAX, shift = 0, data;
        if (centred <= 0) {
            status = centred < 0 ? MD_ERROR_RANGE : status;
            output[i] = INT8_MAX;
            continue;
        }
        if (centred > 1) {
            multiplier = md_inv_sqrt_multiplier(centred, &shift);
        }
        data = md_mbqm(1, multiplier, shift + MD_RSQRT_HEADROOM);
        output[i] = (int8_t)md_saturate_i64(
            (int64_t)md_mbqm(data, p->multiplier, p->shift - MD_RSQRT_HEADROOM) + p->output_offset, INT8_MIN, INT8_MAX);
    }
    return status;
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

/* float32 to uint32 by truncation, saturated, NaN to 0 (VCVT.U32.F32). */
static uint32_t truncate_f32_u32(float value)
{
    if (!(value > 0.0f)) {
        return 0u;
    }
    return value >= 4294967296.0f ? UINT32_MAX : (uint32_t)value;
}

md_status md_cast(md_dtype from, md_dtype to, const void *input, void *output, int32_t count)
{
    int32_t i;
    for (i = 0; i < count; ++i) {
        if (to == MD_FLOAT32) {
            ((float *)output)[i] = from == MD_FLOAT32   ? ((const float *)input)[i]
                                   : from == MD_UINT32 ? (float)((const uint32_t *)input)[i]
                                                       : (float)md_load(input, i, from);
            continue;
        }
        if (to == MD_UINT32) { /* from float32 only: an integer to uint32 is int32's bit pattern */
            ((uint32_t *)output)[i] = truncate_f32_u32(((const float *)input)[i]);
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
    return MD_OK;
}

md_status md_lookup_s8(const int8_t *table, const int8_t *input, int8_t *output, int32_t count)
{
    int32_t i;
    for (i = 0; i < count; ++i) {
        output[i] = table[(uint8_t)input[i]];
    }
    return MD_OK;
}
