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

/* sums[r] = sum((x[k] + offset) * w_r[k]) over k < n, modulo 2^32, for the rows w_0 = w, w_1 = w + n. */
typedef void (*md_svdf_dot2_s8)(const int8_t *x, const int8_t *w, int32_t n, int32_t offset, int32_t sums[2]);

/* `bytes` bytes from `from` to `to`, an address before it: a forward copy (the regions overlap). */
typedef void (*md_svdf_move)(void *to, const void *from, size_t bytes);

/* What a path gives the driver (a constant: its calls are direct). */
typedef struct {
    md_svdf_dot_s8 dot_s8;
    md_svdf_dot2_s8 dot2_s8;
    md_svdf_dot_s16 dot_s16;
    md_svdf_move move;
} md_svdf_kernels;

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

static inline void md_svdf_dot2_s8_portable(const int8_t *x, const int8_t *w, int32_t n, int32_t offset,
                                             int32_t sums[2])
{
    sums[0] = md_svdf_dot_s8_portable(x, w, n, offset);
    sums[1] = md_svdf_dot_s8_portable(x, w + n, n, offset);
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

/* The newest state value of a filter from its feature sum: rescaled, clamped, plus the zero point,
 * truncated to the state type as TFLM's store does. */
static MD_ALWAYS_INLINE void md_svdf_set(const md_svdf_params *p, void *values, int32_t index, int32_t sum,
                                         int is16)
{
    const int32_t value =
        p->state_zero_point +
        md_clamp_i32(md_mbqm(sum, p->feature_multiplier, p->feature_shift), p->state_min, p->state_max);
    if (is16) {
        ((int16_t *)values)[index] = (int16_t)value;
    } else {
        ((int8_t *)values)[index] = (int8_t)value;
    }
}

/* One body, compiled once per state type (is16 a constant in each caller). Two filters' feature
 * sums at a time, then the units' sums. A unit's `rank` filters
 * lie side by side in the state and in the time weights, so its sum is one dot product of
 * rank * memory values (the int32 sums wrap: any order gives TFLM's). */
static MD_ALWAYS_INLINE void md_svdf_s8_run(const md_svdf_params *p, const int8_t *input, const int8_t *features,
                                            const void *time_weights, const int32_t *bias, void *state,
                                            int8_t *output, const int is16, const md_svdf_kernels *kernels)
{
    const int32_t element = is16 ? 2 : 1;
    const int32_t values = p->batches * p->filters * p->memory;
    const int32_t span = p->rank * p->memory;
    int32_t b;
    int32_t f;
    int32_t u;
    if (values > 1) { /* every value one place left; each filter's last place is rewritten below */
        kernels->move(state, (const uint8_t *)state + element, (size_t)(values - 1) * (size_t)element);
    }
    for (b = 0; b < p->batches; ++b) {
        const int8_t *row = input + b * p->input_size;
        const int32_t batch_state = b * p->filters * p->memory;
        for (f = 0; f + 1 < p->filters; f += 2) { /* two filters a time: the input row read once */
            int32_t sums[2];
            kernels->dot2_s8(row, features + f * p->input_size, p->input_size, -p->input_zero_point, sums);
            md_svdf_set(p, state, batch_state + (f + 1) * p->memory - 1, sums[0], is16);
            md_svdf_set(p, state, batch_state + (f + 2) * p->memory - 1, sums[1], is16);
        }
        if (f < p->filters) {
            const int32_t sum =
                kernels->dot_s8(row, features + f * p->input_size, p->input_size, -p->input_zero_point);
            md_svdf_set(p, state, batch_state + (f + 1) * p->memory - 1, sum, is16);
        }
        for (u = 0; u < p->units; ++u) {
            const int32_t past = batch_state + u * span;
            const void *times = (const uint8_t *)time_weights + (size_t)(u * span * element);
            int32_t sum = is16 ? kernels->dot_s16((const int16_t *)state + past, (const int16_t *)times, span,
                                                  p->state_zero_point)
                               : kernels->dot_s8((const int8_t *)state + past, (const int8_t *)times, span,
                                                 -p->state_zero_point);
            sum = md_wrap_add(sum, bias != NULL ? bias[u] : 0);
            sum = md_mbqm(sum, p->output_multiplier, p->output_shift) + p->output_zero_point;
            output[b * p->units + u] = (int8_t)md_clamp_i32(sum, INT8_MIN, INT8_MAX);
        }
    }
}

/* md_svdf_s8 on a path's kernels. */
static MD_ALWAYS_INLINE void md_svdf_s8_with(const md_svdf_params *p, const int8_t *input, const int8_t *features,
                                             const void *time_weights, const int32_t *bias, void *state,
                                             int state_is16, int8_t *output, const md_svdf_kernels *kernels)
{
    if (state_is16) {
        md_svdf_s8_run(p, input, features, time_weights, bias, state, output, 1, kernels);
    } else {
        md_svdf_s8_run(p, input, features, time_weights, bias, state, output, 0, kernels);
    }
}

#endif /* MD_SVDF_INT_H */
