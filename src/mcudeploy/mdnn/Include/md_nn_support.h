/* SPDX-License-Identifier: Apache-2.0 */
/* mdnn's internal support header: what the kernels share and a caller never needs (as CMSIS-NN's
 * arm_nnsupportfunctions.h). Applications include md_nn.h only; this header may change with any
 * release.
 *
 * - the instruction-set path a build takes (MD_PATH_*), and compiler hints;
 * - element access, wrapping and saturating int32 arithmetic;
 * - the fixed-point arithmetic of TFLite's integer kernels (mirroring mcudeploy.engine.fixedpoint);
 * - the sliding-window geometry and the loop drivers the window, broadcast and reduce kernels share;
 * - the helpers of the DSP-extension and Helium (MVE) paths, compiled on those paths only.
 */
#ifndef MD_NN_SUPPORT_H
#define MD_NN_SUPPORT_H

#include "md_nn.h"

/* ---- the instruction-set path and compiler hints */

/* The instruction-set path a build takes, from the compiler's target macros alone, so that one
 * project builds for any core and runs the best path that core has: every family with ISA paths
 * ships them all (md_<family>.c, md_<family>_dsp.c, md_<family>_mve.c, defining the same
 * functions), and each source compiles to nothing unless it is the path taken. Paths not taken
 * cost no flash.
 * - MD_PATH_MVE: integer Helium (Cortex-M55, M85; a soft-float ABI turns MVE off);
 * - MD_PATH_DSP: the DSP extension without MVE (Cortex-M4, M7, M33, M35P);
 * - neither: portable C99 (Cortex-M0, M0+, M3, M23, host builds, and any build defining
 *   MD_PORTABLE). */
#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1) && !defined(MD_PORTABLE)
#define MD_PATH_MVE 1
#else
#define MD_PATH_MVE 0
#endif
#if defined(__ARM_FEATURE_DSP) && !MD_PATH_MVE && !defined(MD_PORTABLE)
#define MD_PATH_DSP 1
#else
#define MD_PATH_DSP 0
#endif
/* MD_DUAL_ISSUE: the DSP path built for a dual-issue core, the Cortex-M7 (told from the M4 and M33
 * by its double-precision FPU, __ARM_FP bit 3 on Armv7E-M): kernels take schedules that pair its
 * instructions where the M4's and M33's would cost more cycles. */
#if MD_PATH_DSP && defined(__ARM_FP) && (__ARM_FP & 8) && defined(__ARM_ARCH) && __ARM_ARCH == 7
#define MD_DUAL_ISSUE 1
#else
#define MD_DUAL_ISSUE 0
#endif

/* Names the path a family's build took in the firmware's symbol table (md_path_conv_dsp, ...), so
 * that `mcudeploy doctor` can tell from an ELF which kernels it runs: an absolute symbol, no flash. */
#if defined(__GNUC__)
#define MD_PATH_SYMBOL(name) __asm__(".globl " #name "\n.set " #name ", 1")
#else
#define MD_PATH_SYMBOL(name) MD_STATIC_CHECK(name, 1)
#endif

/* Kernels whose loops must own the registers stay out of line (MD_NOINLINE); small helpers whose
 * flags must become constants are always inlined (MD_ALWAYS_INLINE). */
#if defined(__GNUC__)
#define MD_NOINLINE __attribute__((noinline))
#define MD_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define MD_NOINLINE
#define MD_ALWAYS_INLINE inline
#endif

MD_STATIC_CHECK(arithmetic_right_shift, (-1 >> 1) == -1);

/* ---- element access and int32 arithmetic */

static inline int32_t md_min_i32(int32_t a, int32_t b) { return a < b ? a : b; }

static inline int32_t md_max_i32(int32_t a, int32_t b) { return a > b ? a : b; }

static inline int32_t md_clamp_i32(int32_t value, int32_t low, int32_t high)
{
    return value < low ? low : (value > high ? high : value);
}

/* int32 addition and subtraction with two's complement wrap-around (what TFLite's int32 arithmetic does). */
static inline int32_t md_wrap_add(int32_t a, int32_t b) { return (int32_t)((uint32_t)a + (uint32_t)b); }

static inline int32_t md_wrap_sub(int32_t a, int32_t b) { return (int32_t)((uint32_t)a - (uint32_t)b); }

static inline int32_t md_wrap_mul(int32_t a, int32_t b) { return (int32_t)((uint32_t)a * (uint32_t)b); }

static inline int64_t md_saturate_i64(int64_t value, int64_t low, int64_t high)
{
    return value < low ? low : (value > high ? high : value);
}

/* Element `index` of an array of an integer `dtype`, as int32. */
static inline int32_t md_load(const void *data, int32_t index, md_dtype dtype)
{
    switch (dtype) {
    case MD_INT8:
        return ((const int8_t *)data)[index];
    case MD_UINT8:
        return ((const uint8_t *)data)[index];
    case MD_INT16:
        return ((const int16_t *)data)[index];
    default:
        return ((const int32_t *)data)[index];
    }
}

/* Element `index` of an int8 or int16 array (activations of the window kernels): a cheaper test. */
static inline int32_t md_load_activation(const void *data, int32_t index, md_dtype dtype)
{
    return dtype == MD_INT16 ? ((const int16_t *)data)[index] : ((const int8_t *)data)[index];
}

/* Stores `value` into an array of an integer `dtype`, saturated to the type's range. */
static inline void md_store_saturated(void *data, int32_t index, md_dtype dtype, int64_t value)
{
    switch (dtype) {
    case MD_INT8:
        ((int8_t *)data)[index] = (int8_t)md_saturate_i64(value, INT8_MIN, INT8_MAX);
        break;
    case MD_UINT8:
        ((uint8_t *)data)[index] = (uint8_t)md_saturate_i64(value, 0, UINT8_MAX);
        break;
    case MD_INT16:
        ((int16_t *)data)[index] = (int16_t)md_saturate_i64(value, INT16_MIN, INT16_MAX);
        break;
    default:
        ((int32_t *)data)[index] = (int32_t)md_saturate_i64(value, INT32_MIN, INT32_MAX);
        break;
    }
}

/* Number of elements of a shape. */
static inline int32_t md_shape_size(const int32_t *shape, int32_t rank)
{
    int32_t size = 1;
    int32_t d;
    for (d = 0; d < rank; ++d) {
        size *= shape[d];
    }
    return size;
}

/* ---- the fixed-point arithmetic of TFLite's integer kernels.
 *
 * Our C versions of mcudeploy.engine.fixedpoint, function for function, so that
 * every kernel computes what the reference engine computes, bit for bit. Double
 * rounding (TFLite Micro's default): a requantization is a saturating rounding
 * doubling high multiply, then a rounding divide by a power of two.
 *
 * A Q-format value is the raw int32 of real = raw / 2^(31 - integer_bits).
 */

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

/* The multiplier of md_mbqm64, reduced to 16 bits. */
static inline int64_t md_multiplier16(int32_t multiplier)
{
    return multiplier < 0x7FFF0000 ? ((int64_t)multiplier + (1 << 15)) >> 16 : 0x7FFF;
}

/* md_mbqm64 from the reduced multiplier (md_multiplier16) and the rounding shift 15 - shift: kernels
 * that requantize many sums of one channel compute those two once. */
static inline int32_t md_mbqm64_reduced(int64_t x, int64_t reduced, int32_t total_shift)
{
    const int64_t rounded = md_wrap_add64((int64_t)((uint64_t)x * (uint64_t)reduced), INT64_C(1) << (total_shift - 1));
    return (int32_t)(uint32_t)(uint64_t)(rounded >> total_shift);
}

/* TFLite's MultiplyByQuantizedMultiplier for int64 accumulators (16x8 kernels): the multiplier
 * reduced to 16 bits, one rounding shift; shift below 15 (the generator checks). The product and
 * the rounding wrap modulo 2^64 as the reference engine's int64 arithmetic does (TFLite assumes
 * |x| < 2^47, which an extreme int64 bias breaks). */
static inline int32_t md_mbqm64(int64_t x, int32_t multiplier, int32_t shift)
{
    return md_mbqm64_reduced(x, md_multiplier16(multiplier), 15 - shift);
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

/* TFLite's GetInvSqrtQuantizedMultiplierExp (reverse shift -1) for value > 1: the value normalised
 * into [2^27, 2^29), five Newton-Raphson steps x = 3/2 x - value/2 x^3 in Q3 from 1, times sqrt(2)/2. */
static inline int32_t md_inv_sqrt_multiplier(int32_t value, int32_t *shift)
{
    const int32_t half_three = (1 << 28) + (1 << 27);
    int32_t right_shift = 11;
    int32_t pairs, half_input, x = 1 << 28;
    int32_t i;
    while (value >= (1 << 29)) {
        value /= 4;
        ++right_shift;
    }
    pairs = (md_count_leading_zeros((uint32_t)value) - 1) / 2 - 1;
    right_shift -= pairs;
    value <<= 2 * pairs;
    half_input = md_saturating_rounding_multiply_by_pot(value >> 1, -1);
    for (i = 0; i < 5; ++i) {
        const int32_t cube = md_rescale(md_srdhm(md_srdhm(x, x), x), 9, 3);
        x = md_rescale(md_wrap_sub(md_srdhm(half_three, x), md_srdhm(half_input, cube)), 6, 3);
    }
    x = md_srdhm(x, 1518500250); /* sqrt(2) / 2 in Q0.31 */
    if (right_shift < 0) {
        x = (int32_t)((uint32_t)x << -right_shift);
        right_shift = 0;
    }
    *shift = -right_shift;
    return x;
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

/* Whether a 16x8 kernel's sums are exact in int32 (TFLite accumulates them in int64): an int16 value is
 * at most 2^15 in magnitude, so a sum is at most 2^15 * sum(|w|) for its weights w, below 2^31 while
 * sum(|w|) < 2^16 (always so for at most 511 products of int8 weights). Wrapping int32 additions then
 * give the exact sum in any order. Weight k of channel c is weights[c * channel_step + k * step],
 * `count` weights a channel. */
static inline int md_s16_sums_fit_int32(const int8_t *weights, int32_t channels, int32_t count, int32_t channel_step,
                                        int32_t step)
{
    int32_t c;
    int32_t k;
    if (count < 512) {
        return 1;
    }
    for (c = 0; c < channels; ++c) {
        int32_t magnitude = 0;
        for (k = 0; k < count && magnitude < 65536; ++k) {
            const int32_t w = weights[c * channel_step + k * step];
            magnitude += w < 0 ? -w : w;
        }
        if (magnitude >= 65536) {
            return 0;
        }
    }
    return 1;
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

/* ---- float32 helpers of the float kernels. */

/* The fused activation of a float kernel. Without a bound the generator passes +-FLT_MAX, as
 * TFLite does, so infinities become +-FLT_MAX; NaN stays NaN. */
static inline float md_clamp_f32(float value, float low, float high)
{
    return value < low ? low : (value > high ? high : value);
}

/* ---- the sliding-window geometry (md_window_params) and its loop drivers */

/* Where an output pixel's window starts in the input (may be negative: padding). */
static inline int32_t md_window_origin(int32_t out_index, int32_t stride, int32_t pad)
{
    return out_index * stride - pad;
}

static inline int md_inside(int32_t index, int32_t size) { return index >= 0 && index < size; }

/* The taps [*first, *last) of one filter dimension that fall inside the input (of `size`) for
 * output index `out`: the window origin is out * stride - pad, tap t reads origin + t * dilation. */
static inline void md_tap_range(int32_t out, int32_t stride, int32_t pad, int32_t dilation, int32_t filter,
                                int32_t size, int32_t *first, int32_t *last)
{
    const int32_t origin = md_window_origin(out, stride, pad);
    int32_t low = 0;
    int32_t high = filter;
    while (low < high && origin + low * dilation < 0) {
        ++low;
    }
    while (high > low && origin + (high - 1) * dilation >= size) {
        --high;
    }
    *first = low;
    *last = high;
}

/* The taps of output pixel (oy, ox) inside the image: rows [y_first, y_last), columns [x_first, x_last);
 * tap (fy, fx) reads input pixel (y0 + fy * dilation_h) * input_w + x0 + fx * dilation_w. */
typedef struct {
    int32_t y_first, y_last, x_first, x_last;
    int32_t y0, x0;
} md_taps;

static inline md_taps md_window_taps(const md_window_params *p, int32_t oy, int32_t ox)
{
    md_taps taps;
    md_tap_range(oy, p->stride_h, p->pad_top, p->dilation_h, p->filter_h, p->input_h, &taps.y_first, &taps.y_last);
    md_tap_range(ox, p->stride_w, p->pad_left, p->dilation_w, p->filter_w, p->input_w, &taps.x_first, &taps.x_last);
    taps.y0 = md_window_origin(oy, p->stride_h, p->pad_top);
    taps.x0 = md_window_origin(ox, p->stride_w, p->pad_left);
    return taps;
}

static inline int32_t md_taps_pixel(const md_window_params *p, const md_taps *taps, int32_t fy, int32_t fx)
{
    return (taps->y0 + fy * p->dilation_h) * p->input_w + taps->x0 + fx * p->dilation_w;
}

/* Pixel (iy * input_w + ix) under tap (fy, fx) of output pixel (oy, ox), or -1 outside the image. */
static inline int32_t md_tap_pixel(const md_window_params *p, int32_t oy, int32_t ox, int32_t fy, int32_t fx)
{
    const int32_t iy = md_window_origin(oy, p->stride_h, p->pad_top) + fy * p->dilation_h;
    const int32_t ix = md_window_origin(ox, p->stride_w, p->pad_left) + fx * p->dilation_w;
    return md_inside(iy, p->input_h) && md_inside(ix, p->input_w) ? iy * p->input_w + ix : -1;
}

/* Index in the input of the first channel under tap (fy, fx) of output pixel (oy, ox) of `batch`,
 * or -1 when the tap falls outside the image (padding). */
static inline int32_t md_tap_index(const md_window_params *p, int32_t batch, int32_t oy, int32_t ox, int32_t fy,
                                   int32_t fx)
{
    const int32_t pixel = md_tap_pixel(p, oy, ox, fy, fx);
    return pixel < 0 ? -1 : (batch * p->input_h * p->input_w + pixel) * p->input_c;
}

/* Channel-wise window kernels (depthwise convolution, pooling) compute, for one input channel of
 * one output pixel, the output channels it feeds. The value under a tap at input pixel i is
 * source[base + i * stride]: the input itself (stride input_c) or a copied plane (stride 1).
 * `out_index` is the output index of the first output channel fed. */
typedef void (*md_channel_fn)(void *job, const void *source, int32_t base, int32_t stride, int32_t oy, int32_t ox,
                              int32_t channel, int32_t out_index);

/* Pixel by pixel, channel by channel, reading the input in place: output (pixel, channel) is
 * written right after channel `channel` of its window is read. */
void md_window_stream(const md_window_params *p, void *job, md_channel_fn compute, const void *input);

/* Channel by channel from a copied plane: plane c of the input (element_bytes each) is copied to
 * `scratch`, then output plane c is computed from the copy. One output channel per input channel. */
void md_window_planes(const md_window_params *p, void *job, md_channel_fn compute, const void *input,
                      int32_t element_bytes, void *scratch);

/* ---- the CONV_2D loop driver (md_conv.c): im2col pixel pairs or the direct path */

/* How a kernel fills a column with a receptive field, and computes a pixel from one. */
typedef void (*md_fill_column_fn)(void *job, int32_t batch, int32_t oy, int32_t ox, void *column);
typedef void (*md_compute_pixel_fn)(void *job, const void *column, int32_t pixel);

/* Computes a pixel straight from the input. */
typedef void (*md_compute_direct_fn)(void *job, int32_t batch, int32_t oy, int32_t ox, int32_t pixel);

typedef struct {
    md_fill_column_fn fill;
    md_compute_pixel_fn compute;
    md_compute_direct_fn direct;
    size_t column_bytes;
} md_conv_kernel;

/* With scratch: fill and compute over every pair of consecutive output pixels of every batch.
 * Without: direct over every output pixel. */
void md_conv_run(const md_window_params *p, void *job, const md_conv_kernel *kernel, void *scratch);

/* ---- the broadcasting loop of the element-wise kernels */

/* Computes `count` output elements from index `out` on, reading the inputs from `index1` and
 * `index2` on with element strides `step1` and `step2` (0 or 1 ...). */
typedef void (*md_row_fn)(const void *params, const void *input1, int32_t index1, int32_t step1, const void *input2,
                          int32_t index2, int32_t step2, void *output, int32_t out, int32_t count);

/* Calls `row` once per innermost row of the output, in output order. */
void md_broadcast_rows(const md_broadcast *shape, const void *params, md_row_fn row, const void *input1,
                       const void *input2, void *output);

/* ---- the row walk of the reduce kernels */

/* Calls `visit` for each innermost input row: its first input index, the output index of its
 * first value and the output stride along the row. */
typedef void (*md_reduce_row_fn)(const md_reduce_params *p, void *job, int32_t input_index, int32_t output_index,
                                 int32_t output_step, int32_t count);
void md_reduce_rows(const md_reduce_params *p, void *job, md_reduce_row_fn visit);

#if MD_PATH_DSP
/* ---- helpers of the DSP-extension variants (MD_PATH_DSP: Cortex-M4, M7, M33).
 *
 * An int8 dot product runs on SMLAD, two 16x16-bit multiplies added into a 32-bit
 * accumulator. SXTB16 sign-extends bytes 0 and 2 of a word into two halfwords, and
 * bytes 1 and 3 once the word is rotated by 8 bits: a group of 4 int8 values
 * {v0, v1, v2, v3} thus becomes the pairs {v0, v2} and {v1, v3}. Operands that meet
 * such weights must be laid out in the same order: md_dsp_pair_order.
 *
 * SMLAD wraps modulo 2^32 like the portable kernels' int32 accumulators (it only sets
 * the Q flag), so the sums are bit-exact in any order.
 */

#include <string.h>

#include <arm_acle.h>

/* A 32-bit word from any address: the DSP cores allow unaligned single loads (one LDR). */
static inline uint32_t md_read32(const void *address)
{
    uint32_t word;
    memcpy(&word, address, sizeof word);
    return word;
}

static inline void md_write32(void *address, uint32_t word) { memcpy(address, &word, sizeof word); }

/* GCC 12's arm_acle.h has no __ror; this compiles to one ROR. */
static inline uint32_t md_ror(uint32_t value, uint32_t bits) { return (value >> bits) | (value << ((32u - bits) & 31u)); }

/* The halfword pairs {v0, v2} (even) and {v1, v3} (odd) of 4 int8 values. */
static inline int16x2_t md_even_pair(uint32_t bytes) { return __sxtb16((int8x4_t)bytes); }

/* SXTB16 and SXTAB16 rotate their operand themselves; GCC 12 emits a separate ROR for
 * __sxtb16(md_ror(x, 8)), hence the inline assembly. */
static inline int16x2_t md_odd_pair(uint32_t bytes)
{
    int16x2_t pair;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(pair) : "r"(bytes));
    return pair;
}

/* {v0 + a0, v2 + a1} and {v1 + a0, v3 + a1} for 4 int8 values and the halfwords {a0, a1}. */
static inline int16x2_t md_even_pair_add(int16x2_t addend, uint32_t bytes)
{
    return __sxtab16(addend, (int8x4_t)bytes);
}

static inline int16x2_t md_odd_pair_add(int16x2_t addend, uint32_t bytes)
{
    int16x2_t pair;
    __asm__("sxtab16 %0, %1, %2, ror #8" : "=r"(pair) : "r"(addend), "r"(bytes));
    return pair;
}

/* Where element j of a group of 4 goes so that int16 operands line up with md_even_pair (words
 * 0) and md_odd_pair (word 1) of the int8 weights: {v0, v2, v1, v3}. */
static inline int32_t md_dsp_pair_order(int32_t j) { return (j & ~3) | ((j & 1) << 1) | ((j & 2) >> 1); }

/* The requantization constants of a weighted layer, copied out of its job: int8 stores may alias
 * the job, which would otherwise reload every field for every output. */
typedef struct {
    const int32_t *bias; /* or NULL */
    const int32_t *multipliers, *shifts;
    int32_t channel_step; /* 1: per-channel scales, 0: one for the tensor */
    int32_t offset, low, high;
} md_dsp_requant;

static inline md_dsp_requant md_dsp_requant_of(const int32_t *bias, const int32_t *multipliers, const int32_t *shifts,
                                               int32_t per_channel, int32_t offset, int32_t low, int32_t high)
{
    md_dsp_requant r;
    r.bias = bias;
    r.multipliers = multipliers;
    r.shifts = shifts;
    r.channel_step = per_channel ? 1 : 0;
    r.offset = offset;
    r.low = low;
    r.high = high;
    return r;
}

/* Output channel `channel` from its sum (bias included). */
static inline int32_t md_dsp_requantize(const md_dsp_requant *r, int32_t channel, int32_t sum)
{
    const int32_t q = channel * r->channel_step;
    return md_requantize32(sum, r->multipliers[q], r->shifts[q], r->offset, r->low, r->high);
}

static inline int32_t md_dsp_bias(const md_dsp_requant *r, int32_t channel)
{
    return r->bias ? r->bias[channel] : 0;
}

/* The largest |(value + input offset) * weight| of an int8 layer: 255 * 128. */
#define MD_DSP_PRODUCT_BOUND 32640

/* Whether every sum of a layer stays below 2^30 in magnitude (its bias plus `products` products
 * of at most MD_DSP_PRODUCT_BOUND each) and every shift is negative: then md_dsp_requantize_mode
 * gives each output. Checked once per call, over the channels' biases and shifts. */
static inline int md_dsp_narrow_layer(const int32_t *bias, const int32_t *shifts, int32_t channels,
                                      int32_t per_channel, int32_t products)
{
    const int64_t room = (INT64_C(1) << 30) - (int64_t)products * MD_DSP_PRODUCT_BOUND;
    int32_t c;
    for (c = 0; c < (per_channel ? channels : 1); ++c) {
        if (shifts[c] >= 0) {
            return 0;
        }
    }
    for (c = 0; bias != NULL && c < channels; ++c) {
        if ((bias[c] < 0 ? -(int64_t)bias[c] : (int64_t)bias[c]) >= room) {
            return 0;
        }
    }
    return room > 0;
}

/* How a layer's outputs are requantized: md_requantize32 (GENERAL); for a narrow layer
 * (md_dsp_narrow_layer) the doubling high multiply is one SMMULR of the doubled sum,
 * (2x * m + 2^31) >> 32 = (x * m + 2^30) >> 31 exactly while 2x fits (and no saturation), then
 * md_rdbpot_fast by -shift (NARROW), clamped by one SSAT when the range is all of int8 (NARROW_INT8).
 * Kernels take the mode as a constant in specialised copies of their loops. */
enum { MD_DSP_GENERAL = 0, MD_DSP_NARROW = 1, MD_DSP_NARROW_INT8 = 2 };

static inline int md_dsp_mode(int narrow, int32_t low, int32_t high)
{
    if (!narrow) {
        return MD_DSP_GENERAL;
    }
    return low == -128 && high == 127 ? MD_DSP_NARROW_INT8 : MD_DSP_NARROW;
}

static MD_ALWAYS_INLINE int32_t md_dsp_requantize_mode(int mode, int32_t sum, int32_t multiplier, int32_t shift,
                                                       int32_t offset, int32_t low, int32_t high)
{
    int32_t product;
    if (mode == MD_DSP_GENERAL) {
        return md_requantize32(sum, multiplier, shift, offset, low, high);
    }
    __asm__("smmulr %0, %1, %2" : "=r"(product) : "r"(sum * 2), "r"(multiplier));
    product = md_rdbpot_fast(product, -shift) + offset;
    return mode == MD_DSP_NARROW_INT8 ? __ssat(product, 8) : md_clamp_i32(product, low, high);
}

#endif /* MD_PATH_DSP */

#if MD_PATH_MVE
/* ---- helpers of the MVE (Helium) variants (Cortex-M55, M85).
 *
 * Bit-exactness rests on two facts:
 * - int8 dot products add (x + offset) * w; we add x * w and offset * sum(w) instead, which
 *   is the same modulo 2^32, and the portable int32 accumulators wrap modulo 2^32 too;
 * - VQRDMULH is exactly md_srdhm (saturating only for INT32_MIN * INT32_MIN), and VRSHL by a
 *   negative amount rounds ties up where md_rdbpot rounds them away from zero: subtracting 1
 *   from negative values first (saturating) turns one rounding into the other, and changes
 *   nothing else since only a tie sits exactly on a rounding boundary.
 */

#include <arm_mve.h>

/* What turns a weighted kernel's int32 sums into int8 outputs (see md_requantize_sum). */
typedef struct {
    const int32_t *bias; /* or NULL */
    const int32_t *multipliers;
    const int32_t *shifts;
    int32_t per_channel;
    int32_t output_offset;
    int32_t low, high; /* the activation range, within int8 */
} md_mve_requant;

static inline md_mve_requant md_mve_requant_s8(const int32_t *bias, const int32_t *multipliers, const int32_t *shifts,
                                               int32_t per_channel, int32_t output_offset, int32_t act_min,
                                               int32_t act_max)
{
    md_mve_requant r;
    r.bias = bias;
    r.multipliers = multipliers;
    r.shifts = shifts;
    r.per_channel = per_channel;
    r.output_offset = output_offset;
    /* Clamping to the activation range, then saturating to int8, is clamping to both at once. */
    r.low = md_max_i32(act_min, INT8_MIN);
    r.high = md_min_i32(act_max, INT8_MAX);
    return r;
}

/* md_mbqm on 4 lanes, each with its own multiplier and shift. */
static inline int32x4_t md_mve_mbqm(int32x4_t x, int32x4_t multiplier, int32x4_t shift)
{
    const int32x4_t zero = vdupq_n_s32(0);
    const int32x4_t right = vminq_s32(shift, zero); /* <= 0: VRSHL by it shifts right */
    const int32x4_t high = vqrdmulhq_s32(vshlq_s32(x, vmaxq_s32(shift, zero)), multiplier);
    const int32x4_t minus_one_if_negative = vshrq_n_s32(vandq_s32(high, right), 31); /* 0 without a right shift */
    return vrshlq_s32(vqaddq_s32(high, minus_one_if_negative), right);
}

/* md_mve_mbqm with one multiplier and shift for every lane, given as scalars (fewer vector
 * registers held across a pixel loop). */
static inline int32x4_t md_mve_mbqm_n(int32x4_t x, int32_t multiplier, int32_t shift)
{
    if (md_unlikely(shift >= 0)) { /* layers scale down: the right shift falls through */
        return vqrdmulhq_n_s32(vshlq_r_s32(x, shift), multiplier);
    }
    x = vqrdmulhq_n_s32(x, multiplier);
    return vrshlq_n_s32(vqaddq_s32(x, vshrq_n_s32(x, 31)), shift);
}

/* {a, b, c, d} as one vector: with GCC in two VMOV of a pair of registers to a pair of lanes (GCC 12
 * builds it lane by lane: four instructions). */
static inline int32x4_t md_mve_vector4(int32_t a, int32_t b, int32_t c, int32_t d)
{
#if defined(__GNUC__)
    int32x4_t v;
    __asm__("vmov %q0[2], %q0[0], %1, %3\n\tvmov %q0[3], %q0[1], %2, %4"
            : "=w"(v)
            : "r"(a), "r"(b), "r"(c), "r"(d));
    return v;
#else
    int32x4_t v = vdupq_n_s32(a);
    v = vsetq_lane_s32(b, v, 1);
    v = vsetq_lane_s32(c, v, 2);
    return vsetq_lane_s32(d, v, 3);
#endif
}

/* The requantized sums, given each lane's multiplier and shift (the bias already added). */
static inline int32x4_t md_mve_requantize_lanes(const md_mve_requant *r, int32x4_t sums, int32x4_t multiplier,
                                                int32x4_t shift)
{
    sums = vaddq_n_s32(md_mve_mbqm(sums, multiplier, shift), r->output_offset);
    return vminq_s32(vmaxq_s32(sums, vdupq_n_s32(r->low)), vdupq_n_s32(r->high));
}

/* Each channel's requantization laid out once per call for vectors of four channels: its start
 * (bias + offset * sum(weights)), multiplier, left shift (>= 0) and right shift (<= 0: VRSHL by it
 * shifts right), as md_mve_mbqm splits them. */
typedef struct {
    const int32_t *starts, *multipliers, *lefts, *rights;
    int32_t output_offset;
    int32x4_t low, high;
} md_mve_lane_scales;

/* The channels' shifts split into `lefts` and `rights`, the multipliers laid out per channel (a
 * per-tensor one repeated), for `count` channels. */
static inline void md_mve_split_scales(const md_mve_requant *r, int32_t count, int32_t *multipliers, int32_t *lefts,
                                       int32_t *rights)
{
    int32_t c;
    for (c = 0; c < count; ++c) {
        const int32_t q = r->per_channel ? c : 0;
        multipliers[c] = r->multipliers[q];
        lefts[c] = md_max_i32(r->shifts[q], 0);
        rights[c] = md_min_i32(r->shifts[q], 0);
    }
}

/* Channels k .. k + 3 from their raw sums, as md_mve_requantize_lanes with the starts added. */
static inline int32x4_t md_mve_requantize_split(const md_mve_lane_scales *s, int32x4_t sums, int32_t k)
{
    const int32x4_t right = vldrwq_s32(s->rights + k);
    sums = vshlq_s32(vaddq_s32(sums, vldrwq_s32(s->starts + k)), vldrwq_s32(s->lefts + k));
    sums = vqrdmulhq_s32(sums, vldrwq_s32(s->multipliers + k));
    sums = vrshlq_s32(vqaddq_s32(sums, vshrq_n_s32(vandq_s32(sums, right), 31)), right);
    return vminq_s32(vmaxq_s32(vaddq_n_s32(sums, s->output_offset), s->low), s->high);
}

/* Requantizes the sums of channels first .. first + 3 (lanes past `lanes` are ignored). */
static inline int32x4_t md_mve_requantize(const md_mve_requant *r, int32x4_t sums, int32_t first, mve_pred16_t lanes)
{
    if (r->bias) {
        sums = vaddq_s32(sums, vldrwq_z_s32(r->bias + first, lanes));
    }
    if (r->per_channel) {
        return md_mve_requantize_lanes(r, sums, vldrwq_z_s32(r->multipliers + first, lanes),
                                       vldrwq_z_s32(r->shifts + first, lanes));
    }
    return md_mve_requantize_lanes(r, sums, vdupq_n_s32(r->multipliers[0]), vdupq_n_s32(r->shifts[0]));
}

/* Requantizes the sums of channels first + channels[0 .. 3] (gathered; lanes past `lanes` ignored). */
static inline int32x4_t md_mve_requantize_at(const md_mve_requant *r, int32x4_t sums, int32_t first,
                                             uint32x4_t channels, mve_pred16_t lanes)
{
    if (r->bias) {
        sums = vaddq_s32(sums, vldrwq_gather_shifted_offset_z_s32(r->bias + first, channels, lanes));
    }
    if (r->per_channel) {
        return md_mve_requantize_lanes(r, sums,
                                       vldrwq_gather_shifted_offset_z_s32(r->multipliers + first, channels, lanes),
                                       vldrwq_gather_shifted_offset_z_s32(r->shifts + first, channels, lanes));
    }
    return md_mve_requantize_lanes(r, sums, vdupq_n_s32(r->multipliers[0]), vdupq_n_s32(r->shifts[0]));
}

/* Outputs first .. first + count - 1 (count <= 4) from their sums, stored as int8 from `out`. */
static inline void md_mve_store_s8(const md_mve_requant *r, const int32_t *sums, int32_t first, int32_t count,
                                   int8_t *out)
{
    const mve_pred16_t lanes = vctp32q((uint32_t)count);
    vstrbq_p_s32(out, md_mve_requantize(r, vldrwq_s32(sums), first, lanes), lanes);
}

/* `count` bytes from `from` to `to`. */
static inline void md_mve_copy_s8(int8_t *to, const int8_t *from, int32_t count)
{
    while (count > 0) {
        const mve_pred16_t lanes = vctp8q((uint32_t)count);
        vstrbq_p_s8(to, vldrbq_z_s8(from, lanes), lanes);
        to += 16;
        from += 16;
        count -= 16;
    }
}

/* `count` bytes of `value` from `to` on. */
static inline void md_mve_fill_s8(int8_t *to, int8_t value, int32_t count)
{
    const int8x16_t values = vdupq_n_s8(value);
    while (count > 0) {
        vstrbq_p_s8(to, values, vctp8q((uint32_t)count));
        to += 16;
        count -= 16;
    }
}

/* The first `n` bytes from `from` in a vector, zeros after them (n < 16). */
static inline int8x16_t md_mve_load_tail_s8(const int8_t *from, int32_t n)
{
    return vldrbq_z_s8(from, vctp8q((uint32_t)n));
}

/* sums[2 * i + j] = sum((x_j[k] + offset) * w_i[k]) over k < n, modulo 2^32, for two inputs x_0 = a,
 * x_1 = b and two weight rows w_0 = w, w_1 = w + n: each vector loaded feeds two products. Whole
 * vectors first, then the tail (a predicate kept out of the main loop keeps it short). */
static inline void md_mve_dot2x2_s8(const int8_t *a, const int8_t *b, const int8_t *w, int32_t n, int32_t offset,
                                    int32_t *sums)
{
    const int8_t *v = w + n;
    int32_t a_w = 0;
    int32_t b_w = 0;
    int32_t a_v = 0;
    int32_t b_v = 0;
    int32_t w_sum = 0;
    int32_t v_sum = 0;
    int32_t i;
    for (i = n >> 4; i > 0; --i) {
        const int8x16_t av = vldrbq_s8(a);
        const int8x16_t bv = vldrbq_s8(b);
        const int8x16_t wv = vldrbq_s8(w);
        const int8x16_t vv = vldrbq_s8(v);
        a_w = vmladavaq_s8(a_w, av, wv);
        b_w = vmladavaq_s8(b_w, bv, wv);
        a_v = vmladavaq_s8(a_v, av, vv);
        b_v = vmladavaq_s8(b_v, bv, vv);
        w_sum = vaddvaq_s8(w_sum, wv);
        v_sum = vaddvaq_s8(v_sum, vv);
        a += 16;
        b += 16;
        w += 16;
        v += 16;
    }
    if (n & 15) {
        const int8x16_t av = md_mve_load_tail_s8(a, n & 15);
        const int8x16_t bv = md_mve_load_tail_s8(b, n & 15);
        const int8x16_t wv = md_mve_load_tail_s8(w, n & 15);
        const int8x16_t vv = md_mve_load_tail_s8(v, n & 15);
        a_w = vmladavaq_s8(a_w, av, wv);
        b_w = vmladavaq_s8(b_w, bv, wv);
        a_v = vmladavaq_s8(a_v, av, vv);
        b_v = vmladavaq_s8(b_v, bv, vv);
        w_sum = vaddvaq_s8(w_sum, wv);
        v_sum = vaddvaq_s8(v_sum, vv);
    }
    sums[0] = md_wrap_add(a_w, md_wrap_mul(offset, w_sum));
    sums[1] = md_wrap_add(b_w, md_wrap_mul(offset, w_sum));
    sums[2] = md_wrap_add(a_v, md_wrap_mul(offset, v_sum));
    sums[3] = md_wrap_add(b_v, md_wrap_mul(offset, v_sum));
}

/* sums[i] = sum((x[k] + offset) * w_i[k]) over k < n, modulo 2^32, for the two weight rows
 * w_0 = w and w_1 = w + step: each input vector loaded feeds two products. */
static inline void md_mve_dot1x2_step_s8(const int8_t *x, const int8_t *w, int32_t step, int32_t n, int32_t offset,
                                         int32_t *sums)
{
    const int8_t *v = w + step;
    int32_t x_w = 0;
    int32_t x_v = 0;
    int32_t w_sum = 0;
    int32_t v_sum = 0;
    int32_t i;
    for (i = n >> 4; i > 0; --i) {
        const int8x16_t xv = vldrbq_s8(x);
        const int8x16_t wv = vldrbq_s8(w);
        const int8x16_t vv = vldrbq_s8(v);
        x_w = vmladavaq_s8(x_w, xv, wv);
        x_v = vmladavaq_s8(x_v, xv, vv);
        w_sum = vaddvaq_s8(w_sum, wv);
        v_sum = vaddvaq_s8(v_sum, vv);
        x += 16;
        w += 16;
        v += 16;
    }
    if (n & 15) {
        const int8x16_t xv = md_mve_load_tail_s8(x, n & 15);
        const int8x16_t wv = md_mve_load_tail_s8(w, n & 15);
        const int8x16_t vv = md_mve_load_tail_s8(v, n & 15);
        x_w = vmladavaq_s8(x_w, xv, wv);
        x_v = vmladavaq_s8(x_v, xv, vv);
        w_sum = vaddvaq_s8(w_sum, wv);
        v_sum = vaddvaq_s8(v_sum, vv);
    }
    sums[0] = md_wrap_add(x_w, md_wrap_mul(offset, w_sum));
    sums[1] = md_wrap_add(x_v, md_wrap_mul(offset, v_sum));
}

/* md_mve_dot1x2_step_s8 with the weight rows side by side (w_1 = w + n). */
static inline void md_mve_dot1x2_s8(const int8_t *x, const int8_t *w, int32_t n, int32_t offset, int32_t *sums)
{
    md_mve_dot1x2_step_s8(x, w, n, n, offset, sums);
}

/* sum((a[k] + offset) * w[k]) over k < n, modulo 2^32. */
static inline int32_t md_mve_dot_s8(const int8_t *a, const int8_t *w, int32_t n, int32_t offset)
{
    int32_t acc = 0;
    int32_t weights = 0;
    int32_t i;
    for (i = n >> 4; i > 0; --i) {
        const int8x16_t wv = vldrbq_s8(w);
        acc = vmladavaq_s8(acc, vldrbq_s8(a), wv);
        weights = vaddvaq_s8(weights, wv);
        a += 16;
        w += 16;
    }
    if (n & 15) {
        const int8x16_t wv = md_mve_load_tail_s8(w, n & 15);
        acc = vmladavaq_s8(acc, md_mve_load_tail_s8(a, n & 15), wv);
        weights = vaddvaq_s8(weights, wv);
    }
    return md_wrap_add(acc, md_wrap_mul(offset, weights));
}
#endif /* MD_PATH_MVE */

#endif /* MD_NN_SUPPORT_H */
