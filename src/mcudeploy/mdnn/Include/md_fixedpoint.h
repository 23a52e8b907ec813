/* SPDX-License-Identifier: Apache-2.0 */
/* mcudeploy kernel library: the fixed-point arithmetic of TFLite's integer kernels.
 *
 * Our C versions of mcudeploy.engine.fixedpoint, function for function, so that
 * every kernel computes what the reference engine computes, bit for bit. Double
 * rounding (TFLite Micro's default): a requantization is a saturating rounding
 * doubling high multiply, then a rounding divide by a power of two.
 *
 * A Q-format value is the raw int32 of real = raw / 2^(31 - integer_bits).
 */
#ifndef MD_FIXEDPOINT_H
#define MD_FIXEDPOINT_H

#include "md_common.h"

/* round(a * b / 2^31), halves up; only INT32_MIN * INT32_MIN overflows, to INT32_MAX. */
static inline int32_t md_srdhm(int32_t a, int32_t b)
{
    if (a == INT32_MIN && b == INT32_MIN) {
        return INT32_MAX;
    }
    return (int32_t)(((int64_t)a * b + (INT64_C(1) << 30)) >> 31);
}

/* x / 2^exponent rounded to nearest, ties away from zero; exponent in [0, 31]. */
static inline int32_t md_rdbpot(int32_t x, int32_t exponent)
{
    const int32_t mask = (int32_t)((UINT32_C(1) << exponent) - 1u);
    const int32_t remainder = x & mask;
    const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

#if defined(__GNUC__)
#define md_unlikely(condition) __builtin_expect(!!(condition), 0)
#else
#define md_unlikely(condition) (condition)
#endif

/* a + b saturated to int32 (QADD on the DSP cores). */
static inline int32_t md_saturating_add(int32_t a, int32_t b)
{
#if defined(__ARM_FEATURE_DSP)
    return __builtin_arm_qadd(a, b);
#else
    const int64_t sum = (int64_t)a + b;
    return sum > INT32_MAX ? INT32_MAX : (sum < INT32_MIN ? INT32_MIN : (int32_t)sum);
#endif
}

/* md_srdhm without a branch: with p = a * b + 2^30 (one SMLAL), the result is the high word
 * doubled plus bit 31 of the low word. The high word is in [-2^30, 2^30] and reaches 2^30 only
 * for INT32_MIN * INT32_MIN, where the saturating doubling gives INT32_MAX (low bit 31 is 0). */
static inline int32_t md_srdhm_fast(int32_t a, int32_t b)
{
    const int64_t product = (int64_t)a * b + (INT64_C(1) << 30);
    const int32_t high = (int32_t)(product >> 32);
    const uint32_t low = (uint32_t)(uint64_t)product;
    return (int32_t)((uint32_t)md_saturating_add(high, high) | (low >> 31));
}

/* md_rdbpot for exponent in [1, 31] and x > INT32_MIN (true of any md_srdhm result): ties away
 * from zero are round-half-up of x - 1 for negative x, and rounding half up divides by 2^(e-1),
 * then halves with the dropped bit added back (no overflow at INT32_MAX). */
static inline int32_t md_rdbpot_fast(int32_t x, int32_t exponent)
{
    const int32_t below = (x + (x >> 31)) >> (exponent - 1);
    return (below >> 1) + (below & 1);
}

/* TFLite's MultiplyByQuantizedMultiplier for int32: a positive shift is a wrapping left shift
 * before the high multiply, a negative one a rounding right shift after it. Equal to
 * md_rdbpot(md_srdhm(x << left, multiplier), right) (tests/test_dsp_kernels.py), in fewer
 * instructions: every requantized output goes through it. */
static inline int32_t md_mbqm(int32_t x, int32_t multiplier, int32_t shift)
{
    if (md_unlikely(shift >= 0)) { /* a branch, not both paths computed */
        return md_srdhm_fast((int32_t)((uint32_t)x << shift), multiplier);
    }
    return md_rdbpot_fast(md_srdhm_fast(x, multiplier), -shift);
}

/* int64 addition with two's complement wrap-around (a bias at the end of its range). */
static inline int64_t md_wrap_add64(int64_t a, int64_t b) { return (int64_t)((uint64_t)a + (uint64_t)b); }

/* TFLite's MultiplyByQuantizedMultiplier for int64 accumulators (16x8 kernels): the multiplier
 * reduced to 16 bits, one rounding shift; shift below 15 (the generator checks). The product and
 * the rounding wrap modulo 2^64 as the reference engine's int64 arithmetic does (TFLite assumes
 * |x| < 2^47, which an extreme int64 bias breaks). */
static inline int32_t md_mbqm64(int64_t x, int32_t multiplier, int32_t shift)
{
    const int64_t reduced = multiplier < 0x7FFF0000 ? ((int64_t)multiplier + (1 << 15)) >> 16 : 0x7FFF;
    const int32_t total_shift = 15 - shift;
    const int64_t rounded = md_wrap_add64((int64_t)((uint64_t)x * (uint64_t)reduced), INT64_C(1) << (total_shift - 1));
    return (int32_t)(uint32_t)(uint64_t)(rounded >> total_shift);
}

/* MultiplyByQuantizedMultiplierSmallerThanOneExp (left_shift <= 0). */
static inline int32_t md_mbqm_smaller_than_one(int32_t x, int32_t multiplier, int32_t left_shift)
{
    return md_rdbpot(md_srdhm(x, multiplier), -left_shift);
}

/* MultiplyByQuantizedMultiplierGreaterThanOne (left_shift >= 0). */
static inline int32_t md_mbqm_greater_than_one(int32_t x, int32_t multiplier, int32_t left_shift)
{
    return md_srdhm((int32_t)((uint32_t)x << left_shift), multiplier);
}

/* Requantization epilogue of the weighted kernels: scale, add the output offset (wrapping), clamp. */
static inline int32_t md_requantize32(int32_t acc, int32_t multiplier, int32_t shift, int32_t offset,
                                      int32_t low, int32_t high)
{
    return md_clamp_i32(md_wrap_add(md_mbqm(acc, multiplier, shift), offset), low, high);
}

static inline int32_t md_requantize64(int64_t acc, int32_t multiplier, int32_t shift, int32_t offset,
                                      int32_t low, int32_t high)
{
    return md_clamp_i32(md_wrap_add(md_mbqm64(acc, multiplier, shift), offset), low, high);
}

/* The output of a weighted kernel (convolution, fully connected) from its exact sum of products
 * for output channel `channel`: 16x8 kernels with an int64 accumulator add an int64 bias; the
 * others accumulate in int32, which wraps (the sum modulo 2^32, then the int32 bias). `bias` may
 * be NULL. */
static inline int32_t md_requantize_sum(int64_t sum, const void *bias, int32_t channel, int32_t accumulator64,
                                        int32_t multiplier, int32_t shift, int32_t offset, int32_t low, int32_t high)
{
    if (accumulator64) {
        const int64_t acc = md_wrap_add64(sum, bias ? ((const int64_t *)bias)[channel] : 0);
        return md_requantize64(acc, multiplier, shift, offset, low, high);
    }
    return md_requantize32(md_wrap_add((int32_t)(uint32_t)(uint64_t)sum, bias ? ((const int32_t *)bias)[channel] : 0),
                           multiplier, shift, offset, low, high);
}

/* ---- gemmlowp fixed-point functions (exp, logistic, tanh, reciprocal) ---- */

#define MD_FIXED_ONE INT32_MAX /* 1.0 with 0 integer bits, saturated */

/* x * 2^exponent: saturating for a positive exponent, rounding to nearest for a negative one. */
static inline int32_t md_saturating_rounding_multiply_by_pot(int32_t x, int32_t exponent)
{
    int32_t threshold;
    if (exponent <= 0) {
        return md_rdbpot(x, -exponent);
    }
    threshold = (int32_t)((UINT32_C(1) << (31 - exponent)) - 1u);
    if (x > threshold) {
        return INT32_MAX;
    }
    if (x < -threshold) {
        return INT32_MIN;
    }
    return (int32_t)((uint32_t)x << exponent);
}

/* The same real value in a format with other integer bits (saturating). */
static inline int32_t md_rescale(int32_t x, int32_t src_integer_bits, int32_t dst_integer_bits)
{
    return md_saturating_rounding_multiply_by_pot(x, src_integer_bits - dst_integer_bits);
}

/* (a + b) / 2 rounded half away from zero. */
static inline int32_t md_rounding_half_sum(int32_t a, int32_t b)
{
    const int64_t total = (int64_t)a + b;
    return (int32_t)((total + (total >= 0 ? 1 : -1)) / 2);
}

/* exp(a) for a in [-1/4, 0) with 0 integer bits: a Taylor polynomial around -1/8. */
static inline int32_t md_exp_on_interval_between_negative_one_quarter_and_0_excl(int32_t a)
{
    const int32_t exp_minus_one_eighth = 1895147668; /* exp(-1/8) in Q0.31 */
    const int32_t one_third = 715827883;             /* 1/3 in Q0.31 */
    const int32_t x = a + (1 << 28);                 /* a + 1/8 */
    const int32_t x2 = md_srdhm(x, x);
    const int32_t x3 = md_srdhm(x2, x);
    const int32_t x4 = md_srdhm(x2, x2);
    const int32_t x4_over_4 = md_rdbpot(x4, 2);
    const int32_t cubic_and_quartic = md_srdhm(x4_over_4 + x3, one_third);
    const int32_t higher_terms = md_rdbpot(cubic_and_quartic + x2, 1);
    return exp_minus_one_eighth + md_srdhm(exp_minus_one_eighth, x + higher_terms);
}

/* exp(a) for a <= 0 with `integer_bits` (4 or 5) integer bits; the result has 0 integer bits.
 * The fractional part modulo 1/4 goes through the polynomial, each set bit of the rest
 * multiplies by exp(-2^k). */
static inline int32_t md_exp_on_negative_values(int32_t a, int32_t integer_bits)
{
    /* exp(-2^k) in Q0.31 for k = -2 .. 4 */
    static const int32_t exp_of_minus_powers_of_two[7] = {
        1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242,
    };
    const int32_t fractional_bits = 31 - integer_bits;
    const int32_t one_quarter = (int32_t)1 << (fractional_bits - 2);
    const int32_t a_mod_quarter_minus_one_quarter = (a & (one_quarter - 1)) - one_quarter;
    const int32_t remainder = a_mod_quarter_minus_one_quarter - a;
    int32_t result = md_exp_on_interval_between_negative_one_quarter_and_0_excl(
        md_rescale(a_mod_quarter_minus_one_quarter, integer_bits, 0));
    int32_t k;
    for (k = -2; k <= 4; ++k) {
        if (integer_bits > k && (remainder & ((int32_t)1 << (fractional_bits + k))) != 0) {
            result = md_srdhm(result, exp_of_minus_powers_of_two[k + 2]);
        }
    }
    if (integer_bits > 5 && a < -((int32_t)1 << (36 - integer_bits))) {
        result = 0;
    }
    return a == 0 ? MD_FIXED_ONE : result;
}

/* 2 / (1 + a) with 2 integer bits for a in [0, 1): three Newton-Raphson steps on (1 + a) / 2. */
static inline int32_t md_newton_reciprocal_of_half_denominator(int32_t a)
{
    const int32_t newton_start = 1515870810;  /* 48/17 in Q2.29 */
    const int32_t newton_slope = -1010580540; /* -32/17 in Q2.29 */
    const int32_t half_denominator = md_rounding_half_sum(a, MD_FIXED_ONE);
    int32_t x = newton_start + md_srdhm(half_denominator, newton_slope);
    int32_t step;
    for (step = 0; step < 3; ++step) {
        const int32_t one_minus_half_denominator_times_x = (1 << 29) - md_srdhm(half_denominator, x);
        x = x + md_rescale(md_srdhm(x, one_minus_half_denominator_times_x), 4, 2);
    }
    return x;
}

/* 1 / (1 + a), all with 0 integer bits. */
static inline int32_t md_one_over_one_plus_x_for_x_in_0_1(int32_t a)
{
    return md_rescale(md_newton_reciprocal_of_half_denominator(a), 1, 0);
}

/* (1 - a) / (1 + a), 0 integer bits. */
static inline int32_t md_one_minus_x_over_one_plus_x_for_x_in_0_1(int32_t a)
{
    return md_rescale(md_newton_reciprocal_of_half_denominator(a) - (1 << 29), 2, 0);
}

/* tanh of a Q(integer_bits) value, result with 0 integer bits. */
static inline int32_t md_fixed_tanh(int32_t a, int32_t integer_bits)
{
    const int32_t minus_abs = a < 0 ? a : -a;
    const int32_t magnitude =
        md_one_minus_x_over_one_plus_x_for_x_in_0_1(md_exp_on_negative_values(minus_abs, integer_bits + 1));
    if (a == 0) {
        return 0;
    }
    return a < 0 ? -magnitude : magnitude;
}

/* logistic of a Q(integer_bits) value, result with 0 integer bits. */
static inline int32_t md_fixed_logistic(int32_t a, int32_t integer_bits)
{
    const int32_t minus_abs = a > 0 ? (int32_t)(0u - (uint32_t)a) : a;
    const int32_t of_abs = md_one_over_one_plus_x_for_x_in_0_1(md_exp_on_negative_values(minus_abs, integer_bits));
    if (a == 0) {
        return 1 << 30;
    }
    return a > 0 ? of_abs : MD_FIXED_ONE - of_abs;
}

/* Leading zero bits of x read as uint32 (32 for zero). */
static inline int32_t md_count_leading_zeros(uint32_t x)
{
    int32_t count = 0;
    if (x == 0) {
        return 32;
    }
#if defined(__GNUC__)
    if (sizeof(unsigned int) == sizeof(uint32_t)) {
        return (int32_t)__builtin_clz((unsigned int)x);
    }
#endif
    while ((x & UINT32_C(0x80000000)) == 0) {
        x <<= 1;
        ++count;
    }
    return count;
}

/* TFLite's GetReciprocal for x > 0 in Q(x_integer_bits): 1/x = result * 2^-(*num_bits_over_unit),
 * result in [1/2, 1) with 0 integer bits. */
static inline int32_t md_get_reciprocal(int32_t x, int32_t x_integer_bits, int32_t *num_bits_over_unit)
{
    const int32_t headroom_plus_one = md_count_leading_zeros((uint32_t)x);
    const int32_t shifted_minus_one = (int32_t)(((uint32_t)x << headroom_plus_one) - UINT32_C(0x80000000));
    *num_bits_over_unit = x_integer_bits - headroom_plus_one;
    return md_one_over_one_plus_x_for_x_in_0_1(shifted_minus_one);
}

/* a - b saturated to int32. */
static inline int32_t md_saturating_sub(int32_t a, int32_t b)
{
    const int64_t difference = (int64_t)a - b;
    return difference > INT32_MAX ? INT32_MAX : (difference < INT32_MIN ? INT32_MIN : (int32_t)difference);
}

/* TFLite's log_x_for_x_greater_than_or_equal_to_1: ln(x) of a Q(input_integer_bits) x >= 1 in
 * Q(output_integer_bits). x is normalised by its leading zeros (as is, and times sqrt(1/2),
 * keeping the better one); ln of the mantissa comes from a rational approximation around
 * sqrt(sqrt(1/2)), the exponent adds multiples of ln 2 (summed with one bit of headroom). */
static inline int32_t md_log_x_for_x_greater_than_or_equal_to_1(int32_t x, int32_t input_integer_bits,
                                                                int32_t output_integer_bits)
{
    const int32_t accum_bits = output_integer_bits + 1;
    const int32_t log_2 = 1488522236;
    const int32_t sqrt_sqrt_half = 1805811301;
    const int32_t sqrt_half = 1518500250;
    const int32_t alpha_n = 117049297;
    const int32_t alpha_d = 127690142;
    const int32_t alpha_i = 1057819769;
    const int32_t alpha_f = 638450708;
    const int32_t shifted_quarter = md_rescale(INT32_C(1) << 29, 0, accum_bits);
    const int32_t z_a_headroom_plus_1 = md_count_leading_zeros((uint32_t)x);
    const int32_t r_a_tmp = md_saturating_rounding_multiply_by_pot(x, z_a_headroom_plus_1 - 1);
    const int32_t r_a_raw = md_saturating_rounding_multiply_by_pot(md_srdhm(r_a_tmp, sqrt_half), 1);
    const int32_t z_a_pow_2_adj = md_saturating_add(
        md_saturating_rounding_multiply_by_pot(input_integer_bits - z_a_headroom_plus_1, 31 - accum_bits),
        shifted_quarter);
    const int32_t z_b = md_srdhm(x, sqrt_half);
    const int32_t z_b_headroom = md_count_leading_zeros((uint32_t)z_b) - 1;
    const int32_t r_b_raw = md_saturating_rounding_multiply_by_pot(x, z_b_headroom);
    const int32_t z_b_pow_2_adj = md_saturating_sub(
        md_saturating_rounding_multiply_by_pot(input_integer_bits - z_b_headroom, 31 - accum_bits), shifted_quarter);
    const int32_t r = r_a_raw < r_b_raw ? r_a_raw : r_b_raw;
    const int32_t z_pow_2_adj = z_a_pow_2_adj > z_b_pow_2_adj ? z_a_pow_2_adj : z_b_pow_2_adj;
    const int32_t p = md_rounding_half_sum(r, sqrt_sqrt_half);
    const int32_t q = (int32_t)(2u * (uint32_t)(r - sqrt_sqrt_half));
    const int32_t common_sq = md_srdhm(q, q);
    const int32_t num = (int32_t)((uint32_t)md_srdhm(q, r) + (uint32_t)md_srdhm(md_srdhm(q, common_sq), alpha_n));
    const int32_t denominator_factor =
        (int32_t)((uint32_t)alpha_i + (uint32_t)q + (uint32_t)md_srdhm(alpha_d, common_sq));
    const int32_t denominator_minus_one =
        (int32_t)((uint32_t)md_srdhm(p, denominator_factor) + (uint32_t)md_srdhm(alpha_f, q));
    const int32_t reciprocal = md_one_over_one_plus_x_for_x_in_0_1(denominator_minus_one);
    const int32_t total = (int32_t)((uint32_t)md_srdhm(z_pow_2_adj, log_2) +
                                    (uint32_t)md_srdhm(md_rescale(num, 0, accum_bits), reciprocal));
    return md_rescale(total, accum_bits, output_integer_bits);
}

/* ---- int16 helpers of the int16 activation kernels ---- */

/* A C cast of an int32 to int16_t: two's complement wrap. */
static inline int32_t md_wrap_int16(int32_t x) { return (int32_t)(int16_t)(uint16_t)(uint32_t)x; }

static inline int32_t md_truncating_divide_by_2_15(int32_t x) { return x >= 0 ? x >> 15 : -((-x) >> 15); }

/* round(a * b / 2^15) on int16 values, saturated. */
static inline int32_t md_srdhm_int16(int32_t a, int32_t b)
{
    const int32_t product = a * b;
    if (a == INT16_MIN && b == INT16_MIN) {
        return INT16_MAX;
    }
    return md_wrap_int16(md_truncating_divide_by_2_15(product + (product >= 0 ? (1 << 14) : 1 - (1 << 14))));
}

/* a * b / 2^15 truncated toward zero, saturated (the non-rounding variant hard swish uses). */
static inline int32_t md_sdhm_int16(int32_t a, int32_t b)
{
    if (a == INT16_MIN && b == INT16_MIN) {
        return INT16_MAX;
    }
    return md_wrap_int16(md_truncating_divide_by_2_15(a * b));
}

/* RoundingDivideByPOT on int16: from exponent 16 on the int16 mask is -1. */
static inline int32_t md_rdbpot_int16(int32_t x, int32_t exponent)
{
    const int32_t mask = md_wrap_int16((int32_t)((UINT32_C(1) << exponent) - 1u));
    const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return md_wrap_int16((x >> exponent) + ((x & mask) > threshold ? 1 : 0));
}

/* x * 2^amount clamped to int16. */
static inline int32_t md_saturating_left_shift_int16(int32_t x, int32_t amount)
{
    return md_clamp_i32((int32_t)((uint32_t)x << amount), INT16_MIN, INT16_MAX);
}

/* TFLite's LUTLookup for int16: the segment's base plus the rounded interpolated slope. */
static inline int32_t md_lut_lookup_int16(int32_t value, const int16_t *lut)
{
    const int32_t index = 256 + (value >> 7);
    const int32_t base = lut[index];
    const int32_t slope = md_wrap_int16(lut[index + 1] - base);
    const int32_t delta = (slope * (value & 0x7F) + 64) >> 7;
    return md_wrap_int16(base + delta);
}

#endif /* MD_FIXEDPOINT_H */
