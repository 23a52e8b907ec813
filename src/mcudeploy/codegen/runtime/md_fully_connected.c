/* mcudeploy kernel library: integer FULLY_CONNECTED (see md_fully_connected.h). */
#include "md_fully_connected.h"

#include "md_fixedpoint.h"

/* Exact sum of (input + input offset) * (weight + filter offset) over row `row` of the input. */
static int64_t dot(const md_fully_connected_params *p, const void *input, md_dtype dtype, int32_t row,
                   const int8_t *weights)
{
    int64_t sum = 0;
    int32_t k;
    for (k = 0; k < p->accum_depth; ++k) {
        const int32_t value = md_load(input, row * p->accum_depth + k, dtype);
        sum += (value + p->input_offset) * (weights[k] + p->filter_offset); /* fits int32 */
    }
    return sum;
}

static void fully_connected_int(const md_fully_connected_params *p, const void *input, md_dtype dtype,
                                const int8_t *filter, const void *bias, const int32_t *multipliers,
                                const int32_t *shifts, void *output)
{
    int32_t b;
    int32_t o;
    for (b = 0; b < p->batches; ++b) {
        for (o = 0; o < p->output_depth; ++o) {
            const int64_t sum = dot(p, input, dtype, b, filter + o * p->accum_depth);
            const int32_t q = p->per_channel ? o : 0;
            const int32_t value = md_requantize_sum(sum, bias, o, p->accumulator64, multipliers[q], shifts[q],
                                                    p->output_offset, p->act_min, p->act_max);
            md_store_saturated(output, b * p->output_depth + o, dtype, value);
        }
    }
}

void md_fully_connected_s8(const md_fully_connected_params *p, const int8_t *input, const int8_t *filter,
                           const int32_t *bias, const int32_t *multipliers, const int32_t *shifts, int8_t *output)
{
    fully_connected_int(p, input, MD_INT8, filter, bias, multipliers, shifts, output);
}

void md_fully_connected_s16(const md_fully_connected_params *p, const int16_t *input, const int8_t *filter,
                            const void *bias, const int32_t *multipliers, const int32_t *shifts, int16_t *output)
{
    fully_connected_int(p, input, MD_INT16, filter, bias, multipliers, shifts, output);
}
