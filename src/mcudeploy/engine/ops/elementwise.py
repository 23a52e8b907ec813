"""ADD, SUB and MUL with numpy broadcasting, as TFLite Micro's reference kernels compute them.

Broadcasting never changes the arithmetic of an element in these kernels, so
numpy broadcasting gives TFLM's results. int8 looks results up in a table of all
65536 input pairs, computed once per set of quantization parameters.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

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
    a, b = ctx.input(0), ctx.input(1)
    first, second, output = ctx.input_tensor(0), ctx.input_tensor(1), ctx.output_tensor()
    activation = ctx.options.activation if ctx.options else Activation.NONE
    op_type = ctx.op.op_type
    if first.dtype != second.dtype or first.dtype != output.dtype:
        raise UnsupportedOperatorError(ctx.op.label, f"{op_type} of mixed types is not supported by TFLite Micro")
    if output.dtype == DType.FLOAT32:
        result = _float_clamp(_FLOAT_OPS[op_type](a, b), activation)
    elif output.dtype == DType.INT32:
        result = _int32_arithmetic(op_type, a, b, activation)
    elif output.dtype in (DType.INT8, DType.INT16):
        if op_type == "MUL" and output.dtype == DType.INT16 and any(_zero_point(t) for t in (first, second, output)):
            raise UnsupportedOperatorError(ctx.op.label, "int16 MUL needs zero points of 0")
        arithmetic = _QuantizedArithmetic(
            op_type,
            scales=(_scale(first), _scale(second), _scale(output)),
            zero_points=(_zero_point(first), _zero_point(second), _zero_point(output)),
            clamp=quantized_activation_range(activation, output),
            left_shift=15 if output.dtype == DType.INT16 else 20,
        )
        if output.dtype == DType.INT8:
            pair_index = (a.view(np.uint8).astype(np.uint16) << 8) | b.view(np.uint8)
            result = _int8_table(arithmetic)[pair_index]
        else:
            result = arithmetic(a, b)
    else:
        raise UnsupportedOperatorError(ctx.op.label, f"{op_type} of {output.dtype} is not supported by TFLite Micro")
    return result.astype(output.dtype.numpy, copy=False).reshape(output.shape)


def _float_clamp(values: np.ndarray, activation: Activation) -> np.ndarray:
    """Clamp to the activation's range; without one TFLite still clamps to the finite floats."""
    low, high = float_activation_range(activation)
    largest = np.finfo(np.float32).max
    return np.clip(values, F32(max(low, -largest)), F32(min(high, largest)))


def _int32_arithmetic(op_type: str, a: np.ndarray, b: np.ndarray, activation: Activation) -> np.ndarray:
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
    """Quantized ADD, SUB or MUL with what it depends on (hashable, so int8 tables can be cached).

    Scales and zero points are those of (first input, second input, output); `clamp` is the
    activation's range; ADD and SUB keep `left_shift` bits of headroom (20 for int8, 15 for int16).
    """

    op_type: str
    scales: tuple[float, float, float]
    zero_points: tuple[int, int, int]
    clamp: tuple[int, int]
    left_shift: int

    def __call__(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        first = a.astype(np.int64) - self.zero_points[0]
        second = b.astype(np.int64) - self.zero_points[1]
        result = self._mul(first, second) if self.op_type == "MUL" else self._add_or_sub(first, second)
        return np.clip(result + self.zero_points[2], *self.clamp)

    def _mul(self, first: np.ndarray, second: np.ndarray) -> np.ndarray:
        first_scale, second_scale, output_scale = self.scales
        multiplier, shift = quantize_multiplier(first_scale * second_scale / output_scale)
        return multiply_by_quantized_multiplier(first * second, multiplier, shift)

    def _add_or_sub(self, first: np.ndarray, second: np.ndarray) -> np.ndarray:
        """Inputs rescaled to half the larger input scale, then the sum or difference to the
        output scale; the ratios are taken in double."""
        first_scale, second_scale, output_scale = self.scales
        twice_max = 2.0 * max(first_scale, second_scale)
        first_scaling, second_scaling, output_scaling = (
            quantize_multiplier_smaller_than_one_exp(ratio)
            for ratio in (
                first_scale / twice_max,
                second_scale / twice_max,
                twice_max / (2**self.left_shift * output_scale),
            )
        )
        first = multiply_by_quantized_multiplier_smaller_than_one_exp(first << self.left_shift, *first_scaling)
        second = multiply_by_quantized_multiplier_smaller_than_one_exp(second << self.left_shift, *second_scaling)
        raw = first + second if self.op_type == "ADD" else first - second
        return multiply_by_quantized_multiplier_smaller_than_one_exp(raw, *output_scaling)


@lru_cache(maxsize=64)
def _int8_table(arithmetic: _QuantizedArithmetic) -> np.ndarray:
    """The result for every pair of int8 inputs, at index (first's bits << 8) | second's bits:
    a model's layer computes it once and then only looks up."""
    every_value = np.arange(256, dtype=np.uint8).view(np.int8)
    return arithmetic(every_value[:, np.newaxis], every_value[np.newaxis, :]).astype(np.int8).ravel()
