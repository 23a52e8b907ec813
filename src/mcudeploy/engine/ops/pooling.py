"""AVERAGE_POOL_2D, MAX_POOL_2D and L2_POOL_2D as TFLite Micro's reference kernels compute them.

Taps outside the image are skipped: an average divides by the number of taps
inside, a maximum ignores the rest. Both read a padded copy of the input, one
pass per kernel tap, or one reduction over all taps when the output has fewer
pixels than the window has taps (a global pooling).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mcudeploy.engine.registry import OpContext, kernel
from mcudeploy.engine.weighted import clamp_float
from mcudeploy.engine.windows import pad_for_window, tap_view, window_params, window_view
from mcudeploy.errors import UnsupportedOperatorError
from mcudeploy.ir import DType
from mcudeploy.params.window import Window


@dataclass(frozen=True)
class _Pool:
    """What a pooling operator derives from its shapes and quantization."""

    window: Window
    dtype: DType
    clamp: tuple[int, int] | tuple[np.float32, np.float32]
    """The activation's range."""
    counts: np.ndarray
    """(1, out_h, out_w, 1): the taps inside the image, each average's divisor."""


def _prepare(ctx: OpContext) -> _Pool:
    dtype = ctx.input_tensor(0).dtype
    if dtype not in (DType.FLOAT32, DType.INT8, DType.INT16):
        raise UnsupportedOperatorError(ctx.op.op_type, f"{dtype} input is not supported")
    params = window_params(ctx)
    clamp = params.float_clamp if dtype == DType.FLOAT32 else (params.act_min, params.act_max)
    counts = _taps_inside(ctx.input_tensor(0).shape, params.window)[None, :, :, None]
    return _Pool(params.window, dtype, clamp, counts)


@kernel("AVERAGE_POOL_2D", types=(DType.FLOAT32, DType.INT8, DType.INT16))
def average_pool_2d(ctx: OpContext) -> np.ndarray:
    pool, x = ctx.prepared(_prepare), ctx.input(0)
    window, counts = pool.window, pool.counts
    if pool.dtype == DType.FLOAT32:
        total = _accumulate(x, window, np.float32)  # float32 sums in the reference's tap order
        return clamp_float(total / counts.astype(np.float32), pool.clamp)
    if _is_global(window):  # int32 sums wrap alike in any order
        total = window_view(pad_for_window(x, window, 0), window).sum(axis=(3, 4), dtype=np.int32)
    else:
        total = _accumulate(x, window, np.int32)
    half = counts // 2
    # C's integer division truncates toward zero: round half away from zero.
    average = np.where(total > 0, (total + half) // counts, -((half - total) // counts))
    return np.clip(average, *pool.clamp).astype(x.dtype)


@kernel("MAX_POOL_2D", types=(DType.FLOAT32, DType.INT8, DType.INT16))
def max_pool_2d(ctx: OpContext) -> np.ndarray:
    pool, x = ctx.prepared(_prepare), ctx.input(0)
    window = pool.window
    lowest = np.finfo(x.dtype).min if pool.dtype == DType.FLOAT32 else np.iinfo(x.dtype).min
    padded = pad_for_window(x, window, lowest)
    # std::max(running, value) from the lowest value keeps the running maximum when value is NaN:
    # fmax, whose result does not depend on the order of the taps.
    if _is_global(window):
        result = np.fmax.reduce(window_view(padded, window), axis=(3, 4), initial=lowest)
    else:
        result = np.full((x.shape[0], window.out_h, window.out_w, x.shape[3]), lowest, dtype=x.dtype)
        for fy, fx in window.taps:
            np.fmax(result, tap_view(padded, window, fy, fx), out=result)
    if pool.dtype == DType.FLOAT32:
        return clamp_float(result, pool.clamp)
    return np.clip(result, *pool.clamp).astype(x.dtype)


@kernel("L2_POOL_2D", types=(DType.FLOAT32,))
def l2_pool_2d(ctx: OpContext) -> np.ndarray:
    """sqrt of the mean square over the taps inside the image, the squares summed in tap order."""
    pool, x = ctx.prepared(_prepare), ctx.input(0)
    if pool.dtype != DType.FLOAT32:
        raise UnsupportedOperatorError(ctx.op.label, f"{pool.dtype} is not supported (TFLite Micro: float32)")
    total = _accumulate(x * x, pool.window, np.float32)
    with np.errstate(invalid="ignore"):
        return clamp_float(np.sqrt(total / pool.counts.astype(np.float32)), pool.clamp)


def _is_global(window: Window) -> bool:
    """Few output pixels and many taps: one reduction beats a pass per tap."""
    return window.out_h * window.out_w <= window.filter_h * window.filter_w


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
