"""Operators that move blocks of pixels between space and depth or batch, as TFLite Micro does:
SPACE_TO_DEPTH, DEPTH_TO_SPACE (NHWC), SPACE_TO_BATCH_ND and BATCH_TO_SPACE_ND (NHWC, or NHC as
NH1C). float32 and int8 only; the values are copied unchanged."""

from __future__ import annotations

import numpy as np

from mcudeploy.engine.ops.slicing import gathered
from mcudeploy.engine.registry import OpContext, checked_type, kernel
from mcudeploy.ir import DType
from mcudeploy.params.rearrange import (
    SpaceToBatchParams,
    batch_to_space_params,
    depth_to_space_view,
    space_to_batch_params,
    space_to_depth_view,
)

BLOCK_TYPES = (DType.FLOAT32, DType.INT8)


_GATHERING_VIEWS = {
    "SPACE_TO_DEPTH": space_to_depth_view,
    "DEPTH_TO_SPACE": depth_to_space_view,
    "BATCH_TO_SPACE_ND": batch_to_space_params,
}
"""The block moves that only gather input values: each one's record gives every output's source index."""


@kernel(*_GATHERING_VIEWS, types=BLOCK_TYPES)
def gather_blocks(ctx: OpContext) -> np.ndarray:
    checked_type(ctx, BLOCK_TYPES)
    return gathered(ctx, ctx.prepared(_source_indices))


def _source_indices(ctx: OpContext) -> np.ndarray:
    return _GATHERING_VIEWS[ctx.op.op_type](ctx.op, ctx.graph).source_indices()


@kernel("SPACE_TO_BATCH_ND", types=BLOCK_TYPES)
def space_to_batch(ctx: OpContext) -> np.ndarray:
    """Padding is the zero point (0.0 for float32), as TFLite pads; TFLite Micro leaves it unset."""
    checked_type(ctx, BLOCK_TYPES)
    params = ctx.prepared(_space_to_batch_params)
    output = ctx.output_tensor()
    return _space_to_batch_bytes(params, ctx.input(0)).view(output.dtype.numpy).reshape(output.shape)


def _space_to_batch_params(ctx: OpContext) -> SpaceToBatchParams:
    return space_to_batch_params(ctx.op, ctx.graph)


def _space_to_batch_bytes(p: SpaceToBatchParams, data: np.ndarray) -> np.ndarray:
    """(output batches, rows, columns, pixel bytes): each output pixel from its input pixel, or padding."""
    pixels = np.ascontiguousarray(data).view(np.uint8).reshape(p.batches, p.input_h, p.input_w, p.pixel_bytes)
    output = np.full((p.output_batches, p.output_h, p.output_w, p.pixel_bytes), p.pad_byte, dtype=np.uint8)
    for out_batch in range(p.output_batches):
        shift, batch = divmod(out_batch, p.batches)
        dy, dx = divmod(shift, p.block_w)
        rows = np.arange(p.output_h) * p.block_h + dy - p.pad_top
        columns = np.arange(p.output_w) * p.block_w + dx - p.pad_left
        row_in, column_in = (rows >= 0) & (rows < p.input_h), (columns >= 0) & (columns < p.input_w)
        output[out_batch][np.ix_(row_in, column_in)] = pixels[batch][np.ix_(rows[row_in], columns[column_in])]
    return output
