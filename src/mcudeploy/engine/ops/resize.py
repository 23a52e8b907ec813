"""RESIZE_NEAREST_NEIGHBOR and RESIZE_BILINEAR on NHWC tensors, as TFLite Micro computes them."""

from __future__ import annotations

import numpy as np

from mcudeploy.engine.registry import ANY_TYPE, OpContext, kernel
from mcudeploy.params.movement import prepare_resize
from mcudeploy.params.resize import FRACTION_BITS, TYPES, InterpolationAxis, ResizeBilinearParams
from mcudeploy.params.resize import prepare as prepare_bilinear


@kernel("RESIZE_NEAREST_NEIGHBOR", types=ANY_TYPE)
def resize_nearest_neighbor(ctx: OpContext) -> np.ndarray:
    rows, columns = ctx.prepared(_source_indices)
    return ctx.input(0)[:, rows, columns, :]


def _source_indices(ctx: OpContext) -> tuple[np.ndarray, np.ndarray]:
    """The input row of each output row (as a column) and input column of each output column
    (the size input is a constant the output's shape agrees with: checked at import)."""
    params = prepare_resize(ctx.op, ctx.graph)
    return params.rows[:, None], params.columns[None, :]


@kernel("RESIZE_BILINEAR", types=TYPES)
def resize_bilinear(ctx: OpContext) -> np.ndarray:
    params = ctx.prepared(_bilinear_params)
    x = ctx.input(0)
    rows, columns = params.rows, params.columns
    if x.dtype == np.float32:
        return _float_bilinear(x, rows, columns)
    return _fixed_bilinear(x, rows, columns)


def _bilinear_params(ctx: OpContext) -> ResizeBilinearParams:
    return prepare_bilinear(ctx.op, ctx.graph)


def _corners(x: np.ndarray, rows: InterpolationAxis, columns: InterpolationAxis) -> list[np.ndarray]:
    """The input values at (lower, lower), (upper, lower), (lower, upper), (upper, upper) (row, column)."""
    return [x[:, r][:, :, c] for c in (columns.lower, columns.upper) for r in (rows.lower, rows.upper)]


def _float_bilinear(x: np.ndarray, rows: InterpolationAxis, columns: InterpolationAxis) -> np.ndarray:
    """TFLM's sum of four products, left to right in float32, plus a rounding offset of +0.0."""
    one = np.float32(1)
    dy = (rows.position - rows.lower.astype(np.float32))[None, :, None, None]
    dx = (columns.position - columns.lower.astype(np.float32))[None, None, :, None]
    v00, v10, v01, v11 = _corners(x, rows, columns)
    total = v00 * (one - dy) * (one - dx) + v10 * dy * (one - dx)
    total = total + v01 * (one - dy) * dx
    total = total + v11 * dy * dx
    return (total + np.float32(0)).astype(np.float32)


def _fixed_bilinear(x: np.ndarray, rows: InterpolationAxis, columns: InterpolationAxis) -> np.ndarray:
    """ResizeBilinearInteger: weights in 10 fractional bits each, the 20-bit sum rounded half away
    from zero (double rounding: TFLM's build)."""
    one = 1 << FRACTION_BITS
    dy = (rows.position.astype(np.int64) - one * rows.lower)[None, :, None, None]
    dx = (columns.position.astype(np.int64) - one * columns.lower)[None, None, :, None]
    v00, v10, v01, v11 = (v.astype(np.int64) for v in _corners(x, rows, columns))
    total = v00 * (one - dy) * (one - dx) + v10 * dy * (one - dx) + v01 * (one - dy) * dx + v11 * dy * dx
    half = 1 << (2 * FRACTION_BITS - 1)
    rounded = np.where(total > 0, total + half, total - half)
    quotient = np.where(rounded >= 0, rounded >> (2 * FRACTION_BITS), -((-rounded) >> (2 * FRACTION_BITS)))
    return quotient.astype(x.dtype)
