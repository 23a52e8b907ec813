"""Reductions over the axes given by a constant input: MEAN, SUM, REDUCE_MAX, REDUCE_MIN, REDUCE_ALL.

The output tensor's shape already says whether reduced axes are kept (keep_dims),
so kernels reduce and then take that shape.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np

from mcudeploy.engine.fixedpoint import multiply_by_quantized_multiplier, saturate, wrap_int32
from mcudeploy.engine.registry import OpContext, kernel
from mcudeploy.errors import UnsupportedOperatorError
from mcudeploy.ir import DType
from mcudeploy.params.reduce import ReduceParams
from mcudeploy.params.reduce import prepare as prepare_params

_QUANTIZED = (DType.INT8, DType.INT16)


@dataclass(frozen=True)
class _Reduction:
    """A reduction, its result (a numpy scalar when reduced to one value) made an array of the
    output's type and shape."""

    reduce: Callable[[np.ndarray], np.ndarray | np.generic]
    dtype: np.dtype
    shape: tuple[int, ...]

    @classmethod
    def to_output(cls, ctx: OpContext, reduce: Callable[[np.ndarray], np.ndarray | np.generic]) -> _Reduction:
        output = ctx.output_tensor()
        return cls(reduce, output.dtype.numpy, output.shape)

    def __call__(self, data: np.ndarray) -> np.ndarray:
        return np.asarray(self.reduce(data), dtype=self.dtype).reshape(self.shape)


def _check_dtype(ctx: OpContext, supported: tuple[DType, ...]) -> DType:
    dtype = ctx.input_tensor(0).dtype
    if dtype not in supported or ctx.output_tensor().dtype != dtype:
        raise UnsupportedOperatorError(ctx.op.label, f"{ctx.op.op_type} of {dtype} is not supported by TFLite Micro")
    return dtype


def _float_sum_in_input_order(data: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
    """float32 sums accumulated one value at a time in the input's row-major order, as TFLM's
    loop does. Summed along a contiguous axis, numpy adds pairwise and rounds differently; along
    the outer axis of a (count, kept) array it adds row after row, the order wanted (the
    float_exact tests check it). A single column has no outer axis: accumulate it instead."""
    kept = [a for a in range(data.ndim) if a not in axes]
    kept_size = math.prod(data.shape[a] for a in kept)
    count = math.prod(data.shape[a] for a in axes)
    if count == 0:
        return np.zeros(kept_size, dtype=np.float32)
    rows = np.ascontiguousarray(np.transpose(data, [*axes, *kept]).reshape(count, kept_size))
    if kept_size == 1:
        return np.add.accumulate(rows[:, 0], dtype=np.float32)[-1:]
    return np.add.reduce(rows, axis=0, dtype=np.float32)


def _quantized_sum(ctx: OpContext, params: ReduceParams) -> Callable[[np.ndarray], np.ndarray]:
    """TFLM's QuantizedMeanOrSum: int32 sum of the raw values, the input zero point removed
    once per summed value, then one requantization to the output."""
    output = ctx.output_tensor()
    if ctx.input_tensor(0).size == 0:
        return partial(_zeros, output.shape)
    scaling = (params.multiplier, params.shift)
    offset = params.input_zero_point * params.reduced_count
    return partial(_requantized_sum, params.axes, offset, scaling, params.output_zero_point, output.dtype.numpy)


def _zeros(shape: tuple[int, ...], data: np.ndarray) -> np.ndarray:
    return np.zeros(shape)


def _requantized_sum(
    axes: tuple[int, ...],
    offset: int,
    scaling: tuple[int, int],
    output_zero_point: int,
    dtype: np.dtype,
    data: np.ndarray,
) -> np.ndarray:
    centred = wrap_int32(wrap_int32(data.sum(axis=axes, dtype=np.int64)) - offset)
    return saturate(multiply_by_quantized_multiplier(centred, *scaling) + output_zero_point, dtype)


def _prepare_mean_or_sum(ctx: OpContext, mean: bool) -> _Reduction | None:
    dtype = _check_dtype(ctx, (DType.FLOAT32, *_QUANTIZED))
    params = prepare_params(ctx.op, ctx.graph)
    if params is None:
        return None
    if dtype in _QUANTIZED:
        return _Reduction.to_output(ctx, _quantized_sum(ctx, params))
    # TFLM's special path for a 4-D mean over H and W adds in the same order: no separate case.
    divisor = np.float32(params.reduced_count) if mean and params.reduced_count > 0 else None
    return _Reduction.to_output(ctx, partial(_float_mean_or_sum, params.axes, divisor))


def _float_mean_or_sum(axes: tuple[int, ...], divisor: np.float32 | None, data: np.ndarray) -> np.ndarray:
    sums = _float_sum_in_input_order(data, axes)
    return sums if divisor is None else sums / divisor


@kernel("MEAN", types=(DType.FLOAT32, DType.INT8, DType.INT16))
def mean(ctx: OpContext) -> np.ndarray:
    return ctx.prepared(_prepare_mean)(ctx.input(0))


def _prepare_mean(ctx: OpContext) -> _Reduction | None:
    return _prepare_mean_or_sum(ctx, mean=True)


@kernel("SUM", types=(DType.FLOAT32, DType.INT8, DType.INT16))
def reduce_sum(ctx: OpContext) -> np.ndarray:
    return ctx.prepared(_prepare_sum)(ctx.input(0))


def _prepare_sum(ctx: OpContext) -> _Reduction | None:
    return _prepare_mean_or_sum(ctx, mean=False)


def _prepare_min_or_max(ctx: OpContext, maximum: bool) -> _Reduction | None:
    """TFLM starts from the type's lowest (max) or highest (min) value and skips NaNs."""
    dtype = _check_dtype(ctx, (DType.FLOAT32, DType.INT8))
    if dtype == DType.INT8 and ctx.input_tensor(0).quantization != ctx.output_tensor().quantization:
        raise UnsupportedOperatorError(ctx.op.label, "int8 input and output quantized differently")
    params = prepare_params(ctx.op, ctx.graph)
    if params is None:
        return None
    numpy_type = dtype.numpy
    info = np.finfo(numpy_type) if dtype == DType.FLOAT32 else np.iinfo(numpy_type)
    ufunc, initial = (np.fmax, info.min) if maximum else (np.fmin, info.max)
    return _Reduction.to_output(ctx, partial(ufunc.reduce, axis=params.axes, initial=initial))


@kernel("REDUCE_MAX", types=(DType.FLOAT32, DType.INT8))
def reduce_max(ctx: OpContext) -> np.ndarray:
    return ctx.prepared(_prepare_max)(ctx.input(0))


def _prepare_max(ctx: OpContext) -> _Reduction | None:
    return _prepare_min_or_max(ctx, maximum=True)


@kernel("REDUCE_MIN", types=(DType.FLOAT32, DType.INT8))
def reduce_min(ctx: OpContext) -> np.ndarray:
    return ctx.prepared(_prepare_min)(ctx.input(0))


def _prepare_min(ctx: OpContext) -> _Reduction | None:
    return _prepare_min_or_max(ctx, maximum=False)


@kernel("REDUCE_ALL", types=(DType.BOOL,))
def reduce_all(ctx: OpContext) -> np.ndarray:
    return ctx.prepared(_prepare_all)(ctx.input(0))


def _prepare_all(ctx: OpContext) -> _Reduction | None:
    """Logical AND from true (an empty reduction is true)."""
    _check_dtype(ctx, (DType.BOOL,))
    params = prepare_params(ctx.op, ctx.graph)
    if params is None:
        return None
    return _Reduction.to_output(ctx, partial(np.logical_and.reduce, axis=params.axes))
