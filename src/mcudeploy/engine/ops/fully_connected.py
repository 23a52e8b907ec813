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
from mcudeploy.engine.registry import OpContext, kernel
from mcudeploy.engine.weighted import (
    check_integer_types,
    clamp_float,
    exact_float_type,
    float_bias_add,
    integer_requantizer,
    ordered_float32_dot,
    runtime_parameters,
    sum_bound,
)
from mcudeploy.errors import UnsupportedOperatorError
from mcudeploy.ir import DType
from mcudeploy.params.fully_connected import FullyConnectedParams
from mcudeploy.params.fully_connected import prepare as prepare_params


@kernel("FULLY_CONNECTED", types=(DType.FLOAT32, DType.INT8, DType.INT16), filters=(DType.INT4,))
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
    params = ctx.prepared(_params)
    batches, accum_depth = params.batches, params.accum_depth
    rows = ctx.input(0).reshape(-1)[: batches * accum_depth].reshape(batches, accum_depth)
    acc = ordered_float32_dot(rows, ctx.input(1).reshape(-1, accum_depth)[: params.output_depth].T)
    result = clamp_float(float_bias_add(acc, ctx.input(2)), params.float_clamp)
    return result.reshape(ctx.output_tensor().shape)


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
        input_t, output_t = ctx.input_tensor(0), ctx.output_tensor()
        params = _params(ctx)
        matrix = ctx.input(1).reshape(-1, params.accum_depth)[: params.output_depth].T.astype(np.int64)
        matrix += params.filter_offset
        requantize = integer_requantizer(ctx, params, matrix)
        input_size = params.batches * params.accum_depth
        input_size = input_size if input_size < input_t.size else None
        float_type = exact_float_type(sum_bound(input_t, matrix))
        return cls(input_size, np.ascontiguousarray(matrix, dtype=float_type), requantize, output_t.shape)

    def __call__(self, ctx: OpContext) -> np.ndarray:
        x = ctx.input(0)
        rows = (x if self.input_size is None else x.reshape(-1)[: self.input_size]).reshape(-1, self.matrix.shape[0])
        return self.requantize(rows.astype(self.matrix.dtype) @ self.matrix).reshape(self.output_shape)


def _params(ctx: OpContext) -> FullyConnectedParams:
    return prepare_params(ctx.op, ctx.graph)
