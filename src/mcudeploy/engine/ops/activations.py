"""Activations: RELU, RELU6, RELU_N1_TO_1, LEAKY_RELU, HARD_SWISH, LOGISTIC, TANH.

Quantized paths follow TFLite Micro's reference kernels (RELU_N1_TO_1, which
TFLM lacks, follows LiteRT's); like the tflite-micro interpreter, they derive
multipliers from the float32 scales in double. 8-bit inputs go through a table
of the function's 256 values, computed once per operator. Float paths compute in
float32; the exponential is evaluated in float64 and rounded, as close as numpy
gets to libm's expf.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np

from mcudeploy.engine.activation import quantize_scalar, quantized_activation_range
from mcudeploy.engine.fixedpoint import (
    fixed_logistic,
    fixed_tanh,
    multiply_by_quantized_multiplier,
    quantize_multiplier,
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
from mcudeploy.ir import Activation, DType, Tensor
from mcudeploy.ir.options import LeakyReluOptions

F32 = np.float32


def _scale(tensor: Tensor) -> float:
    return tensor.quantization.single_scale if tensor.quantization else 0.0


def _zero_point(tensor: Tensor) -> int:
    return tensor.quantization.single_zero_point if tensor.quantization else 0


def _unsupported(ctx: OpContext, dtype: DType) -> UnsupportedOperatorError:
    return UnsupportedOperatorError(ctx.op.label, f"{ctx.op.op_type} of {dtype} is not supported by TFLite Micro")


def _exp_f32(x: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):  # overflow to inf is what expf gives too
        return np.exp(x.astype(np.float64)).astype(np.float32)


# --- RELU family -----------------------------------------------------------------

_RELU_FAMILY = {"RELU": Activation.RELU, "RELU_N1_TO_1": Activation.RELU_N1_TO_1}
_FLOAT_RELU_BOUNDS = {"RELU": (F32(0), None), "RELU6": (F32(0), F32(6)), "RELU_N1_TO_1": (F32(-1), F32(1))}


@kernel("RELU", "RELU6", "RELU_N1_TO_1")
def relu(ctx: OpContext) -> np.ndarray:
    return ctx.prepared(_prepare_relu)(ctx.input(0))


def _prepare_relu(ctx: OpContext) -> Callable[[np.ndarray], np.ndarray]:
    source, output = ctx.input_tensor(0), ctx.output_tensor()
    if source.dtype == DType.FLOAT32:
        return partial(_float_relu, *_FLOAT_RELU_BOUNDS[ctx.op.op_type])
    if source.dtype not in (DType.INT8, DType.INT16):
        raise _unsupported(ctx, source.dtype)
    if ctx.op.op_type == "RELU6":
        return partial(_relu6_quantized, *_relu6_bounds(source))
    return _tabulated(source, _Rescale.of(source, output, _RELU_FAMILY[ctx.op.op_type]))


def _tabulated(source: Tensor, function: Callable[[np.ndarray], np.ndarray]) -> Callable[[np.ndarray], np.ndarray]:
    return tabulated(function, source.dtype.numpy, source.size)


def _float_relu(low: np.float32, high: np.float32 | None, data: np.ndarray) -> np.ndarray:
    clamped = np.where(data < low, low, data)  # keeps NaN and -0.0 as the C comparisons do
    return clamped if high is None else np.where(clamped > high, high, clamped)


@dataclass(frozen=True)
class _Rescale:
    """Rescale to the output's quantization, then clamp to the activation's range there."""

    scaling: tuple[int, int]
    zero_points: tuple[int, int]
    clamp: tuple[int, int]
    dtype: np.dtype

    @classmethod
    def of(cls, source: Tensor, output: Tensor, activation: Activation) -> _Rescale:
        scaling = quantize_multiplier(_scale(source) / _scale(output))
        clamp = quantized_activation_range(activation, output)
        return cls(scaling, (_zero_point(source), _zero_point(output)), clamp, output.dtype.numpy)

    def __call__(self, data: np.ndarray) -> np.ndarray:
        centered = data.astype(np.int64) - self.zero_points[0]
        scaled = self.zero_points[1] + multiply_by_quantized_multiplier(centered, *self.scaling)
        return np.clip(scaled, *self.clamp).astype(self.dtype)


def _relu6_bounds(source: Tensor) -> tuple[int, int]:
    """TFLM's RELU6 clamps in the input's quantization (it assumes the output shares it)."""
    info = np.iinfo(source.dtype.numpy)
    zero = _zero_point(source)
    return zero, int(np.clip(quantize_scalar(6.0, _scale(source), zero), info.min, info.max))


def _relu6_quantized(zero: int, six: int, data: np.ndarray) -> np.ndarray:
    return np.where(data > six, six, np.where(data < zero, zero, data)).astype(data.dtype)


# --- LEAKY_RELU ------------------------------------------------------------------


@kernel("LEAKY_RELU")
def leaky_relu(ctx: OpContext) -> np.ndarray:
    return ctx.prepared(_prepare_leaky_relu)(ctx.input(0))


def _prepare_leaky_relu(ctx: OpContext) -> Callable[[np.ndarray], np.ndarray]:
    source, output = ctx.input_tensor(0), ctx.output_tensor()
    alpha = F32((ctx.options or LeakyReluOptions()).alpha)
    if source.dtype == DType.FLOAT32:
        return partial(_float_leaky_relu, alpha)
    if source.dtype not in (DType.INT8, DType.INT16):
        raise _unsupported(ctx, source.dtype)
    return _tabulated(source, _QuantizedLeakyRelu.of(source, output, alpha))


def _float_leaky_relu(alpha: np.float32, data: np.ndarray) -> np.ndarray:
    return np.where(data > 0, data, data * alpha)


@dataclass(frozen=True)
class _QuantizedLeakyRelu:
    """The identity and alpha each as a quantized multiplier; a negative alpha is applied as a
    positive multiplier and a negation afterwards."""

    identity: tuple[int, int]
    alpha: tuple[int, int]
    zero_points: tuple[int, int]
    dtype: np.dtype

    @classmethod
    def of(cls, source: Tensor, output: Tensor, alpha: np.float32) -> _QuantizedLeakyRelu:
        input_scale, output_scale = _scale(source), _scale(output)
        identity = quantize_multiplier(input_scale / output_scale)
        alpha_scaling = quantize_multiplier(input_scale * float(alpha) / output_scale)
        return cls(identity, alpha_scaling, (_zero_point(source), _zero_point(output)), output.dtype.numpy)

    def __call__(self, data: np.ndarray) -> np.ndarray:
        alpha_multiplier, alpha_shift = self.alpha
        centered = data.astype(np.int64) - self.zero_points[0]
        scaled_negative = multiply_by_quantized_multiplier(centered, abs(alpha_multiplier), alpha_shift)
        scaled_negative = -scaled_negative if alpha_multiplier < 0 else scaled_negative
        scaled_positive = multiply_by_quantized_multiplier(centered, *self.identity)
        result = self.zero_points[1] + np.where(centered >= 0, scaled_positive, scaled_negative)
        return saturate(result, self.dtype)


# --- HARD_SWISH ------------------------------------------------------------------


@kernel("HARD_SWISH")
def hard_swish(ctx: OpContext) -> np.ndarray:
    return ctx.prepared(_prepare_hard_swish)(ctx.input(0))


def _prepare_hard_swish(ctx: OpContext) -> Callable[[np.ndarray], np.ndarray]:
    source, output = ctx.input_tensor(0), ctx.output_tensor()
    if source.dtype == DType.FLOAT32:
        return _float_hard_swish
    if source.dtype != DType.INT8:
        raise _unsupported(ctx, source.dtype)
    return _tabulated(source, partial(_hard_swish_int8, source=source, output=output, label=ctx.op.label))


def _float_hard_swish(data: np.ndarray) -> np.ndarray:
    return data * np.clip(data + F32(3), F32(0), F32(6)) / F32(6)


def int16_multiplier(real_multiplier: float) -> tuple[int, int]:
    """QuantizeMultiplier, then the multiplier rounded to 16 bits (DownScaleInt32ToInt16Multiplier)."""
    multiplier, exponent = quantize_multiplier(real_multiplier)
    if multiplier >= 2**31 - 1 - 2**15:
        return 2**15 - 1, exponent
    return (multiplier + 2**15) >> 16, exponent


def _hard_swish_int8(data: np.ndarray, source: Tensor, output: Tensor, label: str) -> np.ndarray:
    """x · relu6(x + 3) / 6 in int16 fixed point: x on a 2^7 finer scale, the 'reluish' factor
    relu6(x + 3) / 6 mapped to [0, 1) in Q0.15."""
    hires_input_scale = _scale(source) / 128
    output_multiplier, output_exponent = int16_multiplier(hires_input_scale / _scale(output))
    if output_exponent > 0:
        raise UnsupportedOperatorError(label, "HARD_SWISH output scale below input scale / 128 (TFLM refuses it)")
    reluish_multiplier, reluish_exponent = int16_multiplier(hires_input_scale / (3 / 32768))

    hires_input = wrap_int16(wrap_int16(data.astype(np.int64) - _zero_point(source)) * 128)
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
    result = wrap_int16(rounding_divide_by_pot_int16(preshift_output, -output_exponent) + _zero_point(output))
    return saturate(result, np.int8)


# --- LOGISTIC and TANH -----------------------------------------------------------

_LOGISTIC_UPPER_CUTOFF = F32(16.619047164916992188)
_LOGISTIC_LOWER_CUTOFF = F32(-9)


@kernel("LOGISTIC")
def logistic(ctx: OpContext) -> np.ndarray:
    return ctx.prepared(_prepare_logistic)(ctx.input(0))


def _prepare_logistic(ctx: OpContext) -> Callable[[np.ndarray], np.ndarray]:
    source, output = ctx.input_tensor(0), ctx.output_tensor()
    if source.dtype == DType.FLOAT32:
        return _float_logistic
    if source.dtype == DType.INT8:
        if _zero_point(output) != -128:
            raise UnsupportedOperatorError(ctx.op.label, "int8 LOGISTIC needs an output zero point of -128")
        return _tabulated(
            source,
            partial(_sigmoid_like_int8, source=source, function=fixed_logistic, output_shift=23, output_offset=-128),
        )
    if source.dtype == DType.INT16:
        _check_int16_sigmoid_like(ctx, source, output)
        return _tabulated(source, partial(_logistic_int16, rescale=int16_input_rescale(source, (0,))))
    raise _unsupported(ctx, source.dtype)


def _float_logistic(data: np.ndarray) -> np.ndarray:
    # Above the upper cutoff the result is 1; below the lower one, exp(x) alone.
    exp_of_minus = _exp_f32(-data)
    middle = F32(1) / (F32(1) + exp_of_minus)
    below = _exp_f32(data)
    return np.where(data > _LOGISTIC_UPPER_CUTOFF, F32(1), np.where(data < _LOGISTIC_LOWER_CUTOFF, below, middle))


@kernel("TANH")
def tanh(ctx: OpContext) -> np.ndarray:
    return ctx.prepared(_prepare_tanh)(ctx.input(0))


def _prepare_tanh(ctx: OpContext) -> Callable[[np.ndarray], np.ndarray]:
    source, output = ctx.input_tensor(0), ctx.output_tensor()
    if source.dtype == DType.FLOAT32:
        return _float_tanh
    if source.dtype == DType.INT8:
        return _tabulated(
            source, partial(_sigmoid_like_int8, source=source, function=fixed_tanh, output_shift=24, output_offset=0)
        )
    if source.dtype == DType.INT16:
        _check_int16_sigmoid_like(ctx, source, output)
        return _tabulated(source, partial(_tanh_int16, rescale=int16_input_rescale(source, (0, 1))))
    raise _unsupported(ctx, source.dtype)


def _float_tanh(data: np.ndarray) -> np.ndarray:
    return np.tanh(data.astype(np.float64)).astype(np.float32)


_INT8_INPUT_INTEGER_BITS = 4


def _sigmoid_like_int8(
    data: np.ndarray,
    source: Tensor,
    function: Callable[[np.ndarray, int], np.ndarray],
    output_shift: int,
    output_offset: int,
) -> np.ndarray:
    """int8 LOGISTIC/TANH: the input rescaled to Q4.27, gemmlowp's fixed-point function, the
    Q0.31 result shifted to 8 bits. Inputs beyond the radius where the result saturates go
    straight to the int8 extremes."""
    real_multiplier = float(_scale(source)) * 2.0 ** (31 - _INT8_INPUT_INTEGER_BITS)
    mantissa, left_shift = math.frexp(real_multiplier)
    multiplier = round(mantissa * 2**31)  # exact: a float32 scale has a 24-bit mantissa
    radius = math.floor((2**_INT8_INPUT_INTEGER_BITS - 1) * 2.0 ** (31 - _INT8_INPUT_INTEGER_BITS) / 2.0**left_shift)

    centered = data.astype(np.int64) - _zero_point(source)
    in_q4 = multiply_by_quantized_multiplier(centered, multiplier, left_shift)
    result = rounding_divide_by_pot(function(in_q4, _INT8_INPUT_INTEGER_BITS), output_shift) + output_offset
    result = np.where(centered <= -radius, -128, np.where(centered >= radius, 127, result))
    return saturate(result, np.int8)


def checked_log2(value: float) -> tuple[bool, int]:
    """TFLite's CheckedLog2 (float32): (is a power of two, rounded log2)."""
    log2 = np.log(F32(value)) * (F32(1) / np.log(F32(2)))
    rounded = F32(np.sign(log2) * np.floor(np.abs(log2) + F32(0.5)))
    return bool(abs(log2 - rounded) < F32(1e-3)), int(rounded)


def _check_int16_sigmoid_like(ctx: OpContext, source: Tensor, output: Tensor) -> None:
    if _zero_point(source) != 0 or _zero_point(output) != 0:
        raise UnsupportedOperatorError(ctx.op.label, f"int16 {ctx.op.op_type} needs zero points of 0")
    is_pot, log2 = checked_log2(_scale(output))
    if not is_pot or log2 != -15:
        raise UnsupportedOperatorError(ctx.op.label, f"int16 {ctx.op.op_type} needs an output scale of 2^-15")


def int16_input_rescale(source: Tensor, pot_left_shifts: tuple[int, ...]) -> tuple[int, int]:
    """(multiplier, right shift) taking int16 input to the Q3.12 · 3 domain the sigmoid table is
    indexed in. A power-of-two scale with a small shift gets the exact multiplier 3 << shift."""
    is_pot, log2 = checked_log2(_scale(source))
    left_shift = 12 + log2
    if is_pot and left_shift in pot_left_shifts:
        return 3 << left_shift, 0
    multiplier = float(_scale(source)) * 4096.0 * 3.0
    shift = 0
    while multiplier <= 32767.0 / 2.0 and shift <= 30:
        shift += 1
        multiplier *= 2.0
    return int(multiplier), shift


def _rescaled_int16_input(data: np.ndarray, multiplier: int, shift: int) -> np.ndarray:
    rounding = (1 << (shift - 1)) if shift > 0 else 0
    return (data.astype(np.int64) * multiplier + rounding) >> shift


def _interpolate_sigmoid(magnitude: np.ndarray, fraction_bits: int) -> np.ndarray:
    """Linear interpolation in the sigmoid table of |x|, whose low `fraction_bits` bits interpolate."""
    segment = np.minimum(magnitude >> fraction_bits, 254)
    low, high = SIGMOID_TABLE_UINT16[segment], SIGMOID_TABLE_UINT16[segment + 1]
    fraction = magnitude & ((1 << fraction_bits) - 1)
    return (low << fraction_bits) + fraction * (high - low)


def _logistic_int16(data: np.ndarray, rescale: tuple[int, int]) -> np.ndarray:
    x = _rescaled_int16_input(data, *rescale)
    magnitude = np.abs(x)
    positive = np.where(magnitude >> 9 >= 255, 0x7FFF << 10, _interpolate_sigmoid(magnitude, 9))
    result = np.where(x >= 0, positive + (1 << 9), (1 << 25) - positive + (1 << 9) - 1)
    return (result >> 10).astype(np.int16)


def _tanh_int16(data: np.ndarray, rescale: tuple[int, int]) -> np.ndarray:
    x = _rescaled_int16_input(data, *rescale)
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
