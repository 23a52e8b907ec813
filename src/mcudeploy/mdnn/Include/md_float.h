/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: float32 helpers of the float kernels. */
#ifndef MD_FLOAT_H
#define MD_FLOAT_H

/* The fused activation of a float kernel. Without a bound the generator passes +-FLT_MAX, as
 * TFLite does, so infinities become +-FLT_MAX; NaN stays NaN. */
static inline float md_clamp_f32(float value, float low, float high)
{
    return value < low ? low : (value > high ? high : value);
}

#endif /* MD_FLOAT_H */
