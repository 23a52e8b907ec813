"""The gemmlowp-style fixed-point functions of engine/fixedpoint.py: exact integer semantics
where they are defined by a formula, accuracy where they approximate a real function.

Bit-exactness of the whole chains (softmax, logistic, tanh, hard swish, int16 LUTs)
against TFLite Micro is proven by the operator tests.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from mcudeploy.engine import fixedpoint as fp
from mcudeploy.params.quantization import round_half_away_f32

RNG = np.random.default_rng(20240611)
INT32 = RNG.integers(-(2**31), 2**31, 4000)
INT16 = np.concatenate([RNG.integers(-(2**15), 2**15, 4000), [-(2**15), 2**15 - 1, 0, 1, -1]])


def _round_half_away(value: Fraction) -> int:
    magnitude = int(abs(value) + Fraction(1, 2))
    return magnitude if value >= 0 else -magnitude


def _real(raw: np.ndarray, integer_bits: int) -> np.ndarray:
    return raw / 2.0 ** (31 - integer_bits)


def _max_raw_error(raw: np.ndarray, expected: np.ndarray) -> float:
    return float(np.max(np.abs(raw / 2.0**31 - expected)) * 2**31)


# --- exact integer operations -----------------------------------------------------


@pytest.mark.parametrize("exponent", [-31, -12, -1, 0, 1, 3, 12, 30])
def test_saturating_rounding_multiply_by_pot(exponent):
    expected = [
        max(-(2**31), min(2**31 - 1, _round_half_away(Fraction(int(x)) * Fraction(2) ** exponent))) for x in INT32
    ]
    np.testing.assert_array_equal(fp.saturating_rounding_multiply_by_pot(INT32, exponent), expected)


def test_rescale_changes_integer_bits_keeping_the_value():
    values = RNG.integers(-(2**20), 2**20, 100)
    np.testing.assert_array_equal(fp.rescale(values, 0, 5), fp.rounding_divide_by_pot(values, 5))
    np.testing.assert_array_equal(fp.rescale(values, 5, 0), values << 5)
    assert fp.rescale(2**30, 4, 2) == 2**31 - 1 and fp.rescale(-(2**30), 4, 2) == -(2**31)


def test_rounding_half_sum():
    a, b = INT32, RNG.permutation(INT32)
    expected = [_round_half_away(Fraction(int(x) + int(y), 2)) for x, y in zip(a, b, strict=True)]
    np.testing.assert_array_equal(fp.rounding_half_sum(a, b), expected)


def test_count_leading_zeros_u32():
    values = np.concatenate([INT32, [0, 1, 2**31 - 1, -1, -(2**31)]])
    expected = [32 - (int(v) & 0xFFFFFFFF).bit_length() for v in values]
    np.testing.assert_array_equal(fp.count_leading_zeros_u32(values), expected)


def test_wrap_int16_is_a_c_cast():
    values = RNG.integers(-(2**40), 2**40, 1000)
    np.testing.assert_array_equal(fp.wrap_int16(values), values.astype(np.int16))


def test_saturating_rounding_doubling_high_mul_int16():
    a, b = INT16, RNG.permutation(INT16)
    expected = []
    for x, y in zip(a.tolist(), b.tolist(), strict=True):
        if x == y == -(2**15):
            expected.append(2**15 - 1)
        else:
            nudged = x * y + (2**14 if x * y >= 0 else 1 - 2**14)
            expected.append(int(nudged / 2**15))  # C division: toward zero (exact here)
    np.testing.assert_array_equal(fp.saturating_rounding_doubling_high_mul_int16(a, b), expected)
    assert fp.saturating_rounding_doubling_high_mul_int16(-(2**15), -(2**15)) == 2**15 - 1


def test_saturating_doubling_high_mul_int16_truncates_toward_zero():
    assert fp.saturating_doubling_high_mul_int16(-3, 2**14) == -1  # -1.5
    assert fp.saturating_doubling_high_mul_int16(3, 2**14) == 1
    assert fp.saturating_doubling_high_mul_int16(-(2**15), -(2**15)) == 2**15 - 1
    a, b = INT16, RNG.permutation(INT16)
    expected = [int(x * y / 2**15) for x, y in zip(a.tolist(), b.tolist(), strict=True) if x != -(2**15) or y != x]
    keep = ~((a == -(2**15)) & (b == -(2**15)))
    np.testing.assert_array_equal(fp.saturating_doubling_high_mul_int16(a, b)[keep], expected)


@pytest.mark.parametrize("exponent", range(16))
def test_rounding_divide_by_pot_int16_below_16_rounds(exponent):
    np.testing.assert_array_equal(
        fp.rounding_divide_by_pot_int16(INT16, exponent), fp.rounding_divide_by_pot(INT16, exponent)
    )


@pytest.mark.parametrize("exponent", [16, 20, 31])
def test_rounding_divide_by_pot_int16_from_16_degenerates_to_the_sign(exponent):
    np.testing.assert_array_equal(fp.rounding_divide_by_pot_int16(INT16, exponent), np.where(INT16 >= 0, 1, -1))


def test_saturating_left_shift_int16():
    np.testing.assert_array_equal(
        fp.saturating_left_shift_int16([100, -100, 20000, -20000], 2), [400, -400, 32767, -32768]
    )


def test_round_half_away_f32():
    values = np.array([0.5, -0.5, 1.5, -2.5, 0.49999997, -0.49999997, 2.4, -2.6, 8388609.0, 0.0, -0.0], np.float32)
    rounded = round_half_away_f32(values)
    np.testing.assert_array_equal(rounded, [1, -1, 2, -3, 0, 0, 2, -3, 8388609, 0, 0])
    assert np.signbit(rounded[-1])  # roundf keeps the sign of zero
    assert rounded.dtype == np.float32


# --- approximations of real functions ---------------------------------------------


def test_exp_on_interval_between_negative_one_quarter_and_0():
    a = RNG.integers(-(2**29), 0, 4000)
    assert _max_raw_error(fp.exp_on_interval_between_negative_one_quarter_and_0_excl(a), np.exp(_real(a, 0))) < 1024


@pytest.mark.parametrize("integer_bits", range(7))
def test_exp_on_negative_values(integer_bits):
    a = -RNG.integers(0, 2**31, 4000)
    result = fp.exp_on_negative_values(a, integer_bits)
    assert _max_raw_error(result, np.exp(_real(a, integer_bits))) < 1024
    assert fp.exp_on_negative_values(0, integer_bits) == 2**31 - 1  # 1.0 saturates


def test_exp_on_negative_values_underflows_below_minus_32():
    # 6 integer bits, 25 fractional: the bits of 32 and above have no multiplier, the clamp zeroes them
    assert fp.exp_on_negative_values(-(40 << 25), 6) == 0
    assert fp.exp_on_negative_values(-(20 << 25), 6) == round(np.exp(-20) * 2**31)


def test_one_over_one_plus_x_for_x_in_0_1():
    x = RNG.integers(0, 2**31, 4000)
    assert _max_raw_error(fp.one_over_one_plus_x_for_x_in_0_1(x), 1 / (1 + _real(x, 0))) < 16


def test_one_minus_x_over_one_plus_x_for_x_in_0_1():
    x = RNG.integers(0, 2**31, 4000)
    real = _real(x, 0)
    assert _max_raw_error(fp.one_minus_x_over_one_plus_x_for_x_in_0_1(x), (1 - real) / (1 + real)) < 32


@pytest.mark.parametrize("integer_bits", [3, 4, 5])
def test_fixed_tanh(integer_bits):
    result = fp.fixed_tanh(INT32, integer_bits)
    assert _max_raw_error(result, np.tanh(_real(INT32, integer_bits))) < 1024
    np.testing.assert_array_equal(fp.fixed_tanh(-INT32[INT32 > -(2**31)], integer_bits), -result[INT32 > -(2**31)])
    assert fp.fixed_tanh(0, integer_bits) == 0


@pytest.mark.parametrize("integer_bits", [3, 4, 5])
def test_fixed_logistic(integer_bits):
    result = fp.fixed_logistic(INT32, integer_bits)
    assert _max_raw_error(result, 1 / (1 + np.exp(-_real(INT32, integer_bits)))) < 512
    assert fp.fixed_logistic(0, integer_bits) == 2**30  # one half
    assert fp.fixed_logistic(-(2**31), integer_bits) >= 0  # -a wraps for the lowest value, as in C


@pytest.mark.parametrize("integer_bits", [0, 5, 12])
def test_get_reciprocal(integer_bits):
    x = RNG.integers(1, 2**31, 4000)
    scale, num_bits_over_unit = fp.get_reciprocal(x, integer_bits)
    assert np.all((scale >= 2**30) & (scale < 2**31))
    reciprocal = _real(scale, 0) * 2.0 ** (-num_bits_over_unit)
    np.testing.assert_allclose(reciprocal, 1 / _real(x, integer_bits), rtol=1e-8)


def test_int16_lut_interpolates_exp():
    """The softmax exp table: inputs [-10, 0] over the int16 range, outputs [-1, 1]."""
    lut = fp.lut_populate_int16(
        lambda v: np.exp(v.astype(np.float64)).astype(np.float32), 10 / 65535, 32767, 2 / 65535, 0
    )
    assert lut.shape == (513,)
    inputs = np.arange(-(2**15), 2**15)
    looked_up = fp.lut_lookup_int16(inputs, lut)
    expected = np.exp((inputs - 32767) * 10 / 65535) * 32768
    assert np.max(np.abs(looked_up - expected)) < 8
    knots = np.arange(-(2**15), 2**15, 128)
    np.testing.assert_array_equal(fp.lut_lookup_int16(knots, lut), lut[:512])


@pytest.mark.parametrize(
    ("dtype", "size"), [("int8", 1000), ("uint8", 1000), ("int16", 1000), ("int16", 70000), ("int32", 1000)]
)
def test_evaluate_by_table_equals_evaluating_every_element(dtype, size):
    info = np.iinfo(dtype)
    data = RNG.integers(info.min, info.max, size=(2, size // 2), endpoint=True, dtype=dtype)

    def function(values):
        return fp.multiply_by_quantized_multiplier(values.astype(np.int64) * 3 - 7, 1518500250, -3)

    np.testing.assert_array_equal(fp.evaluate_by_table(data, function), function(data))
