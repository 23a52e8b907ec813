"""RESIZE_NEAREST_NEIGHBOR on NHWC tensors."""

from __future__ import annotations

import numpy as np

from mcudeploy.engine.registry import ANY_TYPE, OpContext, kernel
from mcudeploy.params.movement import prepare_resize


@kernel("RESIZE_NEAREST_NEIGHBOR", types=ANY_TYPE)
def resize_nearest_neighbor(ctx: OpContext) -> np.ndarray:
    rows, columns = ctx.prepared(_source_indices)
    return ctx.input(0)[:, rows, columns, :]


def _source_indices(ctx: OpContext) -> tuple[np.ndarray, np.ndarray]:
    """The input row of each output row (as a column) and input column of each output column
    (the size input is a constant the output's shape agrees with: checked at import)."""
    params = prepare_resize(ctx.op, ctx.graph)
    return params.rows[:, None], params.columns[None, :]
