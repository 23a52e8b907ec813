"""FULLY_CONNECTED as TFLite Micro's reference kernels compute it.

The input is read as [batches, depth] whatever its rank (depth = the filter's
columns, batches = output size / output depth); keep_num_dims only shapes the
output tensor, which the kernel fills in the declared shape.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from mcudeploy.engine.fixedpoint import Requantizer
from mcudeploy.engine.ops.conv import (
    check_integer_types,
    clamp_float,
    conv_real_multipliers,
    exact_float_type,
    float_bias_add,
    integer_requantizer,
    ordered_float32_dot,
    runtime_parameters,
    sum_bound,
)
from mcudeploy.engine.registry import OpContext, kernel
from mcudeploy.errors import UnsupportedOperatorError
from mcudeploy.ir import DType, Tensor


@kernel("FULLY_CONNECTED")
def fully_connected(ctx: OpContext) -> np.ndarray:
    return ctx.prepared(_prepare)(ctx)


def _prepare(ctx: OpContext) -> Callable[[OpContext], np.ndarray] | None:
    """The kernel of this operator's types, with its constants worked out."""
    input_t, filter_t = ctx.input_tensor(0), ctx.input_tensor(1)
    if input_t.dtype == DType.FLOAT32 and filter_t.dtype == DType.FLOAT32:
        return _float_fully_connected
    if input_t.dtype == DType.FLOAT32:
        raise UnsupportedOperatorError("FULLY_CONNECTED", f"hybrid float input with {filter_t.dtype} weights")
    return None if runtime_parameters(ctx) else _IntegerFullyConnected.of(ctx)


def _float_fully_connected(ctx: OpContext) -> np.ndarray:
    weights, output_t = ctx.input(1), ctx.output_tensor()
    output_depth, accum_depth = output_t.shape[-1], weights.shape[-1]
    batches = output_t.size // output_depth
    rows = ctx.input(0).reshape(-1)[: batches * accum_depth].reshape(batches, accum_depth)
    acc = ordered_float32_dot(rows, weights.reshape(-1, accum_depth)[:output_depth].T)
    return clamp_float(float_bias_add(acc, ctx.input(2)), ctx.options.activation).reshape(output_t.shape)


@dataclass(frozen=True)
class _IntegerFullyConnected:
    """An integer fully connected layer with what it derives from its constants."""

    input_size: int | None
    """batches · depth, the input values the layer reads when the input holds more, else None."""
    matrix: np.ndarray
    """(depth, output depth), the filter offset applied, in a float type that keeps the GEMV exact."""
    requantize: Requantizer
    output_shape: tuple[int, ...]

    @classmethod
    def of(cls, ctx: OpContext) -> _IntegerFullyConnected:
        check_integer_types(ctx, "FULLY_CONNECTED")
        input_t, filter_t, output_t = ctx.input_tensor(0), ctx.input_tensor(1), ctx.output_tensor()
        output_depth, accum_depth = output_t.shape[-1], filter_t.shape[-1]
        per_channel = filter_t.quantization.scale.size > 1
        # The per-channel kernel ignores the filter zero point; the per-tensor one subtracts it.
        filter_offset = 0 if per_channel else -filter_t.quantization.single_zero_point
        matrix = ctx.input(1).reshape(-1, accum_depth)[:output_depth].T.astype(np.int64) + filter_offset
        real_multipliers = (
            conv_real_multipliers(input_t, filter_t, output_t, output_depth)
            if per_channel
            else per_tensor_real_multiplier(input_t, filter_t, output_t)
        )
        requantize = integer_requantizer(
            ctx,
            matrix,
            ctx.input(2),
            -input_t.quantization.single_zero_point,
            real_multipliers,
            output_t.quantization.single_zero_point,
        )
        input_size = output_t.size // output_depth * accum_depth
        input_size = input_size if input_size < input_t.size else None
        float_type = exact_float_type(sum_bound(input_t, matrix))
        return cls(input_size, np.ascontiguousarray(matrix, dtype=float_type), requantize, output_t.shape)

    def __call__(self, ctx: OpContext) -> np.ndarray:
        x = ctx.input(0)
        rows = (x if self.input_size is None else x.reshape(-1)[: self.input_size]).reshape(-1, self.matrix.shape[0])
        return self.requantize(rows.astype(self.matrix.dtype) @ self.matrix).reshape(self.output_shape)


def per_tensor_real_multiplier(input_t: Tensor, filter_t: Tensor, output_t: Tensor) -> np.ndarray:
    """GetQuantizedConvolutionMultipler: the scale product is taken in float32, then divided in double."""
    product = np.float32(input_t.quantization.single_scale) * np.float32(filter_t.quantization.single_scale)
    return np.array([float(product) / output_t.quantization.single_scale])
