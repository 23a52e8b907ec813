"""TRANSPOSE_CONV as TFLite Micro's reference kernels compute it (float32, int8, 16x8).

TFLM scatters every input value into the outputs it reaches. Gathered instead, output pixel
(oy, ox) sums, over the input pixels (y, x) with fy = oy + pad_top - y * stride_h inside the
filter (and so for fx), the input times filter tap (fy, fx). That is a stride-1 convolution of
the input spread out by the strides (the gaps filled with the value that adds nothing) under the
filter flipped in both axes; its terms come in TFLM's order (y, x, input channel ascending), so
the float sums round as TFLM's do.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mcudeploy.engine.fixedpoint import Requantizer
from mcudeploy.engine.registry import OpContext, kernel
from mcudeploy.engine.weighted import (
    clamp_float,
    exact_float_type,
    float_bias_add,
    integer_requantizer,
    ordered_float32_dot,
    sum_bound,
)
from mcudeploy.engine.windows import im2col, ungrouped
from mcudeploy.ir import DType
from mcudeploy.params.conv import WindowParams
from mcudeploy.params.transpose_conv import BIAS, DATA, FILTER, prepare
from mcudeploy.params.window import Window


@kernel("TRANSPOSE_CONV", types=(DType.FLOAT32, DType.INT8, DType.INT16))
def transpose_conv(ctx: OpContext) -> np.ndarray:
    params = ctx.prepared(_params)
    if params.float_clamp is not None:
        columns = spread_columns(ctx.input(DATA), params, 0)
        filters = flipped_filter(ctx.input(FILTER))[np.newaxis]
        sums = ungrouped(ordered_float32_dot(columns, filters), params.window, params.batches)
        return clamp_float(float_bias_add(sums, ctx.input(BIAS)), params.float_clamp)
    return ctx.prepared(_prepare_integer)(ctx.input(DATA))


def _params(ctx: OpContext) -> WindowParams:
    return prepare(ctx.op, ctx.graph)


def flipped_filter(weights: np.ndarray) -> np.ndarray:
    """OHWI filters flipped in height and width, as (taps · input channels, output channels)."""
    return weights[:, ::-1, ::-1, :].reshape(weights.shape[0], -1).T


def spread_columns(x: np.ndarray, params: WindowParams, fill) -> np.ndarray:
    """im2col (1, pixels, taps · channels) of the stride-1 convolution: the input pixels placed
    `stride` apart on a canvas of `fill`, shifted so that flipped tap j of output row oy meets
    canvas row oy + j."""
    w = params.window
    batches, height, width, channels = x.shape
    rows, cols = w.out_h + w.filter_h - 1, w.out_w + w.filter_w - 1
    canvas = np.full((batches, rows, cols, channels), fill, dtype=x.dtype)
    row_slots = _placed(height, w.stride_h, w.filter_h - 1 - w.pad_top, rows)
    col_slots = _placed(width, w.stride_w, w.filter_w - 1 - w.pad_left, cols)
    if row_slots is not None and col_slots is not None:
        (source_rows, target_rows), (source_cols, target_cols) = row_slots, col_slots
        canvas[:, target_rows, target_cols] = x[:, source_rows, source_cols]
    window = Window(w.filter_h, w.filter_w, 1, 1, 1, 1, 0, 0, w.out_h, w.out_w)
    return im2col(canvas, window, 1)


def _placed(size: int, stride: int, origin: int, extent: int) -> tuple[slice, slice] | None:
    """Input indices i (a slice) whose place origin + i * stride lies in [0, extent), and those places."""
    first = max(0, -(origin // stride) if origin < 0 else 0)
    last = min(size, (extent - 1 - origin) // stride + 1) if extent - 1 >= origin else 0
    if last <= first:
        return None
    start = origin + first * stride
    return slice(first, last), slice(start, start + (last - first - 1) * stride + 1, stride)


@dataclass(frozen=True)
class _IntegerTransposeConv:
    """Σ raw input · flipped filter through an exact BLAS product (the input offset folded into the
    bias, the gaps filled with the zero point), then TFLM's requantization."""

    params: WindowParams
    filters: np.ndarray
    requantize: Requantizer

    def __call__(self, x: np.ndarray) -> np.ndarray:
        columns = spread_columns(x, self.params, -self.params.input_offset).astype(self.filters.dtype)
        return self.requantize(ungrouped(np.matmul(columns, self.filters), self.params.window, x.shape[0]))


def _prepare_integer(ctx: OpContext) -> _IntegerTransposeConv | None:
    weights = ctx.input(FILTER)
    if weights is None or (ctx.input(BIAS) is None and ctx.input_tensor(BIAS) is not None):
        return None  # computed at run time: prepared on every call
    params = ctx.prepared(_params)
    terms = weights.reshape(weights.shape[0], -1).T
    float_type = exact_float_type(sum_bound(ctx.input_tensor(DATA), terms))
    requantize = integer_requantizer(ctx, params, terms, data=DATA, bias=BIAS)
    return _IntegerTransposeConv(params, flipped_filter(weights).astype(float_type), requantize)
