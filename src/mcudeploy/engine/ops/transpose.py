"""TRANSPOSE: permutes the axes as given by the constant perm input."""

from __future__ import annotations

import numpy as np

from mcudeploy.engine.registry import ANY_TYPE, OpContext, kernel
from mcudeploy.errors import ModelError


@kernel("TRANSPOSE", types=ANY_TYPE)
def transpose(ctx: OpContext) -> np.ndarray:
    return np.ascontiguousarray(np.transpose(ctx.input(0), ctx.prepared(_permutation)))


def _permutation(ctx: OpContext) -> list[int] | None:
    if ctx.input(1) is None:
        return None  # computed at run time: checked on every call
    perm = [int(p) for p in np.ravel(ctx.input(1))]
    rank = len(ctx.input_tensor(0).shape)
    if sorted(perm) != list(range(rank)):  # TFLM also refuses negative entries
        raise ModelError(ctx.op.label, f"perm {perm} is not a permutation of the {rank} input axes")
    return perm
