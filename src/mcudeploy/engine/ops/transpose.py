"""TRANSPOSE: permutes the axes as given by the constant perm input."""

from __future__ import annotations

import numpy as np

from mcudeploy.engine.registry import ANY_TYPE, OpContext, kernel


@kernel("TRANSPOSE", types=ANY_TYPE)
def transpose(ctx: OpContext) -> np.ndarray:
    return np.ascontiguousarray(np.transpose(ctx.input(0), ctx.prepared(_permutation)))


def _permutation(ctx: OpContext) -> list[int]:
    """The constant perm, a permutation of the input axes (both checked at import)."""
    return [int(p) for p in np.ravel(ctx.input(1))]
