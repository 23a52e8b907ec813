/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: TFLite Micro's real FFT and its inverse (KISS FFT) in int16, int32 and float32,
 * portable C (see md_nn.h). The transform is written once (md_signal_fft_template.h); this file
 * gives each sample type KISS FFT's arithmetic for it:
 *   fixed point (FIXED_POINT=16 and 32): every butterfly first scales its legs down by its radix
 *     (times SAMP_MAX / radix, rounded), every product rounds at bit 15 or 31, every stored value
 *     wraps to the sample type; int32 products and their sums are taken modulo 2^64 (two's
 *     complement, as TFLite Micro's int64 arithmetic wraps), which leaves their low 32 bits exact;
 *   float32: one rounding per operation, in the order KISS FFT writes them. Bit-exactness needs
 *     no contraction of a * b - c * d into fused multiply-adds: the float section below turns it off
 *     for GCC and Clang whatever the flags (GCC's GNU modes contract by default); -ffast-math breaks it.
 */
#include "md_nn_support.h"

#define MD_FFT_PASTE(name, suffix) name##_##suffix
#define MD_FFT_EXPAND(name, suffix) MD_FFT_PASTE(name, suffix)
#define MD_FFT(name) MD_FFT_EXPAND(name, MD_FFT_SUFFIX)

/* ---- int16 (Q15) */

static int16_t store_s16(int32_t value)
{
    return (int16_t)(uint16_t)(uint32_t)value;
}

/* A product of two Q15 values rounded back to Q15. */
static int16_t round_s16(int32_t product)
{
    return store_s16((product + (1 << 14)) >> 15);
}

static void scale_down_s16(int16_t *c, int32_t radix)
{
    const int32_t factor = 32767 / radix;
    c[0] = round_s16(c[0] * factor);
    c[1] = round_s16(c[1] * factor);
}

static void multiply_s16(const int16_t *a, const int16_t *b, int16_t *out)
{
    out[0] = round_s16((int32_t)a[0] * b[0] - (int32_t)a[1] * b[1]);
    out[1] = round_s16((int32_t)a[0] * b[1] + (int32_t)a[1] * b[0]);
}

static int16_t add_s16(int16_t a, int16_t b)
{
    return store_s16((int32_t)a + b);
}

static int16_t sub_s16(int16_t a, int16_t b)
{
    return store_s16((int32_t)a - b);
}

static int16_t neg_s16(int16_t a)
{
    return store_s16(-(int32_t)a);
}

static int16_t half_sum_s16(int16_t a, int16_t b)
{
    return (int16_t)(((int32_t)a + b) >> 1);
}

static int16_t half_difference_s16(int16_t a, int16_t b)
{
    return (int16_t)(((int32_t)a - b) >> 1);
}

static void normalise_s16(int16_t *frame, int32_t fft_length)
{
    (void)frame; /* fixed point: each stage has already scaled down */
    (void)fft_length;
}

#define MD_FFT_SAMPLE int16_t
#define MD_FFT_SUFFIX s16
#include "md_signal_fft_template.h"
#undef MD_FFT_SAMPLE
#undef MD_FFT_SUFFIX

/* ---- int32 (Q31) */

static int32_t store_s32(int64_t value)
{
    return (int32_t)(uint32_t)(uint64_t)value;
}

/* A Q62 sum of products (taken modulo 2^64) rounded back to Q31. */
static int32_t round_s32(uint64_t product)
{
    return store_s32((int64_t)(product + (UINT64_C(1) << 30)) >> 31);
}

static void scale_down_s32(int32_t *c, int32_t radix)
{
    const int64_t factor = INT32_MAX / radix;
    c[0] = round_s32((uint64_t)(c[0] * factor));
    c[1] = round_s32((uint64_t)(c[1] * factor));
}

static void multiply_s32(const int32_t *a, const int32_t *b, int32_t *out)
{
    const uint64_t rr = (uint64_t)((int64_t)a[0] * b[0]), ii = (uint64_t)((int64_t)a[1] * b[1]);
    const uint64_t ri = (uint64_t)((int64_t)a[0] * b[1]), ir = (uint64_t)((int64_t)a[1] * b[0]);
    out[0] = round_s32(rr - ii);
    out[1] = round_s32(ri + ir);
}

static int32_t add_s32(int32_t a, int32_t b)
{
    return store_s32((int64_t)a + b);
}

static int32_t sub_s32(int32_t a, int32_t b)
{
    return store_s32((int64_t)a - b);
}

static int32_t neg_s32(int32_t a)
{
    return store_s32(-(int64_t)a);
}

/* KISS FFT's HALF_OF(a + b) adds two int32 samples as int: at full scale the sum wraps modulo 2^32
 * before the arithmetic shift halves it, as in TFLite Micro's builds. */
static int32_t half_sum_s32(int32_t a, int32_t b)
{
    return add_s32(a, b) >> 1;
}

static int32_t half_difference_s32(int32_t a, int32_t b)
{
    return sub_s32(a, b) >> 1;
}

static void normalise_s32(int32_t *frame, int32_t fft_length)
{
    (void)frame;
    (void)fft_length;
}

#define MD_FFT_SAMPLE int32_t
#define MD_FFT_SUFFIX s32
#include "md_signal_fft_template.h"
#undef MD_FFT_SAMPLE
#undef MD_FFT_SUFFIX

/* ---- float32 */

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

static void scale_down_f32(float *c, int32_t radix)
{
    (void)c; /* float: no scaling (KISS FFT's C_FIXDIV is fixed point only) */
    (void)radix;
}

static void multiply_f32(const float *a, const float *b, float *out)
{
    out[0] = a[0] * b[0] - a[1] * b[1];
    out[1] = a[0] * b[1] + a[1] * b[0];
}

static float add_f32(float a, float b)
{
    return a + b;
}

static float sub_f32(float a, float b)
{
    return a - b;
}

static float neg_f32(float a)
{
    return -a;
}

static float half_sum_f32(float a, float b)
{
    return (a + b) * 0.5f;
}

static float half_difference_f32(float a, float b)
{
    return (a - b) * 0.5f;
}

/* TFLite Micro's float Irfft divides every sample by fft_length. */
static void normalise_f32(float *frame, int32_t fft_length)
{
    const float length = (float)fft_length;
    int32_t i;
    for (i = 0; i < fft_length; ++i) {
        frame[i] = frame[i] / length;
    }
}

#define MD_FFT_SAMPLE float
#define MD_FFT_SUFFIX f32
#include "md_signal_fft_template.h"
#undef MD_FFT_SAMPLE
#undef MD_FFT_SUFFIX
