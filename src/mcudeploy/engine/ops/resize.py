"""RESIZE_NEAREST_NEIGHBOR on NHWC tensors."""

from __future__ import annotations

import numpy as np

from mcudeploy.engine.registry import ANY_TYPE, OpContext, kernel
from mcudeploy.errors import ModelError
from mcudeploy.params.movement import prepare_resize


@kernel("RESIZE_NEAREST_NEIGHBOR", types=ANY_TYPE)
def resize_nearest_neighbor(ctx: OpContext) -> np.ndarray:
    rows, columns = ctx.prepared(_source_indices)
    return ctx.input(0)[:, rows, columns, :]


def _source_indices(ctx: OpContext) -> tuple[np.ndarray, np.ndarray] | None:
    """The input row of each output row (as a column) and input column of each output column."""
    if ctx.input(1) is None:
        return None  # size computed at run time: worked out on every call
    shape, output = ctx.input_tensor(0).shape, ctx.output_tensor()
    height, width = (int(s) for s in np.ravel(ctx.input(1)))
    if len(shape) != 4 or output.shape != (shape[0], height, width, shape[3]):
        raise ModelError(ctx.op.label, f"size {[height, width]} does not turn {list(shape)} into {output.shape}")
    params = prepare_resize(ctx.op, ctx.graph)
    return params.rows[:, None], params.columns[None, :]
