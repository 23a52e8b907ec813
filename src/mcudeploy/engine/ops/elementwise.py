"""ADD, SUB, MUL, SQUARED_DIFFERENCE, DIV, FLOOR_DIV and FLOOR_MOD with numpy broadcasting, as TFLite
Micro's reference kernels compute them.

Broadcasting never changes the arithmetic of an element in these kernels, so
numpy broadcasting gives TFLM's results. int8 looks results up in a table of all
65536 input pairs, computed once per operator.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np

from mcudeploy.engine.fixedpoint import (
    count_leading_zeros_u32,
    multiply_by_quantized_multiplier,
    multiply_by_quantized_multiplier_smaller_than_one_exp,
    rounding_divide_by_pot,
    saturating_rounding_doubling_high_mul,
    wrap_int32,
)
from mcudeploy.engine.registry import OpContext, kernel
from mcudeploy.errors import UnsupportedOperatorError
from mcudeploy.ir import DType
from mcudeploy.params.elementwise import TYPES, ArithFloatParams, ArithParams
from mcudeploy.params.elementwise import prepare as prepare_params
from mcudeploy.params.quantization import zero_point

F32 = np.float32


def _floor_div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """floor of the quotient taken in double, as TFLM's FloorDiv."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.floor(a.astype(np.float64) / b.astype(np.float64)).astype(F32)


def _floor_mod(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """fmod, moved into the divisor's sign when it is not 0 (TFLM's FloorMod)."""
    with np.errstate(invalid="ignore"):
        mod = np.fmod(a, b)
    return np.where((mod != 0) & ((b < 0) != (mod < 0)), mod + b, mod)


def _divide(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.divide(a, b)


_FLOAT_OPS = {
    "ADD": np.add,
    "SUB": np.subtract,
    "MUL": np.multiply,
    "SQUARED_DIFFERENCE": lambda a, b: (a - b) * (a - b),
    "DIV": _divide,
    "FLOOR_DIV": _floor_div,
    "FLOOR_MOD": _floor_mod,
}


def binary_arithmetic(ctx: OpContext) -> np.ndarray:
    return ctx.prepared(_prepare)(ctx.input(0), ctx.input(1))


for _op_type, _types in TYPES.items():
    kernel(_op_type, types=_types)(binary_arithmetic)


def _prepare(ctx: OpContext) -> _Binary:
    first, second, output = ctx.input_tensor(0), ctx.input_tensor(1), ctx.output_tensor()
    op_type = ctx.op.op_type
    if first.dtype != second.dtype or first.dtype != output.dtype:
        raise UnsupportedOperatorError(ctx.op.label, f"{op_type} of mixed types is not supported by TFLite Micro")
    if output.dtype not in TYPES[op_type]:
        raise UnsupportedOperatorError(ctx.op.label, f"{op_type} of {output.dtype} is not supported by TFLite Micro")
    if op_type == "MUL" and output.dtype == DType.INT16 and any(zero_point(t) for t in (first, second, output)):
        raise UnsupportedOperatorError(ctx.op.label, "int16 MUL needs zero points of 0")
    params = prepare_params(ctx.op, ctx.graph)
    if isinstance(params, ArithFloatParams):
        arithmetic = partial(_float_arithmetic, _FLOAT_OPS[op_type], (params.act_low, params.act_high))
    elif output.dtype == DType.INT32:
        arithmetic = partial(_int32_arithmetic, op_type, (params.act_min, params.act_max))
    else:
        arithmetic = _QuantizedArithmetic(op_type, params)
        if output.dtype == DType.INT8:
            arithmetic = _Int8Table.of(arithmetic)
    return _Binary(arithmetic, output.dtype.numpy, output.shape)


@dataclass(frozen=True)
class _Binary:
    """The arithmetic of one operator's types, its result in the output's type and shape."""

    arithmetic: Callable[[np.ndarray, np.ndarray], np.ndarray]
    dtype: np.dtype
    shape: tuple[int, ...]

    def __call__(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return self.arithmetic(a, b).astype(self.dtype, copy=False).reshape(self.shape)


def _float_arithmetic(
    ufunc: np.ufunc, bounds: tuple[np.float32, np.float32], a: np.ndarray, b: np.ndarray
) -> np.ndarray:
    return np.clip(ufunc(a, b), *bounds)


def _int32_arithmetic(op_type: str, clamp: tuple[int, int], a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Wrapping int32 arithmetic, clamped to the activation's range (the whole int32 range for ADD,
    whose fused activation TFLM ignores)."""
    if op_type == "SQUARED_DIFFERENCE":  # the difference wraps before it is squared
        difference = wrap_int32(a.astype(np.int64) - b)
        return wrap_int32(difference * difference)
    if op_type == "DIV":  # C's division, truncating; by zero (undefined in TFLM) 0, INT32_MIN / -1 wraps
        a, b = np.broadcast_arrays(a.astype(np.int64), b.astype(np.int64))
        quotient = np.abs(a) // np.maximum(np.abs(b), 1) * np.sign(a) * np.sign(b)
        return np.clip(wrap_int32(quotient), *clamp)
    return np.clip(wrap_int32(_FLOAT_OPS[op_type](a.astype(np.int64), b.astype(np.int64))), *clamp)


@dataclass(frozen=True)
class _QuantizedArithmetic:
    """Quantized ADD, SUB or MUL with the operator's parameters: MUL rescales the product of the
    centred inputs; ADD and SUB shift both inputs left by the headroom, rescale each, add or
    subtract, rescale the result."""

    op_type: str
    params: ArithParams

    def __call__(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        p = self.params
        first = a.astype(np.int64) + p.input1_offset
        second = b.astype(np.int64) + p.input2_offset
        if self.op_type == "MUL":
            result = self._mul(first, second)
        elif self.op_type == "DIV":
            result = self._div(first, second)
        elif self.op_type == "SQUARED_DIFFERENCE":
            result = self._squared_difference(first, second)
        else:
            result = self._add_or_sub(first, second)
        return np.clip(result + p.output_offset, p.act_min, p.act_max)

    def _mul(self, first: np.ndarray, second: np.ndarray) -> np.ndarray:
        return multiply_by_quantized_multiplier(first * second, self.params.output_multiplier, self.params.output_shift)

    def _div(self, first: np.ndarray, second: np.ndarray) -> np.ndarray:
        """TFLM's DivElementwise: the divisor made positive, its reciprocal 2^(31 + bits) / divisor
        rounded up (what the tflite-micro package computes, measured over every int8 pair: exact where
        the Newton reciprocal of older TFLM, GetReciprocal, rounds some ties the other way), the dividend
        shifted by its headroom, their rounded doubling high product. A zero divisor (where TFLM's
        result is undefined) gives the type's extreme of the dividend's sign, 0 / 0 the zero point."""
        p = self.params
        first, second = np.broadcast_arrays(np.where(second < 0, -first, first), np.abs(second))
        divisor = np.maximum(second, 1)
        reciprocal_shift = 31 - count_leading_zeros_u32(divisor)
        reciprocal = -((-(np.int64(1) << (31 + reciprocal_shift))) // divisor)  # may be 2^31: int64
        headroom = count_leading_zeros_u32(first ^ (first >> 31)) - 1
        unscaled = ((first << headroom) * reciprocal + (1 << 30)) >> 31
        scaled = saturating_rounding_doubling_high_mul(unscaled, p.output_multiplier)
        quotient = _divide_by_pot_as_tflm(scaled, reciprocal_shift + headroom - p.output_shift)
        extreme = np.where(first > 0, p.act_max - p.output_offset, np.where(first < 0, p.act_min - p.output_offset, 0))
        return np.where(second == 0, extreme, quotient)

    def _scaled(self, first: np.ndarray, second: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        p = self.params
        first = multiply_by_quantized_multiplier_smaller_than_one_exp(
            first << p.left_shift, p.input1_multiplier, p.input1_shift
        )
        second = multiply_by_quantized_multiplier_smaller_than_one_exp(
            second << p.left_shift, p.input2_multiplier, p.input2_shift
        )
        return first, second

    def _squared_difference(self, first: np.ndarray, second: np.ndarray) -> np.ndarray:
        first, second = self._scaled(first, second)
        difference = first - second
        p = self.params
        return multiply_by_quantized_multiplier(difference * difference, p.output_multiplier, p.output_shift)

    def _add_or_sub(self, first: np.ndarray, second: np.ndarray) -> np.ndarray:
        p = self.params
        first, second = self._scaled(first, second)
        raw = first + second if self.op_type == "ADD" else first - second
        return multiply_by_quantized_multiplier_smaller_than_one_exp(raw, p.output_multiplier, p.output_shift)


def _divide_by_pot_as_tflm(x: np.ndarray, exponent: np.ndarray) -> np.ndarray:
    """RoundingDivideByPOT as TFLM's DIV runs it: a tiny quotient (a dividend of magnitude 1 or 0 over
    a large divisor) takes exponents from 32 on, past C's shift range; TFLM's build (x86, the oracle)
    then shifts by the exponent modulo 32 under an all-ones mask, so x >= 0 gives x >> (e - 32) plus 1
    and x < 0 gives x >> (e - 32). md_div_pot in C computes the same, without undefined shifts."""
    beyond = exponent >= 32
    wrapped = np.where(beyond, exponent & 31, 0)
    return np.where(beyond, (x >> wrapped) + (x >= 0), rounding_divide_by_pot(x, np.minimum(exponent, 31)))


@dataclass(frozen=True)
class _Int8Table:
    """int8 arithmetic as a lookup: the result for every pair of inputs, computed once, at index
    (first's bits << 8) | second's bits."""

    table: np.ndarray

    @classmethod
    def of(cls, arithmetic: _QuantizedArithmetic) -> _Int8Table:
        every_value = np.arange(256, dtype=np.uint8).view(np.int8)
        return cls(arithmetic(every_value[:, np.newaxis], every_value[np.newaxis, :]).astype(np.int8).ravel())

    def __call__(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return self.table[(a.view(np.uint8).astype(np.uint16) << 8) | b.view(np.uint8)]
