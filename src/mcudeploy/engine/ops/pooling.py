"""AVERAGE_POOL_2D and MAX_POOL_2D as TFLite Micro's reference kernels compute them.

Taps outside the image are skipped: an average divides by the number of taps
inside, a maximum ignores the rest. Both run as one pass per kernel tap over a
padded copy of the input.
"""

from __future__ import annotations

import numpy as np

from mcudeploy.engine.activation import quantized_activation_range
from mcudeploy.engine.ops.conv import Window, clamp_float, make_window, pad_for_window, tap_view
from mcudeploy.engine.registry import OpContext, kernel
from mcudeploy.errors import UnsupportedOperatorError
from mcudeploy.ir import DType


@kernel("AVERAGE_POOL_2D")
def average_pool_2d(ctx: OpContext) -> np.ndarray:
    x, window, dtype = _pool_setup(ctx)
    counts = _taps_inside(x.shape, window)[None, :, :, None]
    if dtype == DType.FLOAT32:
        total = _accumulate(x, window, np.float32)  # float32 sums in the reference's tap order
        return clamp_float(total / counts.astype(np.float32), ctx.options.activation)
    total = _accumulate(x, window, np.int32)
    half = counts // 2
    # C's integer division truncates toward zero: round half away from zero.
    average = np.where(total > 0, (total + half) // counts, -((half - total) // counts))
    low, high = quantized_activation_range(ctx.options.activation, ctx.output_tensor())
    return np.clip(average, low, high).astype(x.dtype)


@kernel("MAX_POOL_2D")
def max_pool_2d(ctx: OpContext) -> np.ndarray:
    x, window, dtype = _pool_setup(ctx)
    lowest = np.finfo(x.dtype).min if dtype == DType.FLOAT32 else np.iinfo(x.dtype).min
    padded = pad_for_window(x, window, lowest)
    # std::max(running, value) from the lowest value keeps the running maximum when value is NaN: fmax.
    result = np.full((x.shape[0], window.out_h, window.out_w, x.shape[3]), lowest, dtype=x.dtype)
    for fy, fx in window.taps:
        np.fmax(result, tap_view(padded, window, fy, fx), out=result)
    if dtype == DType.FLOAT32:
        return clamp_float(result, ctx.options.activation)
    low, high = quantized_activation_range(ctx.options.activation, ctx.output_tensor())
    return np.clip(result, low, high).astype(x.dtype)


def _pool_setup(ctx: OpContext) -> tuple[np.ndarray, Window, DType]:
    dtype = ctx.input_tensor(0).dtype
    if dtype not in (DType.FLOAT32, DType.INT8, DType.INT16):
        raise UnsupportedOperatorError(ctx.op.op_type, f"{dtype} input is not supported")
    x = ctx.input(0)
    options = ctx.options
    window = make_window(options, x.shape, (options.filter_h, options.filter_w), ctx.output_tensor().shape)
    return x, window, dtype


def _accumulate(x: np.ndarray, window: Window, acc_type) -> np.ndarray:
    """Σ over the taps inside the image (zeros pad the outside), tap by tap in `acc_type`."""
    padded = pad_for_window(x.astype(acc_type, copy=False), window, 0)
    total = np.zeros((x.shape[0], window.out_h, window.out_w, x.shape[3]), dtype=acc_type)
    for fy, fx in window.taps:
        total += tap_view(padded, window, fy, fx)
    return total


def _taps_inside(input_shape: tuple[int, ...], window: Window) -> np.ndarray:
    """(out_h, out_w) count of kernel taps that fall inside the image."""
    rows = _inside_along(input_shape[1], window.out_h, window.stride_h, window.pad_top, window.filter_h)
    cols = _inside_along(input_shape[2], window.out_w, window.stride_w, window.pad_left, window.filter_w)
    return np.outer(rows, cols)


def _inside_along(size: int, out_size: int, stride: int, pad: int, filter_size: int) -> np.ndarray:
    origin = np.arange(out_size) * stride - pad
    start = np.maximum(0, -origin)
    end = np.minimum(filter_size, size - origin)
    return np.maximum(end - start, 0)
