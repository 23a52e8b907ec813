"""TRANSPOSE: permutes the axes as given by the constant perm input."""

from __future__ import annotations

import numpy as np

from mcudeploy.engine.registry import OpContext, kernel
from mcudeploy.errors import ModelError


@kernel("TRANSPOSE")
def transpose(ctx: OpContext) -> np.ndarray:
    data = ctx.input(0)
    perm = [int(p) for p in np.ravel(ctx.input(1))]
    if sorted(perm) != list(range(data.ndim)):  # TFLM also refuses negative entries
        raise ModelError(ctx.op.label, f"perm {perm} is not a permutation of the {data.ndim} input axes")
    return np.ascontiguousarray(np.transpose(data, perm))
