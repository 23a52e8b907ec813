/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: SVDF (int8 input with int8 or int16 state and time weights, float32).
 *
 * The state (a variable tensor outside the arena, kept across invocations) holds `memory`
 * past values per filter. Each call moves them one step left, writes the newest (the
 * input times the feature weights, rescaled to the state) last, then per unit sums the
 * time weights' dot products with the state of its `rank` filters, adds the bias and
 * rescales to the output. Batch by batch, without scratch: the int32 sums wrap as TFLM's
 * do, so summing per unit straight away gives TFLM's sums.
 */
#ifndef MD_SVDF_H
#define MD_SVDF_H

#include "md_common.h"

typedef struct {
    int32_t batches;
    int32_t input_size;
    int32_t filters; /* units * rank */
    int32_t units;
    int32_t rank;
    int32_t memory;
    int32_t feature_multiplier; /* input * feature-weight scale onto the state's */
    int32_t feature_shift;
    int32_t output_multiplier; /* state * time-weight scale onto the output's */
    int32_t output_shift;
    int32_t input_zero_point;
    int32_t state_zero_point;
    int32_t output_zero_point;
    int32_t state_min; /* the state type's range, where each newest value is clamped */
    int32_t state_max;
} md_svdf_params;

/* state and time_weights are int16_t when state_is16, int8_t otherwise; bias may be NULL. */
md_status md_svdf_s8(const md_svdf_params *p, const int8_t *input, const int8_t *features, const void *time_weights,
                     const int32_t *bias, void *state, int state_is16, int8_t *output);

/* The fused activation as [low, high] (+-HUGE_VALF without a bound); bias may be NULL. */
md_status md_svdf_f32(const md_svdf_params *p, float low, float high, const float *input, const float *features,
                      const float *time_weights, const float *bias, float *state, float *output);

#endif /* MD_SVDF_H */
