"""CONV_2D as TFLite Micro's reference kernels compute it (the hybrid float-input, int8-filter
variant in `conv_hybrid`), and the integer convolution DEPTHWISE_CONV_2D shares.

Integer kernels do their per-operator work once (`OpContext.prepared`): the input offset is
folded into the bias, the sums of raw input × filter run through exact BLAS products
(`engine.weighted`), the parameters come from `mcudeploy.params.conv`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from mcudeploy.engine.fixedpoint import Requantizer
from mcudeploy.engine.ops.conv_hybrid import hybrid_conv
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
from mcudeploy.engine.windows import conv_sums, grouped_filters, im2col, pad_for_window, ungrouped, window_params
from mcudeploy.ir import DType
from mcudeploy.params.window import Window


@kernel("CONV_2D", types=(DType.FLOAT32, DType.INT8, DType.INT16), filters=(DType.INT4,))
def conv_2d(ctx: OpContext) -> np.ndarray:
    input_t, filter_t = ctx.input_tensor(0), ctx.input_tensor(1)
    params = ctx.prepared(window_params)
    if input_t.dtype == DType.FLOAT32 and filter_t.dtype == DType.FLOAT32:
        acc = conv_sums(ctx.input(0), ctx.input(1), params.window, ordered_float32_dot)
        return clamp_float(float_bias_add(acc, ctx.input(2)), params.float_clamp)
    if input_t.dtype == DType.FLOAT32 and filter_t.dtype == DType.INT8:
        return hybrid_conv(ctx, params)
    return ctx.prepared(_prepare_integer_conv)(ctx.input(0), params.window)


@dataclass(frozen=True)
class IntegerConv:
    """An integer convolution with what it derives from its constants: the raw input padded with
    the value that adds nothing, the sums of raw input times filter, the requantizer (into which
    the input offset is folded)."""

    padding_value: int
    sums: Callable[[np.ndarray, Window], np.ndarray]
    requantize: Requantizer

    @classmethod
    def of(cls, ctx: OpContext, weights: np.ndarray, sums: Callable[[np.ndarray, Window], np.ndarray]) -> IntegerConv:
        """`weights`: (terms, channels), the filter each output channel's sum runs over."""
        params = ctx.prepared(window_params)
        return cls(-params.input_offset, sums, integer_requantizer(ctx, params, weights))

    def __call__(self, x: np.ndarray, window: Window) -> np.ndarray:
        return self.requantize(self.sums(pad_for_window(x, window, self.padding_value), window))


def _prepare_integer_conv(ctx: OpContext) -> IntegerConv | None:
    if runtime_parameters(ctx):
        return None
    check_integer_types(ctx, "CONV_2D")
    weights = ctx.input(1)
    groups = ctx.input_tensor(0).shape[3] // weights.shape[3]
    return IntegerConv.of(ctx, weights.reshape(weights.shape[0], -1).T, MatmulSums.of(ctx, weights, groups))


@dataclass(frozen=True)
class MatmulSums:
    """Σ raw input · filter as one BLAS matmul per group over im2col columns, in a float type
    that keeps the integer sums exact."""

    groups: int
    filters: np.ndarray
    """(groups, taps · group depth, filters per group)"""

    @classmethod
    def of(cls, ctx: OpContext, weights: np.ndarray, groups: int) -> MatmulSums:
        """From OHWI filters."""
        filters = grouped_filters(weights, groups)
        float_type = exact_float_type(sum_bound(ctx.input_tensor(0), weights.reshape(weights.shape[0], -1).T))
        return cls(groups, filters.astype(float_type))

    def __call__(self, padded: np.ndarray, window: Window) -> np.ndarray:
        columns = im2col(padded, window, self.groups).astype(self.filters.dtype)
        return ungrouped(np.matmul(columns, self.filters), window, padded.shape[0])
