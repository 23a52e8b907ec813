"""GATHER, GATHER_ND and EMBEDDING_LOOKUP: values picked by indices given at run time, as
TFLite Micro picks them (float32 and int8 values, int32 indices; the values are copied unchanged,
but for EMBEDDING_LOOKUP's int8 rows looked up as float32: times their scale).

An index outside the input fails the inference: TFLite Micro's GATHER_ND and EMBEDDING_LOOKUP fail
it too, its GATHER only asserts in debug builds (and reads out of bounds otherwise).
"""

from __future__ import annotations

import numpy as np

from mcudeploy.engine.registry import OpContext, checked_type, kernel
from mcudeploy.errors import McuDeployError, UnsupportedOperatorError
from mcudeploy.ir import DType
from mcudeploy.params.gather import (
    MAX_INDICES_ND,
    GatherNdParams,
    GatherParams,
    dequantization_scale,
    gather_nd_params,
    gather_params,
)

GATHER_TYPES = (DType.FLOAT32, DType.INT8)
INDEX_TYPES = (DType.INT32,)


@kernel("GATHER", types=GATHER_TYPES)
def gather(ctx: OpContext) -> np.ndarray:
    checked_type(ctx, GATHER_TYPES)
    checked_type(ctx, INDEX_TYPES, ctx.input_tensor(1))
    p: GatherParams = ctx.prepared(_gather_params)
    coords = ctx.input(1).reshape(p.batches, p.coords).astype(np.int64)
    if coords.size and (coords.min() < 0 or coords.max() >= p.axis_size):
        raise McuDeployError(ctx.op.label, f"an index outside [0, {p.axis_size}) (TFLite Micro reads out of bounds)")
    blocks = ctx.input(0).reshape(p.batches, p.outer, p.axis_size, p.inner)
    picked = blocks[np.arange(p.batches)[:, None, None], np.arange(p.outer)[None, :, None], coords[:, None, :]]
    return picked.reshape(ctx.output_tensor().shape)


def _gather_params(ctx: OpContext) -> GatherParams:
    return gather_params(ctx.op, ctx.graph)


@kernel("GATHER_ND", types=GATHER_TYPES)
def gather_nd(ctx: OpContext) -> np.ndarray:
    """TFLite Micro checks only that each slice lies inside the flattened input."""
    checked_type(ctx, GATHER_TYPES)
    checked_type(ctx, INDEX_TYPES, ctx.input_tensor(1))
    p: GatherNdParams = ctx.prepared(_gather_nd_params)
    if p.index_length > MAX_INDICES_ND:
        raise UnsupportedOperatorError(
            ctx.op.label, f"indices of length {p.index_length}: TFLite Micro takes at most {MAX_INDICES_ND}"
        )
    indices = ctx.input(1).reshape(p.slices, p.index_length).astype(np.int64)
    starts = indices @ np.asarray(p.strides[: p.index_length], dtype=np.int64)
    if starts.size and (starts.min() < 0 or starts.max() + p.slice_size > p.total):
        raise McuDeployError(ctx.op.label, "an index outside the input (TFLite Micro fails the inference)")
    flat = ctx.input(0).reshape(-1)
    picked = flat[starts[:, None] + np.arange(p.slice_size)]
    return picked.reshape(ctx.output_tensor().shape)


def _gather_nd_params(ctx: OpContext) -> GatherNdParams:
    return gather_nd_params(ctx.op, ctx.graph)


@kernel("EMBEDDING_LOOKUP", types=GATHER_TYPES)
def embedding_lookup(ctx: OpContext) -> np.ndarray:
    """Rows of the values (input 1) by the lookup (input 0); int8 rows to a float32 output are
    dequantized with their single scale (zero point 0, as TFLite Micro requires)."""
    values, output = ctx.input_tensor(1), ctx.output_tensor()
    checked_type(ctx, GATHER_TYPES, values)
    checked_type(ctx, INDEX_TYPES, ctx.input_tensor(0))
    checked_type(ctx, (DType.FLOAT32,) if values.dtype == DType.FLOAT32 else GATHER_TYPES)
    rows = ctx.input(1).reshape(values.shape[0], -1)
    lookup = ctx.input(0).astype(np.int64)
    if lookup.size and (lookup.min() < 0 or lookup.max() >= len(rows)):
        raise McuDeployError(ctx.op.label, f"an index outside [0, {len(rows)}) (TFLite Micro fails the inference)")
    picked = rows[lookup]
    if values.dtype != output.dtype:
        picked = picked.astype(np.float32) * ctx.prepared(_dequantization_scale)
    return picked.reshape(output.shape)


def _dequantization_scale(ctx: OpContext) -> np.float32:
    return dequantization_scale(ctx.op, ctx.graph)
