/* mcudeploy kernel library: the portable integer ADD, SUB and MUL and the broadcasting loop (see
 * md_elementwise.h), shared by md_elementwise.c and its variants, which specialise only some
 * cases. Static inline: each variant compiles the parts it uses.
 *
 * Quantized ADD and SUB rescale both inputs to twice the larger input scale with
 * `left_shift` bits of headroom, then the sum or difference to the output scale;
 * MUL scales the product of the centred inputs. int32 arithmetic wraps.
 */
#ifndef MD_ELEMENTWISE_INT_H
#define MD_ELEMENTWISE_INT_H

#include "md_elementwise.h"
#include "md_fixedpoint.h"

static inline void md_broadcast_rows_portable(const md_broadcast *shape, const void *params, md_row_fn row,
                                              const void *input1, const void *input2, void *output)
{
    const int32_t last = shape->rank - 1;
    const int32_t width = shape->shape[last];
    const int32_t rows = md_shape_size(shape->shape, last);
    int32_t index[MD_MAX_DIMS] = {0};
    int32_t r;
    int32_t d;
    for (r = 0; r < rows; ++r) {
        int32_t index1 = 0;
        int32_t index2 = 0;
        for (d = 0; d < last; ++d) {
            index1 += index[d] * shape->strides1[d];
            index2 += index[d] * shape->strides2[d];
        }
        row(params, input1, index1, shape->strides1[last], input2, index2, shape->strides2[last], output, r * width,
            width);
        for (d = last - 1; d >= 0; --d) { /* next row: odometer over the outer dimensions */
            if (++index[d] < shape->shape[d]) {
                break;
            }
            index[d] = 0;
        }
    }
}

static inline int32_t arith_quantized(const md_arith_params *p, int32_t a, int32_t b)
{
    const int32_t first = a + p->input1_offset;
    const int32_t second = b + p->input2_offset;
    int32_t raw;
    if (p->op == MD_OP_MUL) {
        raw = md_mbqm(first * second, p->output_multiplier, p->output_shift);
    } else {
        const int32_t scaled1 = md_mbqm_smaller_than_one((int32_t)((uint32_t)first << p->left_shift),
                                                         p->input1_multiplier, p->input1_shift);
        const int32_t scaled2 = md_mbqm_smaller_than_one((int32_t)((uint32_t)second << p->left_shift),
                                                         p->input2_multiplier, p->input2_shift);
        raw = md_mbqm_smaller_than_one(p->op == MD_OP_ADD ? scaled1 + scaled2 : scaled1 - scaled2,
                                       p->output_multiplier, p->output_shift);
    }
    return md_clamp_i32(raw + p->output_offset, p->act_min, p->act_max);
}

static inline int32_t arith_wrapping(const md_arith_params *p, int32_t a, int32_t b)
{
    const int32_t result = p->op == MD_OP_ADD ? md_wrap_add(a, b)
                           : p->op == MD_OP_SUB ? md_wrap_sub(a, b)
                                                : md_wrap_mul(a, b);
    return md_clamp_i32(result, p->act_min, p->act_max);
}

/* Whether int8 ADD or SUB can take arith_add_sub_s8: every scale below one (shifts <= 0), where
 * md_mbqm is MultiplyByQuantizedMultiplierSmallerThanOneExp in fewer instructions. */
static inline int arith_fast_add_sub_s8(const md_arith_params *p)
{
    return p->dtype == MD_INT8 && p->op != MD_OP_MUL && p->input1_shift <= 0 && p->input2_shift <= 0 &&
           p->output_shift <= 0;
}

/* int8 ADD or SUB of one row, the parameters in locals: int8 stores could alias *p. */
static inline void arith_add_sub_s8(const md_arith_params *p, const int8_t *input1, int32_t step1,
                                    const int8_t *input2, int32_t step2, int8_t *output, int32_t count)
{
    const int32_t offset1 = p->input1_offset, offset2 = p->input2_offset, left_shift = p->left_shift;
    const int32_t multiplier1 = p->input1_multiplier, shift1 = p->input1_shift;
    const int32_t multiplier2 = p->input2_multiplier, shift2 = p->input2_shift;
    const int32_t output_multiplier = p->output_multiplier, output_shift = p->output_shift;
    const int32_t output_offset = p->output_offset, low = p->act_min, high = p->act_max;
    const int32_t sign = p->op == MD_OP_SUB ? -1 : 1;
    int32_t i;
    for (i = 0; i < count; ++i, input1 += step1, input2 += step2) {
        const int32_t scaled1 = md_mbqm((int32_t)((uint32_t)(*input1 + offset1) << left_shift), multiplier1, shift1);
        const int32_t scaled2 = md_mbqm((int32_t)((uint32_t)(*input2 + offset2) << left_shift), multiplier2, shift2);
        const int32_t raw = md_mbqm(scaled1 + sign * scaled2, output_multiplier, output_shift);
        output[i] = (int8_t)md_clamp_i32(raw + output_offset, low, high);
    }
}

static inline void md_arith_row_portable(const void *params, const void *input1, int32_t index1, int32_t step1,
                                         const void *input2, int32_t index2, int32_t step2, void *output,
                                         int32_t out, int32_t count)
{
    const md_arith_params *p = (const md_arith_params *)params;
    int32_t i;
    if (arith_fast_add_sub_s8(p)) {
        arith_add_sub_s8(p, (const int8_t *)input1 + index1, step1, (const int8_t *)input2 + index2, step2,
                   (int8_t *)output + out, count);
        return;
    }
    for (i = 0; i < count; ++i) {
        const int32_t a = md_load(input1, index1 + i * step1, p->dtype);
        const int32_t b = md_load(input2, index2 + i * step2, p->dtype);
        const int32_t value = p->dtype == MD_INT32 ? arith_wrapping(p, a, b) : arith_quantized(p, a, b);
        md_store_saturated(output, out + i, p->dtype, value);
    }
}

#endif /* MD_ELEMENTWISE_INT_H */
