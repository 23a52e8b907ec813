"""The fixed-point constants of TFLite's integer kernels, derived from float scales, and the
requantization arithmetic they feed (gemmlowp's, vectorised over numpy int64 arrays: the engine's,
and a constant's output where a record folds it at generate time).

Rounding follows C (halves away from zero), multipliers follow TFLite's QuantizeMultiplier
family.
"""

from __future__ import annotations

import math

import numpy as np

from mcudeploy.ir import Tensor

INT32_MIN = -(2**31)
INT32_MAX = 2**31 - 1


def wrap_int32(x: np.ndarray | int) -> np.ndarray:
    """Two's complement wrap of int64 values to int32 range (what C's int32 arithmetic does)."""
    x = np.asarray(x, dtype=np.int64)
    return ((x + 2**31) & 0xFFFFFFFF) - 2**31


def saturating_rounding_doubling_high_mul(a: np.ndarray | int, b: np.ndarray | int) -> np.ndarray:
    """gemmlowp's SaturatingRoundingDoublingHighMul: round(a*b / 2^31), saturated.

    The only overflowing case, INT32_MIN * INT32_MIN, saturates to INT32_MAX.
    C nudges by +2^30 (or 1 - 2^30 below zero) and divides truncating toward
    zero; for both signs that equals floor((a·b + 2^30) / 2^31), i.e. halves
    round up, which is what is computed here (three times faster).
    """
    product = np.asarray(a, dtype=np.int64) * np.asarray(b, dtype=np.int64)
    return np.minimum((product + (1 << 30)) >> 31, INT32_MAX)  # only INT32_MIN² reaches 2^31


def rounding_divide_by_pot(x: np.ndarray | int, exponent: np.ndarray | int) -> np.ndarray:
    """gemmlowp's RoundingDivideByPOT: x / 2^exponent rounded to nearest, ties away from zero."""
    x = np.asarray(x, dtype=np.int64)
    exponent = np.asarray(exponent, dtype=np.int64)
    mask = (np.int64(1) << exponent) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (x < 0)
    return (x >> exponent) + (remainder > threshold)


def multiply_by_quantized_multiplier(
    x: np.ndarray | int, multiplier: np.ndarray | int, shift: np.ndarray | int
) -> np.ndarray:
    """TFLite's MultiplyByQuantizedMultiplier for int32 x (double rounding). `x` must
    hold int32 values: a C caller's int32 arithmetic wraps before the call.

    A positive `shift` is a left shift applied before the high multiply (with
    int32 wrap-around as in C), a negative one a rounding right shift after it.
    `multiplier` and `shift` broadcast, e.g. per output channel.
    """
    shift = np.asarray(shift, dtype=np.int64)
    x = np.asarray(x, dtype=np.int64)
    if np.any(shift > 0):  # the usual multiplier < 1 has no left shift to wrap
        x = wrap_int32(x << np.maximum(shift, 0))
    return rounding_divide_by_pot(saturating_rounding_doubling_high_mul(x, multiplier), np.maximum(-shift, 0))


def round_half_away(value: float) -> int:
    """C's round(): halves away from zero (Python's round() goes to even)."""
    magnitude = abs(value)
    whole = math.floor(magnitude)
    rounded = whole + 1 if magnitude - whole >= 0.5 else whole  # exact, unlike floor(x + 0.5)
    return rounded if value >= 0 else -rounded


def round_half_away_f32(x: np.ndarray) -> np.ndarray:
    """C's roundf on float32 values, exactly (np.round rounds halves to even)."""
    x = np.asarray(x, dtype=np.float32)
    magnitude = np.abs(x)
    whole = np.floor(magnitude)
    rounded = np.where(magnitude - whole >= np.float32(0.5), whole + np.float32(1), whole)
    return np.copysign(rounded, x)


def quantize_multiplier(real_multiplier: float) -> tuple[int, int]:
    """TFLite's QuantizeMultiplier: real ≈ multiplier · 2^(shift-31), multiplier in [2^30, 2^31).

    Rounds half away from zero (C's round), carries 2^31 into the exponent and
    flushes multipliers below 2^-31 to zero.
    """
    if real_multiplier == 0.0:
        return 0, 0
    mantissa, shift = math.frexp(real_multiplier)
    q_fixed = round_half_away(mantissa * (1 << 31))
    if q_fixed == 1 << 31:
        q_fixed //= 2
        shift += 1
    if shift < -31:
        return 0, 0
    return q_fixed, shift


def quantize_multipliers(real_multipliers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`quantize_multiplier` over an array (per-channel scales); returns int64 arrays."""
    pairs = [quantize_multiplier(float(m)) for m in np.ravel(real_multipliers)]
    multipliers = np.array([p[0] for p in pairs], dtype=np.int64)
    shifts = np.array([p[1] for p in pairs], dtype=np.int64)
    return multipliers, shifts


def quantize_multiplier_smaller_than_one_exp(real_multiplier: float) -> tuple[int, int]:
    """TFLite's QuantizeMultiplierSmallerThanOneExp: the multiplier must lie in (0, 1)."""
    if not 0.0 < real_multiplier < 1.0:
        raise ValueError(f"multiplier {real_multiplier} is not in (0, 1)")
    return quantize_multiplier(real_multiplier)


def int16_multiplier(real_multiplier: float) -> tuple[int, int]:
    """QuantizeMultiplier, then the multiplier rounded to 16 bits (DownScaleInt32ToInt16Multiplier)."""
    multiplier, exponent = quantize_multiplier(real_multiplier)
    if multiplier >= 2**31 - 1 - 2**15:
        return 2**15 - 1, exponent
    return (multiplier + 2**15) >> 16, exponent


def checked_log2(value: float) -> tuple[bool, int]:
    """TFLite's CheckedLog2 (float32): (is a power of two, rounded log2)."""
    log2 = np.log(np.float32(value)) * (np.float32(1) / np.log(np.float32(2)))
    rounded = np.float32(np.sign(log2) * np.floor(np.abs(log2) + np.float32(0.5)))
    return bool(abs(log2 - rounded) < np.float32(1e-3)), int(rounded)


def quantize_scalar(value: float, scale: float, zero_point: int) -> int:
    """TFLite's kernel_util Quantize: float32 division, round half away from zero."""
    return int(zero_point) + int(round_half_away_f32(np.float32(value) / np.float32(scale)))


def single_scale(tensor: Tensor | None) -> float:
    """The tensor's one scale, 0.0 when it has no quantization."""
    return tensor.quantization.single_scale if tensor is not None and tensor.quantization else 0.0


def zero_point(tensor: Tensor | None) -> int:
    """The tensor's one zero point, 0 when it has no quantization."""
    return tensor.quantization.single_zero_point if tensor is not None and tensor.quantization else 0
