"""Reductions over the axes given by a constant input: MEAN, SUM, REDUCE_MAX, REDUCE_MIN.

The output tensor's shape already says whether reduced axes are kept (keep_dims),
so kernels reduce and then take that shape.
"""

from __future__ import annotations

import math

import numpy as np

from mcudeploy.engine.fixedpoint import multiply_by_quantized_multiplier, quantize_multiplier, saturate, wrap_int32
from mcudeploy.engine.ops.slicing import positive_axis
from mcudeploy.engine.registry import OpContext, kernel
from mcudeploy.errors import ModelError, UnsupportedOperatorError
from mcudeploy.ir import DType

_QUANTIZED = (DType.INT8, DType.INT16)


def _reduced_axes(ctx: OpContext, rank: int) -> tuple[int, ...]:
    """The axis input made positive and free of duplicates (ResolveAxis), in ascending order."""
    return tuple(sorted({positive_axis(int(a), rank, ctx.op.label) for a in np.ravel(ctx.input(1))}))


def _as_output(ctx: OpContext, values: np.ndarray | np.generic) -> np.ndarray:
    """Reductions to a scalar give numpy scalars: make them arrays of the output's type and shape."""
    output = ctx.output_tensor()
    return np.asarray(values, dtype=output.dtype.numpy).reshape(output.shape)


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


def _fold_in_division(multiplier: int, shift: int, count: int) -> tuple[int, int]:
    """Fold 1/count into the output multiplier, as TFLM's quantized mean does: scale the
    multiplier up by at most 2^32 (and keep the shift >= -31), then divide it by count."""
    headroom = min(count.bit_length() - 1, 32, 31 + shift)
    return (multiplier << headroom) // count, shift - headroom


def _quantized_sum(ctx: OpContext, data: np.ndarray, axes: tuple[int, ...], mean: bool) -> np.ndarray:
    """TFLM's QuantizedMeanOrSum: int32 sum of the raw values, the input zero point removed
    once per summed value, then one requantization to the output."""
    output = ctx.output_tensor()
    in_quant, out_quant = ctx.input_tensor(0).quantization, output.quantization
    if in_quant is None or out_quant is None:
        raise ModelError(ctx.op.label, "quantized input and output need scales")
    if data.size == 0:
        return np.zeros(output.shape, dtype=output.dtype.numpy)
    count = math.prod(data.shape[a] for a in axes)
    multiplier, shift = quantize_multiplier(in_quant.single_scale / out_quant.single_scale)
    if mean:
        multiplier, shift = _fold_in_division(multiplier, shift, count)
    sums = wrap_int32(data.sum(axis=axes, dtype=np.int64))
    centred = wrap_int32(sums - in_quant.single_zero_point * count)
    result = multiply_by_quantized_multiplier(centred, multiplier, shift) + out_quant.single_zero_point
    return _as_output(ctx, saturate(result, output.dtype.numpy))


def _mean_or_sum(ctx: OpContext, mean: bool) -> np.ndarray:
    dtype = _check_dtype(ctx, (DType.FLOAT32, *_QUANTIZED))
    data = ctx.input(0)
    axes = _reduced_axes(ctx, data.ndim)
    if dtype in _QUANTIZED:
        return _quantized_sum(ctx, data, axes, mean)
    # TFLM's special path for a 4-D mean over H and W adds in the same order: no separate case.
    sums = _float_sum_in_input_order(data, axes)
    count = math.prod(data.shape[a] for a in axes)
    if mean and count > 0:
        sums = sums / np.float32(count)
    return _as_output(ctx, sums)


@kernel("MEAN")
def mean(ctx: OpContext) -> np.ndarray:
    return _mean_or_sum(ctx, mean=True)


@kernel("SUM")
def reduce_sum(ctx: OpContext) -> np.ndarray:
    return _mean_or_sum(ctx, mean=False)


def _min_or_max(ctx: OpContext, maximum: bool) -> np.ndarray:
    """TFLM starts from the type's lowest (max) or highest (min) value and skips NaNs."""
    dtype = _check_dtype(ctx, (DType.FLOAT32, DType.INT8))
    if dtype == DType.INT8 and ctx.input_tensor(0).quantization != ctx.output_tensor().quantization:
        raise UnsupportedOperatorError(ctx.op.label, "int8 input and output quantized differently")
    data = ctx.input(0)
    axes = _reduced_axes(ctx, data.ndim)
    info = np.finfo(data.dtype) if dtype == DType.FLOAT32 else np.iinfo(data.dtype)
    ufunc, initial = (np.fmax, info.min) if maximum else (np.fmin, info.max)
    return _as_output(ctx, ufunc.reduce(data, axis=axes, initial=initial))


@kernel("REDUCE_MAX")
def reduce_max(ctx: OpContext) -> np.ndarray:
    return _min_or_max(ctx, maximum=True)


@kernel("REDUCE_MIN")
def reduce_min(ctx: OpContext) -> np.ndarray:
    return _min_or_max(ctx, maximum=False)
