"""DEPTHWISE_CONV_2D as TFLite Micro's reference kernels compute it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mcudeploy.engine.ops.conv import IntegerConv, MatmulSums
from mcudeploy.engine.registry import OpContext, kernel
from mcudeploy.engine.weighted import check_integer_types, clamp_float, float_bias_add, runtime_parameters
from mcudeploy.engine.windows import pad_for_window, tap_view, window_params, window_view
from mcudeploy.errors import UnsupportedOperatorError
from mcudeploy.ir import DType
from mcudeploy.params.window import Window


@kernel("DEPTHWISE_CONV_2D", types=(DType.FLOAT32, DType.INT8, DType.INT16), filters=(DType.INT4,))
def depthwise_conv_2d(ctx: OpContext) -> np.ndarray:
    input_t, filter_t = ctx.input_tensor(0), ctx.input_tensor(1)
    params = ctx.prepared(window_params)
    if input_t.dtype == DType.FLOAT32 and filter_t.dtype == DType.FLOAT32:
        x, weights = ctx.input(0), ctx.input(1)
        per_tap = _per_tap_filters(weights, x.shape[3]).astype(np.float32)
        acc = _sum_over_taps(pad_for_window(x, params.window, 0), per_tap, params.window)
        return clamp_float(float_bias_add(acc, ctx.input(2)), params.float_clamp)
    return ctx.prepared(_prepare_integer_depthwise)(ctx.input(0), params.window)


def _prepare_integer_depthwise(ctx: OpContext) -> IntegerConv | None:
    if runtime_parameters(ctx):
        return None
    check_integer_types(ctx, "DEPTHWISE_CONV_2D")
    input_t, bias_t = ctx.input_tensor(0), ctx.input_tensor(2)
    if input_t.dtype == DType.INT16 and bias_t is not None and bias_t.dtype != DType.INT64:
        raise UnsupportedOperatorError("DEPTHWISE_CONV_2D", "16x8 depthwise convolution needs an int64 bias")
    weights = ctx.input(1)
    channels = input_t.shape[3]
    if channels == 1:  # then an ordinary convolution, and one matmul
        sums = MatmulSums.of(ctx, weights.reshape(-1, weights.shape[3]).T[..., None], channels)
    else:
        accumulator = np.int64 if input_t.dtype == DType.INT16 else np.int32
        all_at_once = ctx.output_tensor().size <= _FEW_DEPTHWISE_OUTPUTS
        sums = _DepthwiseSums(_per_tap_filters(weights, channels).astype(accumulator), all_at_once)
    return IntegerConv.of(ctx, weights.reshape(-1, weights.shape[3]), sums)


_FEW_DEPTHWISE_OUTPUTS = 4096
"""Up to this many output values, one product of the whole window view and one sum beat a pass
per tap, whose fixed cost dominates on small images."""


@dataclass(frozen=True)
class _DepthwiseSums:
    """Σ raw input · filter in the kernel's accumulator type, where int32 wraps as in C (the
    requantizer then sees the sums modulo 2^32, as TFLite Micro's are, whatever the order)."""

    filters: np.ndarray
    """(filter height, width, input channels, depth multiplier)"""
    all_at_once: bool
    """Every tap in one product, else one pass per tap."""

    def __call__(self, padded: np.ndarray, window: Window) -> np.ndarray:
        if not self.all_at_once:
            return _sum_over_taps(padded, self.filters, window)
        products = window_view(padded, window)[..., None] * self.filters
        sums = products.sum(axis=(3, 4), dtype=self.filters.dtype)
        return sums.reshape(padded.shape[0], window.out_h, window.out_w, -1)


def _per_tap_filters(weights: np.ndarray, channels: int) -> np.ndarray:
    """(1, H, W, C·M) depthwise filters as (H, W, C, M)."""
    return weights.reshape(weights.shape[1], weights.shape[2], channels, -1)


def _sum_over_taps(padded: np.ndarray, per_tap: np.ndarray, window: Window) -> np.ndarray:
    """Σ over kernel taps, in TFLite's tap order, of input channel c · filter channel c·M + m, in
    per_tap's type: int32 wraps as C does, float32 rounds after each product and sum."""
    batch, channels, multiplier = padded.shape[0], padded.shape[3], per_tap.shape[3]
    acc = np.zeros((batch, window.out_h, window.out_w, channels, multiplier), dtype=per_tap.dtype)
    product = np.empty_like(acc)
    for fy, fx in window.taps:
        np.multiply(tap_view(padded, window, fy, fx)[..., None], per_tap[fy, fx], out=product)
        acc += product
    return acc.reshape(batch, window.out_h, window.out_w, channels * multiplier)
