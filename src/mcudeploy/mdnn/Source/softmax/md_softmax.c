/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: int8 SOFTMAX and LOG_SOFTMAX (see md_nn.h).
 *
 * Differences to the row maximum are scaled to Q5.26 and exponentiated with
 * gemmlowp's fixed-point exp; the row sum is kept in Q12.19 and each exponential
 * multiplied by its reciprocal, shifted to the output's bits.
 */
#include "md_nn_support.h"

#define DIFF_INTEGER_BITS 5
#define SUM_INTEGER_BITS 12
#define LOG_OUTPUT_INTEGER_BITS 4

static int32_t row_maximum(const int8_t *row, int32_t depth)
{
    int32_t largest = INT8_MIN;
    int32_t j;
    for (j = 0; j < depth; ++j) {
        largest = md_max_i32(largest, row[j]);
    }
    return largest;
}

/* exp(beta * scale * diff) in Q0.31 for diff = x - row maximum (<= 0). */
static int32_t exp_of_difference(const md_softmax_params *p, int32_t diff)
{
    const int32_t scaled = md_mbqm_greater_than_one(diff, p->input_multiplier, p->input_shift);
    return md_exp_on_negative_values(scaled, DIFF_INTEGER_BITS);
}

static md_status softmax_row(const md_softmax_params *p, const int8_t *row, void *output, int32_t first,
                             int output_is16)
{
    const int32_t largest = row_maximum(row, p->depth);
    const int32_t output_bits = output_is16 ? 16 : 8;
    const int32_t lowest = output_is16 ? INT16_MIN : INT8_MIN;
    const int32_t highest = output_is16 ? INT16_MAX : INT8_MAX;
    uint32_t sum = 0; /* Q12.19, wrapping as the reference's int32 */
    int32_t num_bits_over_unit;
    int32_t reciprocal;
    int32_t exponent;
    int32_t j;
    for (j = 0; j < p->depth; ++j) {
        const int32_t diff = row[j] - largest;
        if (diff >= p->diff_min) {
            sum += (uint32_t)md_rescale(exp_of_difference(p, diff), 0, SUM_INTEGER_BITS);
        }
    }
    reciprocal = md_get_reciprocal((int32_t)sum, SUM_INTEGER_BITS, &num_bits_over_unit);
    exponent = num_bits_over_unit + 31 - output_bits;
    if (exponent > 31) {
        return MD_ERROR_RANGE;
    }
    for (j = 0; j < p->depth; ++j) {
        const int32_t diff = row[j] - largest;
        int32_t value = lowest;
        if (diff >= p->diff_min) {
            const int32_t scaled = md_rdbpot(md_srdhm(reciprocal, exp_of_difference(p, diff)), exponent);
            value = md_clamp_i32(scaled + lowest, lowest, highest);
        }
        md_store_saturated(output, first + j, output_is16 ? MD_INT16 : MD_INT8, value);
    }
    return MD_OK;
}

md_status md_softmax_s8(const md_softmax_params *p, const int8_t *input, void *output, int output_is16)
{
    int32_t r;
    for (r = 0; r < p->rows; ++r) {
        const md_status status = softmax_row(p, input + r * p->depth, output, r * p->depth, output_is16);
        if (status != MD_OK) {
            return status;
        }
    }
    return MD_OK;
}

/* The row's exps summed in Q12.19 as SOFTMAX does, its logarithm in Q5.26 subtracted from each
 * scaled difference; differences below what stays representable give -128. */
static void log_softmax_row(const md_softmax_params *p, const int8_t *row, int8_t *output)
{
    const int32_t largest = row_maximum(row, p->depth);
    uint32_t sum = 0; /* Q12.19, wrapping as the reference's int32 */
    int32_t log_sum;
    int32_t lowest_representable;
    int32_t adjusted_diff_min;
    int32_t j;
    for (j = 0; j < p->depth; ++j) {
        const int32_t diff = row[j] - largest;
        if (diff >= p->diff_min) {
            sum += (uint32_t)md_rescale(exp_of_difference(p, diff), 0, SUM_INTEGER_BITS);
        }
    }
    log_sum = md_log_x_for_x_greater_than_or_equal_to_1((int32_t)sum, SUM_INTEGER_BITS, DIFF_INTEGER_BITS);
    lowest_representable = md_mbqm((int32_t)((uint32_t)log_sum + UINT32_C(0x80000000)), p->reverse_multiplier,
                                   -p->reverse_right_shift);
    adjusted_diff_min = md_max_i32(p->diff_min - 1, lowest_representable);
    for (j = 0; j < p->depth; ++j) {
        const int32_t diff = row[j] - largest;
        int32_t value = INT8_MIN;
        if (diff > adjusted_diff_min) {
            const int32_t scaled = md_mbqm_greater_than_one(diff, p->input_multiplier, p->input_shift);
            const int32_t shifted = md_rdbpot((int32_t)((uint32_t)scaled - (uint32_t)log_sum),
                                              31 - DIFF_INTEGER_BITS - LOG_OUTPUT_INTEGER_BITS);
            value = md_clamp_i32(shifted + INT8_MAX, INT8_MIN, INT8_MAX);
        }
        output[j] = (int8_t)value;
    }
}

md_status md_log_softmax_s8(const md_softmax_params *p, const int8_t *input, int8_t *output)
{
    int32_t r;
    for (r = 0; r < p->rows; ++r) {
        log_softmax_row(p, input + r * p->depth, output + r * p->depth);
    }
    return MD_OK;
}
