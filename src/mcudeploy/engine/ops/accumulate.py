"""ADD_N and CUMSUM: sums of many values, as TFLite Micro computes them (float32 and int8).

float32 sums start from +0.0 and add in order. int8 scales every centred value as ADD does
(shifted left 20 bits, times its scale over twice that scale) and sums in int32 (wrapping,
as the C arithmetic does on overflow), then rescales the sum to the output. TFLite Micro
starts that sum from the scaled input offset, not from 0 (its comment says 0): so do we.
"""

from __future__ import annotations

import numpy as np

from mcudeploy.engine.fixedpoint import multiply_by_quantized_multiplier_smaller_than_one_exp, wrap_int32
from mcudeploy.engine.registry import OpContext, checked_type, kernel
from mcudeploy.ir import DType
from mcudeploy.ir.shapes import positive_axis
from mcudeploy.params.elementwise import ArithParams, accumulation_params

SUM_TYPES = (DType.FLOAT32, DType.INT8)


def _scaled(values: np.ndarray | int, p: ArithParams) -> np.ndarray:
    shifted = (np.asarray(values, dtype=np.int64) + p.input1_offset) << p.left_shift
    return multiply_by_quantized_multiplier_smaller_than_one_exp(shifted, p.input1_multiplier, p.input1_shift)


def _requantized(sums: np.ndarray, p: ArithParams) -> np.ndarray:
    raw = multiply_by_quantized_multiplier_smaller_than_one_exp(sums, p.output_multiplier, p.output_shift)
    return np.clip(raw + p.output_offset, p.act_min, p.act_max).astype(np.int8)


def _params(ctx: OpContext) -> ArithParams:
    return accumulation_params(ctx.op, ctx.graph)


@kernel("ADD_N", types=SUM_TYPES)
def add_n(ctx: OpContext) -> np.ndarray:
    if checked_type(ctx, SUM_TYPES) == DType.FLOAT32:
        total = np.zeros(ctx.output_tensor().shape, dtype=np.float32)
        for values in ctx.inputs:
            total = total + values
        return total
    p = ctx.prepared(_params)
    total = np.broadcast_to(_scaled(0, p), ctx.output_tensor().shape)
    for values in ctx.inputs:
        total = wrap_int32(total + _scaled(values, p))
    return _requantized(total, p)


@kernel("CUMSUM", types=SUM_TYPES)
def cumsum(ctx: OpContext) -> np.ndarray:
    """Along the constant axis, backwards with `reverse`; `exclusive` leaves each value out of its own sum."""
    dtype = checked_type(ctx, SUM_TYPES)
    checked_type(ctx, (DType.INT32,), ctx.input_tensor(1))
    data = ctx.input(0)
    axis = positive_axis(int(np.ravel(ctx.input(1))[0]), data.ndim, ctx.op.label)
    rows = np.moveaxis(data, axis, 0)
    if ctx.options.reverse:
        rows = rows[::-1]
    if dtype == DType.FLOAT32:
        total, terms = np.zeros(rows.shape[1:], dtype=np.float32), rows
    else:
        p = ctx.prepared(_params)
        total, terms = np.broadcast_to(_scaled(0, p), rows.shape[1:]), _scaled(rows, p)
    sums = []
    for term in terms:
        before = total
        total = total + term if dtype == DType.FLOAT32 else wrap_int32(total + term)
        sums.append(before if ctx.options.exclusive else total)
    result = np.stack(sums)
    if dtype == DType.INT8:
        result = _requantized(result, p)
    if ctx.options.reverse:
        result = result[::-1]
    return np.ascontiguousarray(np.moveaxis(result, 0, axis))
