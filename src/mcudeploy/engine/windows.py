"""Sliding windows over numpy NHWC arrays: the padded input and the views of its taps.

The window's geometry (`mcudeploy.params.window.Window`) is derived once per operator;
these functions apply it to one run's values.
"""

from __future__ import annotations

import numpy as np

from mcudeploy.engine.registry import OpContext
from mcudeploy.params.conv import WindowParams
from mcudeploy.params.conv import prepare as params_of_window_op
from mcudeploy.params.window import Window


def pad_for_window(x: np.ndarray, window: Window, fill) -> np.ndarray:
    """`x` (NHWC) padded with `fill` so that every tap of every output pixel lies inside.

    Padding with a value that adds nothing (0 after the input offset, the lowest
    value for a max) reproduces TFLite skipping the taps outside the image.
    """
    _, height, width, _ = x.shape
    needed_h = (window.out_h - 1) * window.stride_h + (window.filter_h - 1) * window.dilation_h + 1
    needed_w = (window.out_w - 1) * window.stride_w + (window.filter_w - 1) * window.dilation_w + 1
    pad_bottom = max(needed_h - window.pad_top - height, 0)
    pad_right = max(needed_w - window.pad_left - width, 0)
    if window.pad_top == pad_bottom == window.pad_left == pad_right == 0:
        return x
    padded = np.full(
        (x.shape[0], height + window.pad_top + pad_bottom, width + window.pad_left + pad_right, x.shape[3]),
        fill,
        dtype=x.dtype,
    )
    padded[:, window.pad_top : window.pad_top + height, window.pad_left : window.pad_left + width] = x
    return padded


def tap_view(padded: np.ndarray, window: Window, fy: int, fx: int) -> np.ndarray:
    """The input pixels (N, out_h, out_w, C) that kernel position (fy, fx) meets, as a view."""
    top = fy * window.dilation_h
    left = fx * window.dilation_w
    return padded[
        :,
        top : top + (window.out_h - 1) * window.stride_h + 1 : window.stride_h,
        left : left + (window.out_w - 1) * window.stride_w + 1 : window.stride_w,
        :,
    ]


def window_view(padded: np.ndarray, window: Window) -> np.ndarray:
    """All taps at once, (N, out_h, out_w, filter_h, filter_w, C), as a strided view (im2col without copying)."""
    batch, _, _, channels = padded.shape
    s_batch, s_row, s_col, s_channel = padded.strides
    return np.lib.stride_tricks.as_strided(
        padded,
        shape=(batch, window.out_h, window.out_w, window.filter_h, window.filter_w, channels),
        strides=(
            s_batch,
            s_row * window.stride_h,
            s_col * window.stride_w,
            s_row * window.dilation_h,
            s_col * window.dilation_w,
            s_channel,
        ),
        writeable=False,
    )


def im2col(padded: np.ndarray, window: Window, groups: int) -> np.ndarray:
    """im2col of a padded NHWC input: (groups, pixels, taps · group depth), the terms of each
    sum in TFLite's order (filter row, column, channel)."""
    pixels = padded.shape[0] * window.out_h * window.out_w
    if window.filter_h == window.filter_w == window.stride_h == window.stride_w == 1:
        columns = padded[:, : window.out_h, : window.out_w, :].reshape(pixels, 1, groups, -1)
    else:
        columns = window_view(padded, window).reshape(pixels, window.filter_h * window.filter_w, groups, -1)
    return columns.transpose(2, 0, 1, 3).reshape(groups, pixels, -1)


def grouped_filters(weights: np.ndarray, groups: int) -> np.ndarray:
    """OHWI filters as (groups, taps · group depth, filters per group), the right side of the matmul."""
    return weights.reshape(groups, weights.shape[0] // groups, -1).transpose(0, 2, 1)


def ungrouped(sums: np.ndarray, window: Window, batch: int) -> np.ndarray:
    """(groups, pixels, filters per group) back to NHWC."""
    return sums.transpose(1, 0, 2).reshape(batch, window.out_h, window.out_w, -1)


def conv_sums(x: np.ndarray, weights: np.ndarray, window: Window, dot) -> np.ndarray:
    """Σ input · filter per output pixel and channel, summed by `dot` over (filter row, column, channel)
    in that order (grouped when the filter is shallower than the input). Zeros pad the outside."""
    groups = x.shape[3] // weights.shape[3]
    columns = im2col(pad_for_window(x, window, 0), window, groups)
    return ungrouped(dot(columns, grouped_filters(weights, groups)), window, x.shape[0])


def window_params(ctx: OpContext) -> WindowParams:
    """The operator's md_window_params (kernels keep it through `OpContext.prepared`)."""
    return params_of_window_op(ctx.op, ctx.graph)
