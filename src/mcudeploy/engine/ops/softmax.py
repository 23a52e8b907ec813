"""SOFTMAX and LOG_SOFTMAX over the last axis, as TFLite Micro's reference kernels compute them.

int8 input (to int8 or int16 output) uses gemmlowp fixed-point exp and reciprocal;
int16 uses interpolated lookup tables; float32 computes in float32. LOG_SOFTMAX
(int8 and float32) takes the fixed-point logarithm of the same sum of exponentials.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, partial

import numpy as np

from mcudeploy.engine.fixedpoint import (
    clamp_and_narrow,
    count_leading_zeros_u32,
    exp_on_negative_values,
    get_reciprocal,
    log_x_for_x_greater_than_or_equal_to_1,
    lut_lookup_int16,
    lut_populate_int16,
    multiply_by_quantized_multiplier,
    multiply_by_quantized_multiplier_greater_than_one,
    rescale,
    rounding_divide_by_pot,
    saturating_rounding_doubling_high_mul,
    wrap_int32,
)
from mcudeploy.engine.registry import OpContext, kernel
from mcudeploy.errors import UnsupportedOperatorError
from mcudeploy.ir import DType, Tensor
from mcudeploy.params.softmax import DIFF_INTEGER_BITS, SoftmaxParams, prepare_log_softmax
from mcudeploy.params.softmax import prepare as prepare_params

F32 = np.float32
_SUM_INTEGER_BITS = 12


@kernel("SOFTMAX", types=(DType.INT8, DType.INT16, DType.FLOAT32))
def softmax(ctx: OpContext) -> np.ndarray:
    return ctx.prepared(_prepare)(ctx.input(0))


def _prepare(ctx: OpContext) -> Callable[[np.ndarray], np.ndarray]:
    """The softmax of this operator's types, its constants (multipliers, tables) worked out."""
    source, output = ctx.input_tensor(0), ctx.output_tensor()
    if source.dtype == DType.FLOAT32 and output.dtype == DType.FLOAT32:
        return partial(_softmax_float, beta=prepare_params(ctx.op, ctx.graph).beta)
    if source.dtype == DType.INT8 and output.dtype in (DType.INT8, DType.INT16):
        _check_int8_output(ctx, output)
        return _Int8InputSoftmax.of(ctx.op.label, prepare_params(ctx.op, ctx.graph), output.dtype.numpy)
    if source.dtype == DType.INT16 and output.dtype == DType.INT16:
        _check_int16(ctx, source, output)
        params = prepare_params(ctx.op, ctx.graph)
        return partial(_softmax_int16, scaling=(params.input_multiplier, params.input_shift))
    raise UnsupportedOperatorError(
        ctx.op.label, f"SOFTMAX from {source.dtype} to {output.dtype} is not supported by TFLite Micro"
    )


def _softmax_float(data: np.ndarray, beta: np.float32) -> np.ndarray:
    exps = np.exp(((data - data.max(axis=-1, keepdims=True)) * beta).astype(np.float64)).astype(np.float32)
    total = np.cumsum(exps, axis=-1, dtype=np.float32)[..., -1:]  # summed in order, as the kernel does
    return exps / total


def _check_int8_output(ctx: OpContext, output: Tensor) -> None:
    quant = output.quantization
    if output.dtype == DType.INT8:
        good = quant is not None and quant.single_zero_point == -128 and F32(quant.single_scale) == F32(1 / 256)
        expected = "zero point -128 and scale 1/256"
    else:
        good = (
            quant is not None
            and quant.single_zero_point == -32768
            and abs(F32(quant.single_scale) - F32(1 / 65536)) <= F32(0.001) * F32(1 / 65536)
        )
        expected = "zero point -32768 and scale 1/65536"
    if not good:
        raise UnsupportedOperatorError(ctx.op.label, f"SOFTMAX {output.dtype} output needs {expected}")


@dataclass(frozen=True)
class _Int8InputSoftmax:
    """exp of the (beta-scaled) difference to the row maximum in Q5.26, the row sum in Q12.19,
    then each exp times the sum's reciprocal, shifted to the output's bits.

    A difference below diff_min has an exp of 0 in the tables: it adds nothing to the sum, and
    its output comes out as the lowest value, which is what TFLM's kernel writes for it."""

    label: str
    exp_table: np.ndarray
    """exp of each difference 0, -1, ..., -255, indexed by its negation."""
    sum_terms: np.ndarray
    """The same in the sum's Q12.19."""
    out_dtype: np.dtype

    @classmethod
    def of(cls, label: str, params: SoftmaxParams, out_dtype: np.dtype) -> _Int8InputSoftmax:
        every_diff = -np.arange(256)
        scaled = multiply_by_quantized_multiplier_greater_than_one(
            every_diff, params.input_multiplier, params.input_shift
        )
        exp_table = np.where(every_diff >= params.diff_min, exp_on_negative_values(scaled, DIFF_INTEGER_BITS), 0)
        return cls(label, exp_table, rescale(exp_table, 0, _SUM_INTEGER_BITS), out_dtype)

    def __call__(self, data: np.ndarray) -> np.ndarray:
        values = data.astype(np.int64)
        minus_diff = values.max(axis=-1, keepdims=True) - values
        exps = self.exp_table[minus_diff]
        sum_of_exps = wrap_int32(self.sum_terms[minus_diff].sum(axis=-1, keepdims=True))
        reciprocal, num_bits_over_unit = get_reciprocal(sum_of_exps, _SUM_INTEGER_BITS)
        exponent = num_bits_over_unit + 31 - 8 * self.out_dtype.itemsize
        if np.any(exponent > 31):
            raise UnsupportedOperatorError(
                self.label, "a SOFTMAX row's sum of exponentials reaches 512, which TFLM's int8 kernel aborts on"
            )
        info = np.iinfo(self.out_dtype)
        scaled = rounding_divide_by_pot(saturating_rounding_doubling_high_mul(reciprocal, exps), exponent) + info.min
        return clamp_and_narrow(scaled, np.int64(info.min), np.int64(info.max), self.out_dtype)


def _check_int16(ctx: OpContext, source: Tensor, output: Tensor) -> None:
    quant = output.quantization
    good = (
        source.quantization is not None
        and source.quantization.single_zero_point == 0
        and quant is not None
        and quant.single_zero_point == 0
        and abs(F32(quant.single_scale) - F32(1 / 32768)) <= F32(0.001) * F32(1 / 32768)
    )
    if not good:
        raise UnsupportedOperatorError(
            ctx.op.label, "int16 SOFTMAX needs zero points of 0 and an output scale of 1/32768"
        )


_INT16_RANGE = 65535


@cache
def int16_luts() -> tuple[np.ndarray, np.ndarray]:
    """exp on [-10, 0] and 1 / (1 + x) on [0, 1], both to [-1, 1] in int16, as TFLM fills them."""

    def exp(x: np.ndarray) -> np.ndarray:
        return np.exp(x.astype(np.float64)).astype(np.float32)

    def one_over_one_plus(x: np.ndarray) -> np.ndarray:
        return F32(1) / (F32(1) + x)

    output_scale = F32(2) / F32(_INT16_RANGE)
    exp_lut = lut_populate_int16(exp, F32(10) / F32(_INT16_RANGE), 32767, output_scale, 0)
    reciprocal_lut = lut_populate_int16(one_over_one_plus, F32(1) / F32(_INT16_RANGE), -32768, output_scale, 0)
    return exp_lut, reciprocal_lut


def _softmax_int16(data: np.ndarray, scaling: tuple[int, int]) -> np.ndarray:
    """The difference to the row maximum scaled onto the exp table's input range, the row sum
    normalised to [1, 2) for the reciprocal table, results in Q0.15."""
    exp_lut, reciprocal_lut = int16_luts()
    values = data.astype(np.int64)
    scaled_diff = multiply_by_quantized_multiplier(values - values.max(axis=-1, keepdims=True), *scaling)
    exps = lut_lookup_int16(np.clip(scaled_diff + 32767, -32768, 32767), exp_lut)

    sum_of_exps = wrap_int32(exps.sum(axis=-1, keepdims=True))
    headroom_plus_one = count_leading_zeros_u32(sum_of_exps)
    shifted_sum = ((sum_of_exps << (headroom_plus_one - 1)) + (1 << 13)) >> 14
    reciprocal = lut_lookup_int16(np.clip(shifted_sum - (1 << 15) - (1 << 16), -32768, 32767), reciprocal_lut)
    right_shift = 31 - headroom_plus_one
    result = (exps * reciprocal + (np.int64(1) << (right_shift - 1))) >> right_shift
    return np.clip(result, 0, 32767).astype(np.int16)


# ------------------------------------------------------------------ LOG_SOFTMAX

_LOG_OUTPUT_INTEGER_BITS = 4


@kernel("LOG_SOFTMAX", types=(DType.INT8, DType.FLOAT32))
def log_softmax(ctx: OpContext) -> np.ndarray:
    return ctx.prepared(_prepare_log_softmax)(ctx.input(0))


def _prepare_log_softmax(ctx: OpContext) -> Callable[[np.ndarray], np.ndarray]:
    source, output = ctx.input_tensor(0), ctx.output_tensor()
    if source.dtype == DType.FLOAT32 and output.dtype == DType.FLOAT32:
        return _log_softmax_float
    if source.dtype == DType.INT8 and output.dtype == DType.INT8:
        return partial(_log_softmax_int8, params=prepare_log_softmax(ctx.op, ctx.graph))
    raise UnsupportedOperatorError(
        ctx.op.label, f"LOG_SOFTMAX from {source.dtype} to {output.dtype} is not supported by TFLite Micro"
    )


def _log_softmax_float(data: np.ndarray) -> np.ndarray:
    shifted = data - data.max(axis=-1, keepdims=True)
    exps = np.exp(shifted.astype(np.float64)).astype(np.float32)
    log_sum = np.log(np.cumsum(exps, axis=-1, dtype=np.float32)[..., -1:].astype(np.float64)).astype(np.float32)
    return shifted - log_sum


def _log_softmax_int8(data: np.ndarray, params: SoftmaxParams) -> np.ndarray:
    """Differences to the row maximum in Q5.26, their exps summed in Q12.19, the sum's logarithm
    in Q5.26 subtracted, the result in steps of 1/16 from 127; differences too small for the
    output (below what the logarithm leaves representable) give -128."""
    values = data.astype(np.int64)
    diff = values - values.max(axis=-1, keepdims=True)
    in_q5 = multiply_by_quantized_multiplier(diff, params.input_multiplier, params.input_shift)
    terms = rescale(exp_on_negative_values(in_q5, DIFF_INTEGER_BITS), 0, _SUM_INTEGER_BITS)
    sum_of_exps = wrap_int32(np.where(diff >= params.diff_min, terms, 0).sum(axis=-1, keepdims=True))
    log_sum = log_x_for_x_greater_than_or_equal_to_1(sum_of_exps, _SUM_INTEGER_BITS, DIFF_INTEGER_BITS)
    lowest_representable = multiply_by_quantized_multiplier(
        wrap_int32(log_sum - 2**31), params.reverse_multiplier, -params.reverse_right_shift
    )
    adjusted_diff_min = np.maximum(params.diff_min - 1, lowest_representable)
    shift = 31 - DIFF_INTEGER_BITS - _LOG_OUTPUT_INTEGER_BITS
    result = rounding_divide_by_pot(wrap_int32(in_q5 - log_sum), shift) + 127
    return np.where(diff > adjusted_diff_min, np.clip(result, -128, 127), -128).astype(np.int8)
