/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: ADD_N and CUMSUM (see md_nn.h). */
#include "md_nn_support.h"

static int32_t scaled_s8(const md_arith_params *p, int32_t value)
{
    return md_mbqm_smaller_than_one((int32_t)((uint32_t)(value + p->input1_offset) << p->left_shift),
                                    p->input1_multiplier, p->input1_shift);
}

static int8_t requantized_s8(const md_arith_params *p, int32_t sum)
{
    int32_t out = md_mbqm_smaller_than_one(sum, p->output_multiplier, p->output_shift) + p->output_offset;
    out = out < p->act_min ? p->act_min : out;
    return (int8_t)(out > p->act_max ? p->act_max : out);
}

static int32_t wrapping_add(int32_t a, int32_t b) { return (int32_t)((uint32_t)a + (uint32_t)b); }

md_status md_add_n_s8(const md_arith_params *p, int32_t count, const int8_t *const *inputs, int8_t *output,
                      int32_t size)
{
    const int32_t start = scaled_s8(p, 0);
    int32_t i;
    int32_t j;
    for (i = 0; i < size; ++i) {
        int32_t sum = start;
        for (j = 0; j < count; ++j) {
            sum = wrapping_add(sum, scaled_s8(p, inputs[j][i]));
        }
        output[i] = requantized_s8(p, sum);
    }
    return MD_OK;
}

md_status md_add_n_f32(int32_t count, const float *const *inputs, float *output, int32_t size)
{
    int32_t i;
    int32_t j;
    for (i = 0; i < size; ++i) {
        float sum = 0.0f;
        for (j = 0; j < count; ++j) {
            sum += inputs[j][i];
        }
        output[i] = sum;
    }
    return MD_OK;
}

/* Element index of step k along the axis of row (o, i), walking backwards with reverse. */
static size_t cumsum_index(const md_cumsum_params *c, int32_t o, int32_t i, int32_t k)
{
    const int32_t step = c->reverse ? c->depth - 1 - k : k;
    return ((size_t)o * (size_t)c->depth + (size_t)step) * (size_t)c->inner + (size_t)i;
}

md_status md_cumsum_s8(const md_arith_params *p, const md_cumsum_params *c, const int8_t *input, int8_t *output)
{
    int32_t o;
    int32_t i;
    int32_t k;
    for (o = 0; o < c->outer; ++o) {
        for (i = 0; i < c->inner; ++i) {
            int32_t sum = scaled_s8(p, 0);
            for (k = 0; k < c->depth; ++k) {
                const size_t at = cumsum_index(c, o, i, k);
                const int32_t before = sum;
                sum = wrapping_add(sum, scaled_s8(p, input[at]));
                output[at] = requantized_s8(p, c->exclusive ? before : sum);
            }
        }
    }
    return MD_OK;
}

md_status md_cumsum_f32(const md_cumsum_params *c, const float *input, float *output)
{
    int32_t o;
    int32_t i;
    int32_t k;
    for (o = 0; o < c->outer; ++o) {
        for (i = 0; i < c->inner; ++i) {
            float sum = 0.0f;
            for (k = 0; k < c->depth; ++k) {
                const size_t at = cumsum_index(c, o, i, k);
                const float before = sum;
                sum += input[at];
                output[at] = c->exclusive ? before : sum;
            }
        }
    }
    return MD_OK;
}
