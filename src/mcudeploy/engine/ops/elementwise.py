"""ADD, SUB and MUL with numpy broadcasting, as TFLite Micro's reference kernels compute them.

Broadcasting never changes the arithmetic of an element in these kernels, so
numpy broadcasting gives TFLM's results. int8 looks results up in a table of all
65536 input pairs, computed once per operator.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np

from mcudeploy.engine.activation import float_activation_range, quantized_activation_range
from mcudeploy.engine.fixedpoint import (
    multiply_by_quantized_multiplier,
    multiply_by_quantized_multiplier_smaller_than_one_exp,
    quantize_multiplier,
    quantize_multiplier_smaller_than_one_exp,
    wrap_int32,
)
from mcudeploy.engine.registry import OpContext, kernel
from mcudeploy.errors import UnsupportedOperatorError
from mcudeploy.ir import Activation, DType, Tensor

F32 = np.float32
_FLOAT_OPS = {"ADD": np.add, "SUB": np.subtract, "MUL": np.multiply}


@kernel("ADD", "SUB", "MUL")
def binary_arithmetic(ctx: OpContext) -> np.ndarray:
    return ctx.prepared(_prepare)(ctx.input(0), ctx.input(1))


def _prepare(ctx: OpContext) -> _Binary:
    first, second, output = ctx.input_tensor(0), ctx.input_tensor(1), ctx.output_tensor()
    activation = ctx.options.activation if ctx.options else Activation.NONE
    op_type = ctx.op.op_type
    if first.dtype != second.dtype or first.dtype != output.dtype:
        raise UnsupportedOperatorError(ctx.op.label, f"{op_type} of mixed types is not supported by TFLite Micro")
    if output.dtype == DType.FLOAT32:
        arithmetic = partial(_float_arithmetic, _FLOAT_OPS[op_type], _float_bounds(activation))
    elif output.dtype == DType.INT32:
        arithmetic = partial(_int32_arithmetic, op_type, activation)
    elif output.dtype in (DType.INT8, DType.INT16):
        if op_type == "MUL" and output.dtype == DType.INT16 and any(_zero_point(t) for t in (first, second, output)):
            raise UnsupportedOperatorError(ctx.op.label, "int16 MUL needs zero points of 0")
        arithmetic = _QuantizedArithmetic.of(
            op_type,
            scales=(_scale(first), _scale(second), _scale(output)),
            zero_points=(_zero_point(first), _zero_point(second), _zero_point(output)),
            clamp=quantized_activation_range(activation, output),
            left_shift=15 if output.dtype == DType.INT16 else 20,
        )
        if output.dtype == DType.INT8:
            arithmetic = _Int8Table.of(arithmetic)
    else:
        raise UnsupportedOperatorError(ctx.op.label, f"{op_type} of {output.dtype} is not supported by TFLite Micro")
    return _Binary(arithmetic, output.dtype.numpy, output.shape)


@dataclass(frozen=True)
class _Binary:
    """The arithmetic of one operator's types, its result in the output's type and shape."""

    arithmetic: Callable[[np.ndarray, np.ndarray], np.ndarray]
    dtype: np.dtype
    shape: tuple[int, ...]

    def __call__(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return self.arithmetic(a, b).astype(self.dtype, copy=False).reshape(self.shape)


def _float_bounds(activation: Activation) -> tuple[np.float32, np.float32]:
    """The activation's range; without one TFLite still clamps to the finite floats."""
    low, high = float_activation_range(activation)
    largest = np.finfo(np.float32).max
    return F32(max(low, -largest)), F32(min(high, largest))


def _float_arithmetic(
    ufunc: np.ufunc, bounds: tuple[np.float32, np.float32], a: np.ndarray, b: np.ndarray
) -> np.ndarray:
    return np.clip(ufunc(a, b), *bounds)


def _int32_arithmetic(op_type: str, activation: Activation, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Wrapping int32 arithmetic. TFLM's int32 ADD ignores the fused activation; SUB and MUL apply it."""
    result = wrap_int32(_FLOAT_OPS[op_type](a.astype(np.int64), b.astype(np.int64)))
    if op_type == "ADD" or activation == Activation.NONE:
        return result
    low, high = float_activation_range(activation)
    info = np.iinfo(np.int32)
    return np.clip(result, max(low, info.min), min(high, info.max))


def _scale(tensor: Tensor) -> float:
    return tensor.quantization.single_scale


def _zero_point(tensor: Tensor) -> int:
    return tensor.quantization.single_zero_point


@dataclass(frozen=True)
class _QuantizedArithmetic:
    """Quantized ADD, SUB or MUL, its multipliers derived once from the scales of (first input,
    second input, output).

    `clamp` is the activation's range; ADD and SUB keep `left_shift` bits of headroom (20 for
    int8, 15 for int16).
    """

    op_type: str
    zero_points: tuple[int, int, int]
    clamp: tuple[int, int]
    left_shift: int
    scalings: tuple[tuple[int, int], ...]
    """MUL: one (multiplier, shift); ADD and SUB: those of the first input, the second, the result."""

    @classmethod
    def of(
        cls,
        op_type: str,
        scales: tuple[float, float, float],
        zero_points: tuple[int, int, int],
        clamp: tuple[int, int],
        left_shift: int,
    ) -> _QuantizedArithmetic:
        first_scale, second_scale, output_scale = scales
        if op_type == "MUL":
            scalings = (quantize_multiplier(first_scale * second_scale / output_scale),)
        else:
            # Inputs rescaled to half the larger input scale, then the sum or difference to the
            # output scale; the ratios are taken in double.
            twice_max = 2.0 * max(first_scale, second_scale)
            ratios = (first_scale / twice_max, second_scale / twice_max, twice_max / (2**left_shift * output_scale))
            scalings = tuple(quantize_multiplier_smaller_than_one_exp(ratio) for ratio in ratios)
        return cls(op_type, zero_points, clamp, left_shift, scalings)

    def __call__(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        first = a.astype(np.int64) - self.zero_points[0]
        second = b.astype(np.int64) - self.zero_points[1]
        result = self._mul(first, second) if self.op_type == "MUL" else self._add_or_sub(first, second)
        return np.clip(result + self.zero_points[2], *self.clamp)

    def _mul(self, first: np.ndarray, second: np.ndarray) -> np.ndarray:
        return multiply_by_quantized_multiplier(first * second, *self.scalings[0])

    def _add_or_sub(self, first: np.ndarray, second: np.ndarray) -> np.ndarray:
        first_scaling, second_scaling, output_scaling = self.scalings
        first = multiply_by_quantized_multiplier_smaller_than_one_exp(first << self.left_shift, *first_scaling)
        second = multiply_by_quantized_multiplier_smaller_than_one_exp(second << self.left_shift, *second_scaling)
        raw = first + second if self.op_type == "ADD" else first - second
        return multiply_by_quantized_multiplier_smaller_than_one_exp(raw, *output_scaling)


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
