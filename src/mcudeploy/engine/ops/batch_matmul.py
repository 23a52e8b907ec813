"""BATCH_MATMUL as TFLite Micro's reference kernels compute it (float32, int8, int16).

Float sums add the products in k order (`ordered_float32_dot`); integer sums are exact (float64
BLAS over the offset operands), wrapped to int32 for int8 (its accumulator) and kept in int64 for
int16, then requantized.
"""

from __future__ import annotations

import numpy as np

from mcudeploy.engine.fixedpoint import (
    multiply_by_quantized_multiplier,
    multiply_by_quantized_multiplier_int64,
    wrap_int32,
)
from mcudeploy.engine.registry import OpContext, kernel
from mcudeploy.engine.weighted import exact_dot, ordered_float32_dot
from mcudeploy.params.batch_matmul import TYPES, BatchMatMulParams, prepare


@kernel("BATCH_MATMUL", types=TYPES)
def batch_matmul(ctx: OpContext) -> np.ndarray:
    params = ctx.prepared(_params)
    output = ctx.output_tensor()
    lhs, rhs = _operands(ctx, len(output.shape))
    if params.multiplier is None:
        return ordered_float32_dot(lhs, rhs).reshape(output.shape)
    sums = exact_dot(lhs.astype(np.int64) + params.lhs_offset, rhs.astype(np.int64) + params.rhs_offset)
    if output.dtype.itemsize == 1:
        scaled = multiply_by_quantized_multiplier(wrap_int32(sums), params.multiplier, params.shift)
    else:
        scaled = multiply_by_quantized_multiplier_int64(sums, params.multiplier, params.shift)
    clamped = np.clip(scaled + params.output_offset, params.act_min, params.act_max)
    return clamped.astype(output.dtype.numpy).reshape(output.shape)


def _params(ctx: OpContext) -> BatchMatMulParams:
    return prepare(ctx.op, ctx.graph)


def _operands(ctx: OpContext, rank: int) -> tuple[np.ndarray, np.ndarray]:
    """lhs' (..., rows, depth) and rhs' (..., depth, cols), of the output's rank so that their batch
    axes broadcast."""
    options = ctx.options
    lhs, rhs = ctx.input(0), ctx.input(1)
    lhs = lhs.reshape((1,) * (rank - lhs.ndim) + lhs.shape)
    rhs = rhs.reshape((1,) * (rank - rhs.ndim) + rhs.shape)
    return (np.swapaxes(lhs, -1, -2) if options.adj_x else lhs), (np.swapaxes(rhs, -1, -2) if options.adj_y else rhs)
