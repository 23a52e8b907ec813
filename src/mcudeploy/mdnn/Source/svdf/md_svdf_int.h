/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: the int8 SVDF driver (see md_nn.h), shared by md_svdf.c and its
 * variants, which give it their dot products. */
#ifndef MD_SVDF_INT_H
#define MD_SVDF_INT_H

#include <string.h>

#include "md_nn_support.h"

/* sum((x[k] + offset) * w[k]) over k < n, modulo 2^32 (int8 values). */
typedef int32_t (*md_svdf_dot_s8)(const int8_t *x, const int8_t *w, int32_t n, int32_t offset);

/* sum(w[k] * (x[k] - zero_point)) over k < n, modulo 2^32 (int16 state and time weights). */
typedef int32_t (*md_svdf_dot_s16)(const int16_t *x, const int16_t *w, int32_t n, int32_t zero_point);

/* `bytes` bytes from `from` to `to`, an address before it: a forward copy (the regions overlap). */
typedef void (*md_svdf_move)(void *to, const void *from, size_t bytes);

static inline void md_svdf_move_portable(void *to, const void *from, size_t bytes) { memmove(to, from, bytes); }

static inline int32_t md_svdf_dot_s8_portable(const int8_t *x, const int8_t *w, int32_t n, int32_t offset)
{
    int32_t sum = 0;
    int32_t k;
    for (k = 0; k < n; ++k) {
        sum = md_wrap_add(sum, (x[k] + offset) * w[k]);
    }
    return sum;
}

static inline int32_t md_svdf_dot_s16_portable(const int16_t *x, const int16_t *w, int32_t n, int32_t zero_point)
{
    int32_t sum = 0;
    int32_t k;
    for (k = 0; k < n; ++k) {
        sum = md_wrap_add(sum, md_wrap_mul(w[k], x[k] - zero_point));
    }
    return sum;
}

/* The newest state value: the clamped feature sum plus the zero point, truncated to the
 * state type as TFLM's store does. */
static MD_ALWAYS_INLINE void md_svdf_set(void *values, int32_t index, int32_t value, int is16)
{
    if (is16) {
        ((int16_t *)values)[index] = (int16_t)value;
    } else {
        ((int8_t *)values)[index] = (int8_t)value;
    }
}

/* One body, compiled once per state type (is16 a constant in each caller). A unit's `rank` filters
 * lie side by side in the state and in the time weights, so its sum is one dot product of
 * rank * memory values (the int32 sums wrap: any order gives TFLM's). */
static MD_ALWAYS_INLINE void md_svdf_s8_run(const md_svdf_params *p, const int8_t *input, const int8_t *features,
                                            const void *time_weights, const int32_t *bias, void *state,
                                            int8_t *output, const int is16, md_svdf_dot_s8 dot_s8,
                                            md_svdf_dot_s16 dot_s16, md_svdf_move move)
{
    const int32_t element = is16 ? 2 : 1;
    const int32_t values = p->batches * p->filters * p->memory;
    const int32_t span = p->rank * p->memory;
    int32_t b;
    int32_t f;
    int32_t u;
    if (values > 1) { /* every value one place left; each filter's last place is rewritten below */
        move(state, (const uint8_t *)state + element, (size_t)(values - 1) * (size_t)element);
    }
    for (b = 0; b < p->batches; ++b) {
        const int8_t *row = input + b * p->input_size;
        const int32_t batch_state = b * p->filters * p->memory;
        for (f = 0; f < p->filters; ++f) {
            int32_t sum = dot_s8(row, features + f * p->input_size, p->input_size, -p->input_zero_point);
            sum = md_clamp_i32(md_mbqm(sum, p->feature_multiplier, p->feature_shift), p->state_min, p->state_max);
            md_svdf_set(state, batch_state + (f + 1) * p->memory - 1, p->state_zero_point + sum, is16);
        }
        for (u = 0; u < p->units; ++u) {
            const int32_t past = batch_state + u * span;
            int32_t sum = is16 ? dot_s16((const int16_t *)state + past, (const int16_t *)time_weights + u * span,
                                         span, p->state_zero_point)
                               : dot_s8((const int8_t *)state + past, (const int8_t *)time_weights + u * span, span,
                                        -p->state_zero_point);
            sum = md_wrap_add(sum, bias != NULL ? bias[u] : 0);
            sum = md_mbqm(sum, p->output_multiplier, p->output_shift) + p->output_zero_point;
            output[b * p->units + u] = (int8_t)md_clamp_i32(sum, INT8_MIN, INT8_MAX);
        }
    }
}

/* md_svdf_s8 on the given dot products and state move. */
static MD_ALWAYS_INLINE void md_svdf_s8_with(const md_svdf_params *p, const int8_t *input, const int8_t *features,
                                             const void *time_weights, const int32_t *bias, void *state,
                                             int state_is16, int8_t *output, md_svdf_dot_s8 dot_s8,
                                             md_svdf_dot_s16 dot_s16, md_svdf_move move)
{
    if (state_is16) {
        md_svdf_s8_run(p, input, features, time_weights, bias, state, output, 1, dot_s8, dot_s16, move);
    } else {
        md_svdf_s8_run(p, input, features, time_weights, bias, state, output, 0, dot_s8, dot_s16, move);
    }
}

#endif /* MD_SVDF_INT_H */
