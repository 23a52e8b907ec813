"""Hand-checked edge cases of the requantization arithmetic of engine/fixedpoint.py (int32 wrap
and saturation, SaturatingRoundingDoublingHighMul, RoundingDivideByPOT, the
MultiplyByQuantizedMultiplier variants) and of QuantizeMultiplier (params/quantization.py).

Expected values are worked out by hand from the C definitions (gemmlowp, TFLite's
common.h and quantization_util.cc), noted beside each case. The gemmlowp math
built on them (exp, logistic, tanh, int16 helpers, roundf) has its own file,
test_fixedpoint_gemmlowp.py.
"""

from __future__ import annotations

import numpy as np
import pytest

from mcudeploy.engine import fixedpoint as fp
from mcudeploy.params import quantization

INT32_MIN, INT32_MAX = fp.INT32_MIN, fp.INT32_MAX
HALF = 1 << 30  # 0.5 as a Q0.31 multiplier


# ------------------------------------------------------------------ integer wrap and saturation


@pytest.mark.parametrize(
    ("value", "wrapped"),
    [
        (0, 0),
        (INT32_MAX, INT32_MAX),
        (INT32_MAX + 1, INT32_MIN),
        (INT32_MIN - 1, INT32_MAX),
        (2**32 + 5, 5),
        (-(2**32), 0),
    ],
)
def test_wrap_int32(value, wrapped):
    assert fp.wrap_int32(value) == wrapped


def test_wrap_int32_keeps_array_shape():
    np.testing.assert_array_equal(fp.wrap_int32(np.array([[2**31], [-(2**31) - 2]])), [[INT32_MIN], [INT32_MAX - 1]])


def test_saturate_clamps_and_casts():
    result = fp.saturate(np.array([-200, -128, 5, 127, 300]), np.int8)
    assert result.dtype == np.int8
    np.testing.assert_array_equal(result, [-128, -128, 5, 127, 127])
    np.testing.assert_array_equal(fp.saturate(np.array([-40000, 40000]), np.int16), [-32768, 32767])


# ------------------------------------------------------------------ SaturatingRoundingDoublingHighMul


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (INT32_MIN, INT32_MIN, INT32_MAX),  # the one overflow: 1.0 is not representable, saturate
        (INT32_MIN, INT32_MAX, -INT32_MAX),  # -(2^31 - 1) exactly
        (INT32_MAX, INT32_MAX, INT32_MAX - 1),  # (2^31-1)^2 / 2^31 = 2^31 - 2 + 2^-31
        (1, HALF, 1),  # +0.5 rounds up
        (-1, HALF, 0),  # -0.5 rounds up too (toward +inf), not away from zero
        (3, HALF, 2),  # +1.5 -> 2
        (-3, HALF, -1),  # -1.5 -> -1
        (-(HALF + 1), 1, -1),  # just below -0.5 -> -1
        (0, INT32_MIN, 0),
        (12345, 0, 0),
        (1 << 20, 1 << 20, 1 << 9),  # the high word of 2 · 2^40: 2^40 / 2^31
    ],
)
def test_saturating_rounding_doubling_high_mul(a, b, expected):
    assert fp.saturating_rounding_doubling_high_mul(a, b) == expected
    assert fp.saturating_rounding_doubling_high_mul(b, a) == expected


# ------------------------------------------------------------------ RoundingDivideByPOT


@pytest.mark.parametrize(
    ("x", "exponent", "expected"),
    [
        (5, 1, 3),  # 2.5 -> 3: ties away from zero
        (-5, 1, -3),  # -2.5 -> -3
        (3, 1, 2),
        (-3, 1, -2),
        (6, 2, 2),  # 1.5 -> 2
        (-6, 2, -2),
        (5, 2, 1),  # 1.25 -> 1
        (-5, 2, -1),
        (7, 2, 2),  # 1.75 -> 2
        (-7, 2, -2),
        (-1, 1, -1),  # -0.5 -> -1
        (1, 1, 1),
        (-1, 5, 0),  # -1/32 -> 0
        (12345, 0, 12345),  # exponent 0 is the identity
        (-12345, 0, -12345),
        (INT32_MIN, 31, -1),
        (INT32_MAX, 31, 1),  # 0.99999... -> 1
        (INT32_MAX, 30, 2),
    ],
)
def test_rounding_divide_by_pot(x, exponent, expected):
    assert fp.rounding_divide_by_pot(x, exponent) == expected


def test_rounding_divide_by_pot_broadcasts_exponents():
    np.testing.assert_array_equal(
        fp.rounding_divide_by_pot(np.array([[10, -10, 10]]), np.array([0, 2, 3])), [[10, -3, 1]]
    )


# ------------------------------------------------------------------ MultiplyByQuantizedMultiplier (int32)


@pytest.mark.parametrize(
    ("x", "multiplier", "shift", "expected"),
    [
        (3, HALF, 0, 2),  # 1.5 -> 2
        (-3, HALF, 0, -1),  # -1.5 -> -1 (the high multiply rounds ties up)
        (5, HALF, -1, 2),  # 5/4 = 1.25, yet 2: 2.5 -> 3 then 1.5 -> 2 (double rounding)
        (-5, HALF, -1, -1),  # -2.5 -> -2 then -1 -> -1 (RoundingDivideByPOT(-2, 1) = -1)
        (3, HALF, 1, 3),  # left shift first: 6 · 0.5
        (100, INT32_MAX, 0, 100),  # ~1.0
        (100, 0, 5, 0),
        (1 << 30, HALF, 1, -(1 << 30)),  # the left shift wraps in int32 as C does: 2^31 -> -2^31
        (INT32_MIN, INT32_MIN, 0, INT32_MAX),  # saturating high multiply
        (1000, 1 << 30, -31, 0),  # the largest right shift
    ],
)
def test_multiply_by_quantized_multiplier(x, multiplier, shift, expected):
    assert fp.multiply_by_quantized_multiplier(x, multiplier, shift) == expected


def test_multiply_by_quantized_multiplier_per_channel():
    """Multiplier and shift broadcast along the last axis, one per output channel."""
    x = np.array([[40, -40, 40], [7, 7, -7]])
    result = fp.multiply_by_quantized_multiplier(x, np.array([HALF, HALF, 3 << 29]), np.array([0, -2, 1]))
    # 0.5 · x; 0.125 · x; 0.75 · 2 · x
    np.testing.assert_array_equal(result, [[20, -5, 60], [4, 1, -10]])


# ------------------------------------------------------------------ MultiplyByQuantizedMultiplier (int64, 16x8)


@pytest.mark.parametrize(
    ("x", "multiplier", "shift", "expected"),
    [
        (3, HALF, 0, 2),  # reduced multiplier 2^14: (3·2^14 + 2^14) >> 15 = 2
        (-3, HALF, 0, -1),  # (-49152 + 16384) >> 15 = -1: ties round up
        (-5, HALF, 0, -2),  # -2.5 -> -2
        (5, HALF, -1, 1),  # one rounding only: 1.25 -> 1
        (1 << 20, INT32_MAX, 0, 1048544),  # reduced to 0x7FFF (not 0x8000): 2^20 · 32767 / 32768
        (1 << 20, 0x7FFF0000, 0, 1048544),  # the threshold itself takes 0x7FFF
        (1 << 20, 0x7FFEFFFF, 0, 1048544),  # rounds to 0x7FFF through the formula
        ((1 << 47) - 1, HALF, -16, 1 << 30),  # a 48-bit accumulator does not overflow int64: (2^61 + 2^30) >> 31
        (1 << 40, HALF, 7, 0),  # 2^40 · 0.5 · 2^7 = 2^46: the int32 result wraps to 0 as C's cast does
        (-(1 << 40), 1 << 30, -20, -(1 << 19)),
    ],
)
def test_multiply_by_quantized_multiplier_int64(x, multiplier, shift, expected):
    assert fp.multiply_by_quantized_multiplier_int64(x, multiplier, shift) == expected


def test_multiply_by_quantized_multiplier_int64_rounds_the_multiplier():
    """(m + 2^15) >> 16: 0x12348000 rounds up to 0x1235, 0x12347FFF down to 0x1234."""
    assert fp.multiply_by_quantized_multiplier_int64(1 << 15, 0x12348000, 0) == 0x1235
    assert fp.multiply_by_quantized_multiplier_int64(1 << 15, 0x12347FFF, 0) == 0x1234


# ------------------------------------------------------------------ the two legacy variants


def test_multiply_by_quantized_multiplier_smaller_than_one_exp():
    assert fp.multiply_by_quantized_multiplier_smaller_than_one_exp(5, HALF, -1) == 2  # as above: double rounding
    assert fp.multiply_by_quantized_multiplier_smaller_than_one_exp(-5, HALF, 0) == -2  # -2.5 -> -2
    np.testing.assert_array_equal(
        fp.multiply_by_quantized_multiplier_smaller_than_one_exp(np.array([64, -64]), HALF, np.array([-3, 0])), [4, -32]
    )


def test_multiply_by_quantized_multiplier_greater_than_one():
    assert fp.multiply_by_quantized_multiplier_greater_than_one(3, HALF, 1) == 3
    assert fp.multiply_by_quantized_multiplier_greater_than_one(-3, HALF, 0) == -1
    assert fp.multiply_by_quantized_multiplier_greater_than_one(1 << 30, HALF, 2) == 0  # 2^32 wraps to 0


# ------------------------------------------------------------------ QuantizeMultiplier


@pytest.mark.parametrize(
    ("real", "expected"),
    [
        (0.0, (0, 0)),
        (1.0, (HALF, 1)),
        (0.5, (HALF, 0)),
        (0.75, (3 << 29, 0)),
        (-0.75, (-(3 << 29), 0)),
        (1024.0, (HALF, 11)),
        (1 - 2.0**-31, (INT32_MAX, 0)),  # the largest mantissa that does not round up
        (1 - 2.0**-33, (HALF, 1)),  # just below 1: the mantissa rounds to 2^31, carried into the shift
        (0.5 - 2.0**-34, (HALF, 0)),  # just below 0.5: the same carry, to shift 0
        (0.5 + 2.0**-32, (HALF + 1, 0)),  # mantissa 2^30 + 0.5: C's round goes away from zero (Python's to even)
        (-(0.5 + 2.0**-32), (-(HALF + 1), 0)),
        (0.5 + 3 * 2.0**-32, (HALF + 2, 0)),  # 2^30 + 1.5 -> 2^30 + 2
        (0.5 + 3 * 2.0**-33, (HALF + 1, 0)),  # 2^30 + 0.75 -> 2^30 + 1
        (2.0**-32, (HALF, -31)),  # the smallest shift kept
        (2.0**-33, (0, 0)),  # shift -32: flushed to zero
        (2.0**-40, (0, 0)),
        ((1 - 2.0**-33) * 2.0**-32, (HALF, -31)),  # would be flushed, but the carry brings the shift back to -31
    ],
)
def test_quantize_multiplier(real, expected):
    assert quantization.quantize_multiplier(real) == expected


def test_quantize_multiplier_round_trips():
    """multiplier · 2^(shift - 31) is the real value within half a unit of the 31-bit mantissa."""
    for real in [0.1, 0.3333, 1e-5, 7.5, 123.456, 2.0**-20 * 1.2345]:
        multiplier, shift = quantization.quantize_multiplier(real)
        assert 2**30 <= multiplier < 2**31
        assert abs(multiplier * 2.0 ** (shift - 31) - real) <= 2.0 ** (shift - 32)


def test_quantize_multipliers_matches_scalar():
    reals = np.array([0.0, 0.5, 1 - 2.0**-33, 2.0**-33, 0.3, 5.0])
    multipliers, shifts = quantization.quantize_multipliers(reals)
    assert multipliers.dtype == np.int64
    assert shifts.dtype == np.int64
    assert list(zip(multipliers.tolist(), shifts.tolist(), strict=True)) == [
        quantization.quantize_multiplier(r) for r in reals
    ]


def test_quantize_multiplier_smaller_than_one_exp():
    assert quantization.quantize_multiplier_smaller_than_one_exp(0.25) == (HALF, -1)
    for bad in [0.0, 1.0, -0.5, 2.0]:
        with pytest.raises(ValueError):
            quantization.quantize_multiplier_smaller_than_one_exp(bad)
