"""ADD, SUB, MUL and SQUARED_DIFFERENCE with numpy broadcasting, as TFLite Micro's reference kernels compute them.

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
    multiply_by_quantized_multiplier,
    multiply_by_quantized_multiplier_smaller_than_one_exp,
    wrap_int32,
)
from mcudeploy.engine.registry import OpContext, kernel
from mcudeploy.errors import UnsupportedOperatorError
from mcudeploy.ir import DType
from mcudeploy.params.elementwise import ArithFloatParams, ArithParams
from mcudeploy.params.elementwise import prepare as prepare_params
from mcudeploy.params.quantization import zero_point

F32 = np.float32
_FLOAT_OPS = {
    "ADD": np.add,
    "SUB": np.subtract,
    "MUL": np.multiply,
    "SQUARED_DIFFERENCE": lambda a, b: (a - b) * (a - b),
}


@kernel("ADD", "SUB", "MUL", "SQUARED_DIFFERENCE", types=(DType.FLOAT32, DType.INT32, DType.INT8, DType.INT16))
def binary_arithmetic(ctx: OpContext) -> np.ndarray:
    return ctx.prepared(_prepare)(ctx.input(0), ctx.input(1))


def _prepare(ctx: OpContext) -> _Binary:
    first, second, output = ctx.input_tensor(0), ctx.input_tensor(1), ctx.output_tensor()
    op_type = ctx.op.op_type
    if first.dtype != second.dtype or first.dtype != output.dtype:
        raise UnsupportedOperatorError(ctx.op.label, f"{op_type} of mixed types is not supported by TFLite Micro")
    if output.dtype not in (DType.FLOAT32, DType.INT32, DType.INT8, DType.INT16):
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
        elif self.op_type == "SQUARED_DIFFERENCE":
            result = self._squared_difference(first, second)
        else:
            result = self._add_or_sub(first, second)
        return np.clip(result + p.output_offset, p.act_min, p.act_max)

    def _mul(self, first: np.ndarray, second: np.ndarray) -> np.ndarray:
        return multiply_by_quantized_multiplier(first * second, self.params.output_multiplier, self.params.output_shift)

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
