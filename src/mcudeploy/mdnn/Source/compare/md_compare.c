/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: MAXIMUM, MINIMUM, comparisons, logical operators, SELECT_V2,
 * portable C (see md_nn.h). */
#include <string.h>

#include "md_nn_support.h"

/* The truth of `op` for two values of one type (a macro: int32_t and float alike; NaN compares
 * false except under NOT_EQUAL). */
#define MD_COMPARE(op, a, b)                                                                                          \
    ((op) == MD_CMP_EQUAL           ? (a) == (b)                                                                      \
     : (op) == MD_CMP_NOT_EQUAL     ? (a) != (b)                                                                      \
     : (op) == MD_CMP_LESS          ? (a) < (b)                                                                       \
     : (op) == MD_CMP_LESS_EQUAL    ? (a) <= (b)                                                                      \
     : (op) == MD_CMP_GREATER       ? (a) > (b)                                                                       \
     : (op) == MD_CMP_GREATER_EQUAL ? (a) >= (b)                                                                      \
     : (op) == MD_CMP_LOGICAL_AND   ? (a) && (b)                                                                      \
                                    : (a) || (b))

/* TFLite's int8 comparison operand: the centred value shifted left, times the input's scale. */
static int32_t compare_scaled(int32_t value, int32_t offset, int32_t left_shift, int32_t multiplier, int32_t shift)
{
    return md_mbqm_smaller_than_one((int32_t)((uint32_t)(value + offset) << left_shift), multiplier, shift);
}

static void compare_row_int(const void *params, const void *input1, int32_t index1, int32_t step1,
                            const void *input2, int32_t index2, int32_t step2, void *output, int32_t out,
                            int32_t count)
{
    const md_compare_params *p = (const md_compare_params *)params;
    int32_t i;
    for (i = 0; i < count; ++i) {
        int32_t a = md_load(input1, index1 + i * step1, p->dtype);
        int32_t b = md_load(input2, index2 + i * step2, p->dtype);
        if (p->op == MD_CMP_MAXIMUM || p->op == MD_CMP_MINIMUM) {
            const int first = p->op == MD_CMP_MAXIMUM ? a > b : a < b;
            md_store_saturated(output, out + i, p->dtype, first ? a : b);
            continue;
        }
        if (p->left_shift != 0) {
            a = compare_scaled(a, p->input1_offset, p->left_shift, p->input1_multiplier, p->input1_shift);
            b = compare_scaled(b, p->input2_offset, p->left_shift, p->input2_multiplier, p->input2_shift);
        }
        ((uint8_t *)output)[out + i] = (uint8_t)MD_COMPARE(p->op, a, b);
    }
}

/* The row kernel `name` of raw `type` values (float32 and int64, which TFLite Micro compares as
 * they are). */
#define MD_COMPARE_ROW_RAW(name, type)                                                                                \
    static void name(const void *params, const void *input1, int32_t index1, int32_t step1, const void *input2,      \
                     int32_t index2, int32_t step2, void *output, int32_t out, int32_t count)                        \
    {                                                                                                                 \
        const md_compare_params *p = (const md_compare_params *)params;                                              \
        int32_t i;                                                                                                    \
        for (i = 0; i < count; ++i) {                                                                                 \
            const type a = ((const type *)input1)[index1 + i * step1];                                                \
            const type b = ((const type *)input2)[index2 + i * step2];                                                \
            if (p->op == MD_CMP_MAXIMUM || p->op == MD_CMP_MINIMUM) {                                                 \
                const int first = p->op == MD_CMP_MAXIMUM ? a > b : a < b;                                            \
                ((type *)output)[out + i] = first ? a : b;                                                            \
            } else {                                                                                                  \
                ((uint8_t *)output)[out + i] = (uint8_t)MD_COMPARE(p->op, a, b);                                      \
            }                                                                                                         \
        }                                                                                                             \
    }

MD_COMPARE_ROW_RAW(compare_row_f32, float)
MD_COMPARE_ROW_RAW(compare_row_s64, int64_t)

md_status md_compare(const md_compare_params *p, const md_broadcast *shape, const void *input1,
                     const void *input2, void *output)
{
    md_broadcast_rows(shape, p,
                      p->dtype == MD_FLOAT32 ? compare_row_f32 : p->dtype == MD_INT64 ? compare_row_s64 : compare_row_int,
                      input1, input2, output);
    return MD_OK;
}

md_status md_logical_not(const uint8_t *input, uint8_t *output, int32_t count)
{
    int32_t i;
    for (i = 0; i < count; ++i) {
        output[i] = (uint8_t)!input[i];
    }
    return MD_OK;
}

md_status md_select(const md_broadcast3 *shape, int32_t element_size, const uint8_t *condition, const void *x,
                    const void *y, void *output)
{
    const int32_t count = md_shape_size(shape->shape, shape->rank);
    int32_t index[MD_MAX_DIMS] = {0};
    int32_t k;
    int32_t d;
    for (k = 0; k < count; ++k) {
        int32_t at1 = 0, at2 = 0, at3 = 0;
        for (d = 0; d < shape->rank; ++d) {
            at1 += index[d] * shape->strides1[d];
            at2 += index[d] * shape->strides2[d];
            at3 += index[d] * shape->strides3[d];
        }
        if (condition[at1]) {
            memmove((uint8_t *)output + k * element_size, (const uint8_t *)x + at2 * element_size, (size_t)element_size);
        } else {
            memmove((uint8_t *)output + k * element_size, (const uint8_t *)y + at3 * element_size, (size_t)element_size);
        }
        for (d = shape->rank - 1; d >= 0; --d) { /* next element: odometer over the dimensions */
            if (++index[d] < shape->shape[d]) {
                break;
            }
            index[d] = 0;
        }
    }
    return MD_OK;
}
