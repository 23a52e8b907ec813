"""Fixed-point arithmetic of TFLite's integer kernels, vectorised over numpy arrays.

Every function takes and returns int64 arrays (or Python ints) holding values of
the C types they model, so that intermediate products never overflow in numpy.
TFLite Micro is built with double rounding (TFLITE_SINGLE_ROUNDING unset): a
requantization is a saturating rounding doubling high multiply followed by a
rounding divide by a power of two, exactly as below.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from mcudeploy.params.quantization import (
    INT32_MAX,
    INT32_MIN,
    multiply_by_quantized_multiplier,
    round_half_away,
    round_half_away_f32,
    rounding_divide_by_pot,
    saturating_rounding_doubling_high_mul,
    wrap_int32,
)
from mcudeploy.params.requantization import Requantization


def multiply_by_quantized_multiplier_int64(
    x: np.ndarray | int, multiplier: np.ndarray | int, shift: np.ndarray | int
) -> np.ndarray:
    """TFLite's MultiplyByQuantizedMultiplier for int64 x (16x8 kernels): a 16-bit
    reduced multiplier and a single rounding shift."""
    multiplier = np.asarray(multiplier, dtype=np.int64)
    shift = np.asarray(shift, dtype=np.int64)
    reduced = np.where(multiplier < 0x7FFF0000, (multiplier + (1 << 15)) >> 16, 0x7FFF)
    total_shift = 15 - shift
    rounded = np.asarray(x, dtype=np.int64) * reduced + (np.int64(1) << (total_shift - 1))
    return wrap_int32(rounded >> total_shift)


def multiply_by_quantized_multiplier_smaller_than_one_exp(
    x: np.ndarray | int, multiplier: np.ndarray | int, left_shift: np.ndarray | int
) -> np.ndarray:
    """TFLite's MultiplyByQuantizedMultiplierSmallerThanOneExp (left_shift <= 0)."""
    return rounding_divide_by_pot(saturating_rounding_doubling_high_mul(x, multiplier), -np.asarray(left_shift))


def multiply_by_quantized_multiplier_greater_than_one(
    x: np.ndarray | int, multiplier: np.ndarray | int, left_shift: np.ndarray | int
) -> np.ndarray:
    """TFLite's MultiplyByQuantizedMultiplierGreaterThanOne (left_shift >= 0)."""
    shifted = wrap_int32(np.asarray(x, dtype=np.int64) * (np.int64(1) << np.asarray(left_shift, dtype=np.int64)))
    return saturating_rounding_doubling_high_mul(shifted, multiplier)


def clamp_and_narrow(values: np.ndarray, low: np.integer, high: np.integer, dtype: np.dtype) -> np.ndarray:
    """`values` clamped to [low, high] (which `dtype` holds), then cast to `dtype`; `values` is
    overwritten. On small arrays np.clip's Python wrapper costs more than two plain ufunc calls;
    on large ones its single pass is faster."""
    if values.size <= _SMALL_ARRAY:
        np.minimum(values, high, out=values)
        np.maximum(values, low, out=values)
    else:
        np.clip(values, low, high, out=values)
    return values.astype(dtype)


_SMALL_ARRAY = 2048


def saturate(x: np.ndarray, dtype: np.dtype | type) -> np.ndarray:
    """Clamp to the range of an integer dtype and cast."""
    info = np.iinfo(dtype)
    return np.clip(x, info.min, info.max).astype(dtype)


# --- requantization of accumulators, prepared once per layer ----------------------


@dataclass(frozen=True)
class Requantizer:
    """Turns the sums of a conv or fully connected layer into its output: bias added in the
    accumulator's C type, MultiplyByQuantizedMultiplier per channel (last axis), output offset,
    clamp to the activation range, narrowing. Made once per layer by `make_requantizer`.
    """

    multipliers: np.ndarray
    shifts: np.ndarray
    bias: np.ndarray
    output_offset: int
    clamp: tuple[np.int64, np.int64]
    dtype: np.dtype
    wide: bool
    """The 16x8 kernels' int64 accumulator (int64 variant of the multiply, no int32 wrap)."""
    fused: _FusedRequantization | None

    def __call__(self, sums: np.ndarray) -> np.ndarray:
        """`sums`: Σ input · filter per output channel, as integers or as floats holding integers."""
        if self.fused is not None:
            return self.fused(sums, self.clamp, self.dtype)
        acc = sums.astype(np.int64) + self.bias
        if self.wide:
            scaled = multiply_by_quantized_multiplier_int64(acc, self.multipliers, self.shifts)
        else:
            scaled = multiply_by_quantized_multiplier(wrap_int32(acc), self.multipliers, self.shifts)
        return clamp_and_narrow(wrap_int32(scaled + self.output_offset), *self.clamp, self.dtype)


@dataclass(frozen=True)
class _FusedRequantization:
    """The int32 chain in one multiply, add and shift per value, exact where no step overflows.

    With v = floor((acc · m + 2^30) / 2^31) (the doubling high multiply, which cannot saturate
    for m >= 0), the rounding divide by 2^e is floor((v + 2^(e-1) - [v < 0]) / 2^e) and floor
    divisions nest, so the output is floor((sums · m + addend - [v < 0] · 2^31) / 2^(31+e)) with
    the bias and both rounding terms folded into `addend`, and the output offset too (times
    2^(31+e)) unless that could overflow int64. A left shift (e = 0) is folded into m.
    """

    multipliers: np.ndarray
    addends: np.ndarray
    negative_below: np.ndarray
    """v < 0 exactly when sums · m is below this."""
    negative_amounts: np.ndarray
    shifts: np.ndarray
    output_offset: int
    """The offset still to add after the shift: 0 when folded into the addends."""

    def __call__(self, sums: np.ndarray, clamp: tuple[np.int64, np.int64], dtype: np.dtype) -> np.ndarray:
        acc = np.multiply(sums, self.multipliers, dtype=np.int64, casting="unsafe")  # exact: whole-number sums
        negative = acc < self.negative_below
        acc += self.addends
        acc -= negative * self.negative_amounts  # a multiply: subtract(where=) is far slower
        acc >>= self.shifts
        if self.output_offset:
            acc += self.output_offset
        return clamp_and_narrow(acc, *clamp, dtype)


def make_requantizer(
    requantization: Requantization,
    bias: np.ndarray,
    output_offset: int,
    clamp: tuple[int, int],
    dtype: np.dtype,
    wide: bool = False,
    sum_bound: np.ndarray | None = None,
) -> Requantizer:
    """The channels' multipliers and shifts applied to the sums, with the integer `bias` (per
    channel or one value) added to them first.

    `sum_bound` (per channel: no |sum| exceeds it, nor any partial sum the caller accumulates in
    int32) lets the fused path run when it proves every step exact; without it, or when the
    bound is too large, each int32 wrap is modelled.
    """
    multipliers, shifts = requantization.multipliers.astype(np.int64), requantization.shifts.astype(np.int64)
    channels = max(multipliers.size, np.size(bias))
    multipliers, shifts = np.broadcast_to(multipliers, channels), np.broadcast_to(shifts, channels)
    bias = np.broadcast_to(np.asarray(bias, dtype=np.int64), channels)
    fused = None
    if not wide and sum_bound is not None:
        sum_bound = np.broadcast_to(sum_bound, channels)
        fused = _fuse(multipliers, shifts, bias, output_offset, sum_bound, True) or _fuse(
            multipliers, shifts, bias, output_offset, sum_bound, False
        )
    low, high = np.int64(clamp[0]), np.int64(clamp[1])  # numpy scalars spare np.clip its range checks
    return Requantizer(multipliers, shifts, bias, output_offset, (low, high), dtype, wide, fused)


def _fuse(
    multipliers: np.ndarray,
    shifts: np.ndarray,
    bias: np.ndarray,
    output_offset: int,
    sum_bound: np.ndarray,
    fold_offset: bool,
) -> _FusedRequantization | None:
    """The fused constants of each channel, or None when a channel could overflow int32 or int64.
    Python ints, so that the checks themselves cannot overflow."""
    folded_offset = output_offset if fold_offset else 0
    columns = []
    for multiplier, shift, channel_bias, bound in zip(
        multipliers.tolist(), shifts.tolist(), bias.tolist(), sum_bound.tolist(), strict=True
    ):
        left, right = max(shift, 0), max(-shift, 0)
        acc_bound = int(bound) + abs(channel_bias)
        if multiplier < 0 or acc_bound << left > INT32_MAX:
            return None
        multiplier <<= left
        total_shift = 31 + right
        addend = (1 << 30) + (((1 << right) >> 1) << 31) + channel_bias * multiplier + (folded_offset << total_shift)
        below = -(1 << 30) - channel_bias * multiplier
        largest_int64 = max(int(bound) * multiplier + abs(addend) + (1 << 31), abs(below))
        largest_output = ((acc_bound * multiplier) >> total_shift) + 2 + abs(output_offset)
        if largest_int64 >= 1 << 63 or largest_output > INT32_MAX:
            return None
        columns.append((multiplier, addend, below, (1 << 31) if right else 0, total_shift))
    constants = (_compact(column) for column in np.array(columns, dtype=np.int64).reshape(-1, 5).T)
    return _FusedRequantization(*constants, output_offset=output_offset - folded_offset)


def _compact(per_channel: np.ndarray) -> np.ndarray | np.int64:
    """One value when every channel shares it (numpy's scalar loops are faster), else a contiguous array."""
    return per_channel[0] if per_channel.size and np.all(per_channel == per_channel[0]) else per_channel.copy()


# --- gemmlowp fixed-point math (exp, logistic, tanh, reciprocal) ----------------
# A fixed-point value is the raw int32 (held in int64) of a Q format with
# `integer_bits` integer bits: real = raw / 2^(31 - integer_bits). A product of
# two such values is their saturating rounding doubling high multiply.

_FIXED_ONE = INT32_MAX
"""1.0 with 0 integer bits: not representable, gemmlowp saturates it to the largest raw value."""


def _fixed_constant(value: float, integer_bits: int = 0) -> int:
    """Raw int32 of a real constant, rounded to nearest as gemmlowp's hard-coded constants are."""
    return round_half_away(value * 2.0 ** (31 - integer_bits))


_EXP_MINUS_ONE_EIGHTH = _fixed_constant(math.exp(-1 / 8))
_ONE_THIRD = _fixed_constant(1 / 3)
# exp(-2^k) for the bits of the integer part of -x, k = -2 .. 4.
_EXP_OF_MINUS_POWERS_OF_TWO = [(k, _fixed_constant(math.exp(-(2.0**k)))) for k in range(-2, 5)]
_NEWTON_START = _fixed_constant(48 / 17, 2)
_NEWTON_SLOPE = _fixed_constant(-32 / 17, 2)


def saturating_rounding_multiply_by_pot(x: np.ndarray | int, exponent: int) -> np.ndarray:
    """gemmlowp's SaturatingRoundingMultiplyByPOT on int32: x · 2^exponent, saturating for a
    positive exponent, rounding to nearest for a negative one."""
    x = np.asarray(x, dtype=np.int64)
    if exponent <= 0:
        return rounding_divide_by_pot(x, -exponent)
    # gemmlowp saturates x beyond ±(2^(31-exponent) - 1); for int32 x the shift stays within
    # int64, so clamping the shifted value gives the same result in fewer steps.
    return np.minimum(np.maximum(x << exponent, INT32_MIN), INT32_MAX)


def rescale(x: np.ndarray | int, src_integer_bits: int, dst_integer_bits: int) -> np.ndarray:
    """gemmlowp's Rescale: the same real value in a format with other integer bits (saturating)."""
    return saturating_rounding_multiply_by_pot(x, src_integer_bits - dst_integer_bits)


def rounding_half_sum(a: np.ndarray | int, b: np.ndarray | int) -> np.ndarray:
    """gemmlowp's RoundingHalfSum: (a + b) / 2 rounded half away from zero."""
    total = np.asarray(a, dtype=np.int64) + np.asarray(b, dtype=np.int64)
    nudged = total + np.where(total >= 0, 1, -1)
    return np.where(nudged >= 0, nudged >> 1, -((-nudged) >> 1))  # C division truncates toward zero


def exp_on_interval_between_negative_one_quarter_and_0_excl(a: np.ndarray) -> np.ndarray:
    """exp(a) for a in [-1/4, 0), 0 integer bits: a Taylor polynomial around -1/8."""
    x = np.asarray(a, dtype=np.int64) + (1 << 28)  # x = a + 1/8
    x2 = saturating_rounding_doubling_high_mul(x, x)
    x3 = saturating_rounding_doubling_high_mul(x2, x)
    x4 = saturating_rounding_doubling_high_mul(x2, x2)
    x4_over_4 = rounding_divide_by_pot(x4, 2)
    cubic_and_quartic = saturating_rounding_doubling_high_mul(x4_over_4 + x3, _ONE_THIRD)
    higher_terms = rounding_divide_by_pot(cubic_and_quartic + x2, 1)  # x²/2 + x³/6 + x⁴/24
    return _EXP_MINUS_ONE_EIGHTH + saturating_rounding_doubling_high_mul(_EXP_MINUS_ONE_EIGHTH, x + higher_terms)


def exp_on_negative_values(a: np.ndarray, integer_bits: int) -> np.ndarray:
    """gemmlowp's exp_on_negative_values: exp(a) for a <= 0 in Q(integer_bits), result with 0 integer bits.

    The fractional part modulo 1/4 goes through the polynomial; each set bit of
    the rest multiplies by the matching exp(-2^k) constant.
    """
    a = np.asarray(a, dtype=np.int64)
    fractional_bits = 31 - integer_bits
    one_quarter = 1 << (fractional_bits - 2)
    a_mod_quarter_minus_one_quarter = (a & (one_quarter - 1)) - one_quarter
    result = exp_on_interval_between_negative_one_quarter_and_0_excl(
        rescale(a_mod_quarter_minus_one_quarter, integer_bits, 0)
    )
    remainder = a_mod_quarter_minus_one_quarter - a
    for exponent, multiplier in _EXP_OF_MINUS_POWERS_OF_TWO:
        if integer_bits > exponent:
            bit_set = (remainder & (1 << (fractional_bits + exponent))) != 0
            result = np.where(bit_set, saturating_rounding_doubling_high_mul(result, multiplier), result)
    if integer_bits > 5:  # below -32 the result underflows to zero
        result = np.where(a < -(1 << (36 - integer_bits)), 0, result)
    return np.where(a == 0, _FIXED_ONE, result)


def _newton_reciprocal_of_half_denominator(a: np.ndarray) -> np.ndarray:
    """2 / (1 + a) with 2 integer bits for a in [0, 1): three Newton-Raphson steps on (1 + a) / 2."""
    half_denominator = rounding_half_sum(a, _FIXED_ONE)
    x = _NEWTON_START + saturating_rounding_doubling_high_mul(half_denominator, _NEWTON_SLOPE)
    for _ in range(3):
        one_minus_half_denominator_times_x = (1 << 29) - saturating_rounding_doubling_high_mul(half_denominator, x)
        x = x + rescale(saturating_rounding_doubling_high_mul(x, one_minus_half_denominator_times_x), 4, 2)
    return x


def one_over_one_plus_x_for_x_in_0_1(a: np.ndarray) -> np.ndarray:
    """gemmlowp's one_over_one_plus_x_for_x_in_0_1: 1 / (1 + a), all with 0 integer bits."""
    return rescale(_newton_reciprocal_of_half_denominator(a), 1, 0)


def one_minus_x_over_one_plus_x_for_x_in_0_1(a: np.ndarray) -> np.ndarray:
    """gemmlowp's one_minus_x_over_one_plus_x_for_x_in_0_1: (1 - a) / (1 + a), 0 integer bits."""
    return rescale(_newton_reciprocal_of_half_denominator(a) - (1 << 29), 2, 0)


def fixed_tanh(a: np.ndarray, integer_bits: int) -> np.ndarray:
    """gemmlowp's tanh of a Q(integer_bits) value, result with 0 integer bits."""
    a = np.asarray(a, dtype=np.int64)
    negative = a < 0
    minus_abs = np.where(negative, a, -a)
    # -tanh(-|a|) = (1 - exp(-2|a|)) / (1 + exp(-2|a|)); doubling is a change of format.
    magnitude = one_minus_x_over_one_plus_x_for_x_in_0_1(exp_on_negative_values(minus_abs, integer_bits + 1))
    return np.where(a == 0, 0, np.where(negative, -magnitude, magnitude))


def fixed_logistic(a: np.ndarray, integer_bits: int) -> np.ndarray:
    """gemmlowp's logistic of a Q(integer_bits) value, result with 0 integer bits."""
    a = np.asarray(a, dtype=np.int64)
    positive = a > 0
    minus_abs = wrap_int32(np.where(positive, -a, a))
    of_abs = one_over_one_plus_x_for_x_in_0_1(exp_on_negative_values(minus_abs, integer_bits))
    return np.where(a == 0, 1 << 30, np.where(positive, of_abs, _FIXED_ONE - of_abs))


_LOG_2 = 1488522236
_SQRT_SQRT_HALF = 1805811301
_SQRT_HALF = 1518500250
_ONE_QUARTER = 1 << 29
_LOG_ALPHA_N = 117049297
_LOG_ALPHA_D = 127690142
_LOG_ALPHA_I = 1057819769
_LOG_ALPHA_F = 638450708
"""gemmlowp-style constants (0 integer bits) of TFLite's fixed-point logarithm."""


def _saturating_shift_left(x: np.ndarray, amounts: np.ndarray | int) -> np.ndarray:
    """SaturatingRoundingMultiplyByPOTParam with a per-element exponent >= 0."""
    shifted = np.asarray(x, dtype=np.int64) << np.asarray(amounts, dtype=np.int64)
    return np.minimum(np.maximum(shifted, INT32_MIN), INT32_MAX)


def log_x_for_x_greater_than_or_equal_to_1(
    x: np.ndarray, input_integer_bits: int, output_integer_bits: int
) -> np.ndarray:
    """TFLite's log_x_for_x_greater_than_or_equal_to_1: ln(x) of a Q(input_integer_bits) x >= 1, in
    Q(output_integer_bits). x is normalised by its leading zeros (twice: as is and times
    sqrt(1/2), keeping the better one), then ln of the mantissa comes from a rational
    approximation around sqrt(sqrt(1/2)) and the exponent adds multiples of ln 2."""
    accum_bits = output_integer_bits + 1  # headroom: exponent * ln 2 may saturate otherwise
    mul = saturating_rounding_doubling_high_mul
    z_a = np.asarray(x, dtype=np.int64)
    shifted_quarter = rescale(_ONE_QUARTER, 0, accum_bits)
    z_a_headroom_plus_1 = count_leading_zeros_u32(z_a)
    r_a_raw = _saturating_shift_left(mul(_saturating_shift_left(z_a, z_a_headroom_plus_1 - 1), _SQRT_HALF), 1)
    z_a_pow_2_adj = np.minimum(
        _saturating_shift_left(input_integer_bits - z_a_headroom_plus_1, 31 - accum_bits) + shifted_quarter, INT32_MAX
    )
    z_b = mul(z_a, _SQRT_HALF)
    z_b_headroom = count_leading_zeros_u32(z_b) - 1
    r_b_raw = _saturating_shift_left(z_a, z_b_headroom)
    z_b_pow_2_adj = np.maximum(
        _saturating_shift_left(input_integer_bits - z_b_headroom, 31 - accum_bits) - shifted_quarter, INT32_MIN
    )
    r = np.minimum(r_a_raw, r_b_raw)
    z_pow_2_adj = np.maximum(z_a_pow_2_adj, z_b_pow_2_adj)
    p = rounding_half_sum(r, _SQRT_SQRT_HALF)
    q = wrap_int32(2 * wrap_int32(r - _SQRT_SQRT_HALF))
    common_sq = mul(q, q)
    num = wrap_int32(mul(q, r) + mul(mul(q, common_sq), _LOG_ALPHA_N))
    denominator_minus_one = wrap_int32(
        mul(p, wrap_int32(_LOG_ALPHA_I + q + mul(_LOG_ALPHA_D, common_sq))) + mul(_LOG_ALPHA_F, q)
    )
    reciprocal = one_over_one_plus_x_for_x_in_0_1(denominator_minus_one)
    total = wrap_int32(mul(z_pow_2_adj, _LOG_2) + mul(rescale(num, 0, accum_bits), reciprocal))
    return rescale(total, accum_bits, output_integer_bits)


def count_leading_zeros_u32(x: np.ndarray | int) -> np.ndarray:
    """Leading zero bits of x read as uint32 (32 for zero)."""
    unsigned = np.asarray(x, dtype=np.int64) & 0xFFFFFFFF
    _, bit_length = np.frexp(unsigned.astype(np.float64))  # exact: values < 2^53
    return 32 - bit_length.astype(np.int64)


def get_reciprocal(x: np.ndarray, x_integer_bits: int) -> tuple[np.ndarray, np.ndarray]:
    """TFLite's GetReciprocal for x > 0 in Q(x_integer_bits): (1/x scaled into [1/2, 1) with 0
    integer bits, num_bits_over_unit) such that 1/x = scale · 2^-num_bits_over_unit."""
    x = np.asarray(x, dtype=np.int64)
    headroom_plus_one = count_leading_zeros_u32(x)
    num_bits_over_unit = x_integer_bits - headroom_plus_one
    shifted_minus_one = ((x << headroom_plus_one) & 0xFFFFFFFF) - (1 << 31)
    return one_over_one_plus_x_for_x_in_0_1(shifted_minus_one), num_bits_over_unit


# --- int16 helpers of the int16 kernels (hard swish, LUT interpolation) -----------


def wrap_int16(x: np.ndarray | int) -> np.ndarray:
    """Two's complement wrap to int16 range (a C cast of an int to int16_t)."""
    x = np.asarray(x, dtype=np.int64)
    return ((x + 2**15) & 0xFFFF) - 2**15


def _truncating_divide_by_2_15(x: np.ndarray) -> np.ndarray:
    return np.where(x >= 0, x >> 15, -((-x) >> 15))


def saturating_rounding_doubling_high_mul_int16(a: np.ndarray | int, b: np.ndarray | int) -> np.ndarray:
    """gemmlowp's SaturatingRoundingDoublingHighMul on int16: round(a*b / 2^15), saturated."""
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    product = a * b
    high = wrap_int16(_truncating_divide_by_2_15(product + np.where(product >= 0, 1 << 14, 1 - (1 << 14))))
    return np.where((a == -(2**15)) & (b == -(2**15)), 2**15 - 1, high)


def saturating_doubling_high_mul_int16(a: np.ndarray | int, b: np.ndarray | int) -> np.ndarray:
    """The non-rounding variant hard swish uses: a*b / 2^15 truncated toward zero, saturated."""
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    high = wrap_int16(_truncating_divide_by_2_15(a * b))
    return np.where((a == -(2**15)) & (b == -(2**15)), 2**15 - 1, high)


def rounding_divide_by_pot_int16(x: np.ndarray | int, exponent: int) -> np.ndarray:
    """gemmlowp's RoundingDivideByPOT on int16. From exponent 16 on, its mask truncated to
    int16 is -1, and the result degenerates to 1 for x >= 0 and -1 for x < 0."""
    x = np.asarray(x, dtype=np.int64)
    mask = int(wrap_int16((1 << exponent) - 1))
    threshold = (mask >> 1) + (x < 0)
    return wrap_int16((x >> exponent) + ((x & mask) > threshold))


def saturating_left_shift_int16(x: np.ndarray | int, amount: int) -> np.ndarray:
    """x · 2^amount clamped to int16."""
    return np.clip(np.asarray(x, dtype=np.int64) << amount, -(2**15), 2**15 - 1)


_LUT_SEGMENTS = 512
"""An int16 LUT has 512 segments, indexed by the top 9 bits of the input, and their end point."""


def lut_populate_int16(
    transform: Callable[[np.ndarray], np.ndarray],
    input_scale: float,
    input_zero_point: int,
    output_scale: float,
    output_zero_point: int,
) -> np.ndarray:
    """TFLite's LUTPopulate<int16_t> (float arithmetic): samples of `transform` over the input
    range, each biased by half the interpolation error at the segment's midpoint.

    `transform` maps a float32 array to a float32 array.
    """
    f32 = np.float32
    low, high = f32(-(2**15)), f32(2**15 - 1)
    input_min = f32(input_scale) * f32(-(2**15) - input_zero_point)
    input_max = f32(input_scale) * f32(2**15 - 1 - input_zero_point)
    output_min = f32(output_scale) * f32(-(2**15) - output_zero_point)
    output_max = f32(output_scale) * f32(2**15 - 1 - output_zero_point)
    step = (input_max - input_min) / f32(_LUT_SEGMENTS)
    half_step = step / f32(2)
    inverse_scale = f32(65536) / (output_max - output_min)

    index = np.arange(_LUT_SEGMENTS, dtype=np.float32)
    samples_at = input_min + index * step
    value = transform(samples_at)
    value_midpoint = transform(samples_at + half_step)
    value_next = transform(input_min + (index + f32(1)) * step)

    sample = round_half_away_f32(value * inverse_scale)
    interpolated_midpoint = round_half_away_f32((value_next * inverse_scale + sample) / f32(2))
    midpoint = round_half_away_f32(value_midpoint * inverse_scale)
    bias = round_half_away_f32((interpolated_midpoint - midpoint) / f32(2))
    last = round_half_away_f32(transform(np.array([input_max], dtype=np.float32)) * inverse_scale)
    table = np.concatenate([sample - bias, last])
    return np.clip(table, low, high).astype(np.int64)


def lut_lookup_int16(value: np.ndarray, lut: np.ndarray) -> np.ndarray:
    """TFLite's LUTLookup for int16: the segment's base plus the rounded interpolated slope."""
    value = np.asarray(value, dtype=np.int64)
    index = 256 + (value >> 7)
    base = lut[index]
    slope = wrap_int16(lut[index + 1] - base)
    delta = (slope * (value & 0x7F) + 64) >> 7
    return wrap_int16(base + delta)


def evaluate_by_table(data: np.ndarray, function: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """An elementwise integer `function` of `data`, through `tabulated`."""
    return tabulated(function, data.dtype, data.size)(data)


def tabulated(
    function: Callable[[np.ndarray], np.ndarray], dtype: np.dtype, size: int
) -> Callable[[np.ndarray], np.ndarray]:
    """An elementwise integer `function` of `size` values of `dtype`, through a table of its value
    at every input when that is cheaper (8-bit data, or 16-bit data with more elements than the
    type has values): exact, the table computed here once, then one lookup per element."""
    bits = 8 * dtype.itemsize
    if bits > 16 or (bits == 16 and size <= 1 << 16):
        return function
    unsigned = np.dtype(f"uint{bits}")
    every_value = np.arange(1 << bits, dtype=unsigned).view(dtype)  # table order: the bits as unsigned
    return _Table(function(every_value), unsigned)


@dataclass(frozen=True)
class _Table:
    values: np.ndarray
    unsigned: np.dtype
    """The index: the data's bits read as this unsigned type."""

    def __call__(self, data: np.ndarray) -> np.ndarray:
        return self.values[data.view(self.unsigned)]


# --- inverse square root (RSQRT, L2_NORMALIZATION) --------------------------------

HALF_SQRT_2_Q0 = 1518500250
"""sqrt(2) / 2 in Q0.31."""


def inv_sqrt_multiplier_exp(value: int) -> tuple[int, int]:
    """TFLite's GetInvSqrtQuantizedMultiplierExp(value, reverse_shift -1): five Newton-Raphson steps
    in Q3 fixed point from 1, on the value normalised into [2^27, 2^29)."""
    if value <= 1:
        return 2**31 - 1, 0
    shift = 11
    while value >= 1 << 29:
        value //= 4
        shift += 1
    pairs = (int(count_leading_zeros_u32(value)) - 1) // 2 - 1
    shift -= pairs
    value <<= 2 * pairs
    q3_input = value >> 1
    half_input = int(saturating_rounding_multiply_by_pot(q3_input, -1))
    half_three = (1 << 28) + (1 << 27)
    x = 1 << 28  # 1 in Q3
    for _ in range(5):
        cube = int(rescale(_mul(_mul(x, x), x), 9, 3))
        x = int(rescale(int(wrap_int32(_mul(half_three, x) - _mul(half_input, cube))), 6, 3))
    x = _mul(x, HALF_SQRT_2_Q0)
    if shift < 0:
        x, shift = int(wrap_int32(x << -shift)), 0
    return x, -shift


def _mul(a: int, b: int) -> int:
    return int(saturating_rounding_doubling_high_mul(a, b))
