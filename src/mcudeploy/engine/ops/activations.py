"""Activations: RELU, RELU6, RELU_N1_TO_1, LEAKY_RELU, HARD_SWISH, LOGISTIC, TANH.

Quantized paths follow TFLite Micro's reference kernels (RELU_N1_TO_1, which
TFLM lacks, follows LiteRT's); like the tflite-micro interpreter, they derive
multipliers from the float32 scales in double. 8-bit inputs go through a table
of the function's 256 values, computed once per operator. Float paths compute in
float32; the exponential is evaluated in float64 and rounded, as close as numpy
gets to libm's expf.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np

from mcudeploy.engine.fixedpoint import (
    fixed_logistic,
    fixed_tanh,
    multiply_by_quantized_multiplier,
    rounding_divide_by_pot,
    rounding_divide_by_pot_int16,
    saturate,
    saturating_doubling_high_mul_int16,
    saturating_left_shift_int16,
    saturating_rounding_doubling_high_mul_int16,
    tabulated,
    wrap_int16,
)
from mcudeploy.engine.registry import OpContext, kernel
from mcudeploy.errors import UnsupportedOperatorError
from mcudeploy.ir import DType, Tensor
from mcudeploy.ir.options import LeakyReluOptions
from mcudeploy.params.activations import FLOAT_RELU_BOUNDS, INT8_INPUT_INTEGER_BITS, ActivationParams
from mcudeploy.params.activations import prepare as prepare_params
from mcudeploy.params.quantization import checked_log2, single_scale, zero_point

F32 = np.float32


def _unsupported(ctx: OpContext, dtype: DType) -> UnsupportedOperatorError:
    return UnsupportedOperatorError(ctx.op.label, f"{ctx.op.op_type} of {dtype} is not supported by TFLite Micro")


def _exp_f32(x: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):  # overflow to inf is what expf gives too
        return np.exp(x.astype(np.float64)).astype(np.float32)


# --- RELU family -----------------------------------------------------------------


@kernel("RELU", "RELU6", "RELU_N1_TO_1", types=(DType.FLOAT32, DType.INT8, DType.INT16))
def relu(ctx: OpContext) -> np.ndarray:
    return ctx.prepared(_prepare_relu)(ctx.input(0))


def _prepare_relu(ctx: OpContext) -> Callable[[np.ndarray], np.ndarray]:
    source = ctx.input_tensor(0)
    if source.dtype == DType.FLOAT32:
        low, high = FLOAT_RELU_BOUNDS[ctx.op.op_type]
        return partial(_float_relu, F32(low), F32(high))
    if source.dtype not in (DType.INT8, DType.INT16):
        raise _unsupported(ctx, source.dtype)
    params = prepare_params(ctx.op, ctx.graph)
    if ctx.op.op_type == "RELU6":
        return partial(_relu6_quantized, params.act_min, params.act_max)
    return _tabulated(source, _Rescale(params, ctx.output_tensor().dtype.numpy))


def _tabulated(source: Tensor, function: Callable[[np.ndarray], np.ndarray]) -> Callable[[np.ndarray], np.ndarray]:
    return tabulated(function, source.dtype.numpy, source.size)


def _float_relu(low: np.float32, high: np.float32, data: np.ndarray) -> np.ndarray:
    clamped = np.where(data < low, low, data)  # keeps NaN and -0.0 as the C comparisons do
    return np.where(clamped > high, high, clamped)


@dataclass(frozen=True)
class _Rescale:
    """Rescale to the output's quantization, then clamp to the activation's range there."""

    params: ActivationParams
    dtype: np.dtype

    def __call__(self, data: np.ndarray) -> np.ndarray:
        p = self.params
        centered = data.astype(np.int64) - p.input_zero_point
        scaled = p.output_zero_point + multiply_by_quantized_multiplier(centered, p.multiplier, p.shift)
        return np.clip(scaled, p.act_min, p.act_max).astype(self.dtype)


def _relu6_quantized(zero: int, six: int, data: np.ndarray) -> np.ndarray:
    """TFLM's RELU6 clamps in the input's quantization (it assumes the output shares it)."""
    return np.where(data > six, six, np.where(data < zero, zero, data)).astype(data.dtype)


# --- LEAKY_RELU ------------------------------------------------------------------


@kernel("LEAKY_RELU", types=(DType.FLOAT32, DType.INT8, DType.INT16))
def leaky_relu(ctx: OpContext) -> np.ndarray:
    return ctx.prepared(_prepare_leaky_relu)(ctx.input(0))


def _prepare_leaky_relu(ctx: OpContext) -> Callable[[np.ndarray], np.ndarray]:
    source, output = ctx.input_tensor(0), ctx.output_tensor()
    if source.dtype == DType.FLOAT32:
        return partial(_float_leaky_relu, F32((ctx.options or LeakyReluOptions()).alpha))
    if source.dtype not in (DType.INT8, DType.INT16):
        raise _unsupported(ctx, source.dtype)
    return _tabulated(source, _QuantizedLeakyRelu(prepare_params(ctx.op, ctx.graph), output.dtype.numpy))


def _float_leaky_relu(alpha: np.float32, data: np.ndarray) -> np.ndarray:
    return np.where(data > 0, data, data * alpha)


@dataclass(frozen=True)
class _QuantizedLeakyRelu:
    """The identity (multiplier, shift) for the non-negative inputs; alpha (multiplier2, shift2,
    then a negation when negative) for the others."""

    params: ActivationParams
    dtype: np.dtype

    def __call__(self, data: np.ndarray) -> np.ndarray:
        p = self.params
        centered = data.astype(np.int64) - p.input_zero_point
        scaled_negative = multiply_by_quantized_multiplier(centered, p.multiplier2, p.shift2)
        scaled_negative = -scaled_negative if p.negate else scaled_negative
        scaled_positive = multiply_by_quantized_multiplier(centered, p.multiplier, p.shift)
        result = p.output_zero_point + np.where(centered >= 0, scaled_positive, scaled_negative)
        return saturate(result, self.dtype)


# --- HARD_SWISH ------------------------------------------------------------------


@kernel("HARD_SWISH", types=(DType.FLOAT32, DType.INT8))
def hard_swish(ctx: OpContext) -> np.ndarray:
    return ctx.prepared(_prepare_hard_swish)(ctx.input(0))


def _prepare_hard_swish(ctx: OpContext) -> Callable[[np.ndarray], np.ndarray]:
    source = ctx.input_tensor(0)
    if source.dtype == DType.FLOAT32:
        return _float_hard_swish
    if source.dtype != DType.INT8:
        raise _unsupported(ctx, source.dtype)
    return _tabulated(source, partial(_hard_swish_int8, params=prepare_params(ctx.op, ctx.graph)))


def _float_hard_swish(data: np.ndarray) -> np.ndarray:
    return data * np.clip(data + F32(3), F32(0), F32(6)) / F32(6)


def _hard_swish_int8(data: np.ndarray, params: ActivationParams) -> np.ndarray:
    """x · relu6(x + 3) / 6 in int16 fixed point: x on a 2^7 finer scale, the 'reluish' factor
    relu6(x + 3) / 6 mapped to [0, 1) in Q0.15."""
    output_multiplier, output_exponent = params.multiplier, params.shift
    reluish_multiplier, reluish_exponent = params.multiplier2, params.shift2
    hires_input = wrap_int16(wrap_int16(data.astype(np.int64) - params.input_zero_point) * 128)
    preshift_output_scaled = saturating_rounding_doubling_high_mul_int16(hires_input, output_multiplier)
    reluish = hires_input
    if reluish_exponent > 0:
        reluish = saturating_left_shift_int16(reluish, reluish_exponent - 1)
    reluish = saturating_rounding_doubling_high_mul_int16(reluish, reluish_multiplier)
    if reluish_exponent > 0:
        reluish = saturating_left_shift_int16(reluish, 1)
    if reluish_exponent < 0:
        reluish = rounding_divide_by_pot_int16(reluish, -reluish_exponent)
    reluish = (reluish + 2**15) >> 1  # from [-1, 1) to [0, 1)
    preshift_output = saturating_doubling_high_mul_int16(reluish, preshift_output_scaled)
    result = wrap_int16(rounding_divide_by_pot_int16(preshift_output, -output_exponent) + params.output_zero_point)
    return saturate(result, np.int8)


# --- LOGISTIC and TANH -----------------------------------------------------------

_LOGISTIC_UPPER_CUTOFF = F32(16.619047164916992188)
_LOGISTIC_LOWER_CUTOFF = F32(-9)


@kernel("LOGISTIC", types=(DType.FLOAT32, DType.INT8, DType.INT16))
def logistic(ctx: OpContext) -> np.ndarray:
    return ctx.prepared(_prepare_logistic)(ctx.input(0))


def _prepare_logistic(ctx: OpContext) -> Callable[[np.ndarray], np.ndarray]:
    return _prepare_sigmoid_like(ctx, float_logistic, fixed_logistic, _logistic_int16)


def _prepare_sigmoid_like(
    ctx: OpContext,
    float_function: Callable[[np.ndarray], np.ndarray],
    fixed_function: Callable[..., np.ndarray],
    int16_function: Callable[..., np.ndarray],
) -> Callable[[np.ndarray], np.ndarray]:
    """LOGISTIC's or TANH's function of the input's type: float, int8 through `fixed_function` (the
    fixed-point curve), int16 through `int16_function`; the integer ones tabulated over every input."""
    source, output = ctx.input_tensor(0), ctx.output_tensor()
    if source.dtype == DType.FLOAT32:
        return float_function
    if source.dtype == DType.INT8:
        params = prepare_params(ctx.op, ctx.graph)
        return _tabulated(source, partial(_sigmoid_like_int8, function=fixed_function, params=params))
    if source.dtype == DType.INT16:
        _check_int16_sigmoid_like(ctx, source, output)
        return _tabulated(source, partial(int16_function, params=prepare_params(ctx.op, ctx.graph)))
    raise _unsupported(ctx, source.dtype)


def float_logistic(data: np.ndarray) -> np.ndarray:
    # Above the upper cutoff the result is 1; below the lower one, exp(x) alone.
    exp_of_minus = _exp_f32(-data)
    middle = F32(1) / (F32(1) + exp_of_minus)
    below = _exp_f32(data)
    return np.where(data > _LOGISTIC_UPPER_CUTOFF, F32(1), np.where(data < _LOGISTIC_LOWER_CUTOFF, below, middle))


@kernel("TANH", types=(DType.FLOAT32, DType.INT8, DType.INT16))
def tanh(ctx: OpContext) -> np.ndarray:
    return ctx.prepared(_prepare_tanh)(ctx.input(0))


def _prepare_tanh(ctx: OpContext) -> Callable[[np.ndarray], np.ndarray]:
    return _prepare_sigmoid_like(ctx, float_tanh, fixed_tanh, _tanh_int16)


def float_tanh(data: np.ndarray) -> np.ndarray:
    return np.tanh(data.astype(np.float64)).astype(np.float32)


def _sigmoid_like_int8(
    data: np.ndarray, function: Callable[[np.ndarray, int], np.ndarray], params: ActivationParams
) -> np.ndarray:
    """int8 LOGISTIC/TANH: the input rescaled to Q4.27, gemmlowp's fixed-point function, the
    Q0.31 result shifted to 8 bits. Inputs beyond the radius where the result saturates go
    straight to the int8 extremes."""
    centered = data.astype(np.int64) - params.input_zero_point
    in_q4 = multiply_by_quantized_multiplier(centered, params.multiplier, params.shift)
    result = rounding_divide_by_pot(function(in_q4, INT8_INPUT_INTEGER_BITS), params.output_shift)
    result += params.output_offset
    result = np.where(centered <= -params.radius, -128, np.where(centered >= params.radius, 127, result))
    return saturate(result, np.int8)


def _check_int16_sigmoid_like(ctx: OpContext, source: Tensor, output: Tensor) -> None:
    if zero_point(source) != 0 or zero_point(output) != 0:
        raise UnsupportedOperatorError(ctx.op.label, f"int16 {ctx.op.op_type} needs zero points of 0")
    is_pot, log2 = checked_log2(single_scale(output))
    if not is_pot or log2 != -15:
        raise UnsupportedOperatorError(ctx.op.label, f"int16 {ctx.op.op_type} needs an output scale of 2^-15")


def _rescaled_int16_input(data: np.ndarray, multiplier: int, shift: int) -> np.ndarray:
    rounding = (1 << (shift - 1)) if shift > 0 else 0
    return (data.astype(np.int64) * multiplier + rounding) >> shift


def _interpolate_sigmoid(magnitude: np.ndarray, fraction_bits: int) -> np.ndarray:
    """Linear interpolation in the sigmoid table of |x|, whose low `fraction_bits` bits interpolate."""
    segment = np.minimum(magnitude >> fraction_bits, 254)
    low, high = SIGMOID_TABLE_UINT16[segment], SIGMOID_TABLE_UINT16[segment + 1]
    fraction = magnitude & ((1 << fraction_bits) - 1)
    return (low << fraction_bits) + fraction * (high - low)


def _logistic_int16(data: np.ndarray, params: ActivationParams) -> np.ndarray:
    return int16_logistic(data, params.multiplier, params.shift)


def _tanh_int16(data: np.ndarray, params: ActivationParams) -> np.ndarray:
    return int16_tanh(data, params.multiplier, params.shift)


def int16_logistic(data: np.ndarray, multiplier: int, shift: int) -> np.ndarray:
    """TFLite's int16 logistic: the input times `multiplier`, rounded right by `shift`, read
    in the sigmoid table (nine fraction bits); Q0.15 out."""
    x = _rescaled_int16_input(data, multiplier, shift)
    magnitude = np.abs(x)
    positive = np.where(magnitude >> 9 >= 255, 0x7FFF << 10, _interpolate_sigmoid(magnitude, 9))
    result = np.where(x >= 0, positive + (1 << 9), (1 << 25) - positive + (1 << 9) - 1)
    return (result >> 10).astype(np.int16)


def int16_tanh(data: np.ndarray, multiplier: int, shift: int) -> np.ndarray:
    """TFLite's int16 tanh, the same table read with eight fraction bits; Q0.15 out."""
    x = _rescaled_int16_input(data, multiplier, shift)
    magnitude = np.abs(x)
    # tanh(x) = 2 · sigmoid(2x) - 1: the same table read with one fraction bit less.
    positive = np.where(magnitude >> 8 >= 255, 0xFFFF << 8, _interpolate_sigmoid(magnitude, 8))
    result = np.where(x >= 0, positive - (1 << 23) + (1 << 7), -positive + (1 << 23) + (1 << 7) - 1)
    return (result >> 8).astype(np.int16)


# sigmoid(i / 24) in Q0.16 for i = 0..255: the table TFLite's int16 LOGISTIC and TANH
# interpolate. Its entries are tuned for interpolation (they are not the rounded
# sigmoid), so the values themselves are needed to match those kernels bit for bit.
# fmt: off
SIGMOID_TABLE_UINT16 = np.array(
    [
        32768, 33451, 34133, 34813, 35493, 36169, 36843, 37513, 38180, 38841, 39498, 40149, 40794, 41432, 42064,
        42688, 43304, 43912, 44511, 45102, 45683, 46255, 46817, 47369, 47911, 48443, 48964, 49475, 49975, 50464,
        50942, 51409, 51865, 52311, 52745, 53169, 53581, 53983, 54374, 54755, 55125, 55485, 55834, 56174, 56503,
        56823, 57133, 57433, 57724, 58007, 58280, 58544, 58800, 59048, 59288, 59519, 59743, 59959, 60168, 60370,
        60565, 60753, 60935, 61110, 61279, 61441, 61599, 61750, 61896, 62036, 62172, 62302, 62428, 62549, 62666,
        62778, 62886, 62990, 63090, 63186, 63279, 63368, 63454, 63536, 63615, 63691, 63765, 63835, 63903, 63968,
        64030, 64090, 64148, 64204, 64257, 64308, 64357, 64405, 64450, 64494, 64536, 64576, 64614, 64652, 64687,
        64721, 64754, 64786, 64816, 64845, 64873, 64900, 64926, 64950, 64974, 64997, 65019, 65039, 65060, 65079,
        65097, 65115, 65132, 65149, 65164, 65179, 65194, 65208, 65221, 65234, 65246, 65258, 65269, 65280, 65291,
        65301, 65310, 65319, 65328, 65337, 65345, 65352, 65360, 65367, 65374, 65381, 65387, 65393, 65399, 65404,
        65410, 65415, 65420, 65425, 65429, 65433, 65438, 65442, 65445, 65449, 65453, 65456, 65459, 65462, 65465,
        65468, 65471, 65474, 65476, 65479, 65481, 65483, 65485, 65488, 65489, 65491, 65493, 65495, 65497, 65498,
        65500, 65501, 65503, 65504, 65505, 65507, 65508, 65509, 65510, 65511, 65512, 65513, 65514, 65515, 65516,
        65517, 65517, 65518, 65519, 65520, 65520, 65521, 65522, 65522, 65523, 65523, 65524, 65524, 65525, 65525,
        65526, 65526, 65526, 65527, 65527, 65528, 65528, 65528, 65529, 65529, 65529, 65529, 65530, 65530, 65530,
        65530, 65531, 65531, 65531, 65531, 65531, 65532, 65532, 65532, 65532, 65532, 65532, 65533, 65533, 65533,
        65533, 65533, 65533, 65533, 65533, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534,
        65535,
    ],
    dtype=np.int64,
)
# fmt: on
