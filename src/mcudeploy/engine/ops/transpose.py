"""TRANSPOSE and REVERSE_V2: the axes permuted as the constant perm input gives, or the
listed axes walked backwards."""

from __future__ import annotations

import numpy as np

from mcudeploy.engine.ops.slicing import gathered
from mcudeploy.engine.registry import ANY_TYPE, OpContext, checked_type, kernel
from mcudeploy.ir import DType
from mcudeploy.params.rearrange import reverse_view


@kernel("TRANSPOSE", types=ANY_TYPE)
def transpose(ctx: OpContext) -> np.ndarray:
    return np.ascontiguousarray(np.transpose(ctx.input(0), ctx.prepared(_permutation)))


def _permutation(ctx: OpContext) -> list[int]:
    """The constant perm, a permutation of the input axes (both checked at import)."""
    return [int(p) for p in np.ravel(ctx.input(1))]


REVERSE_TYPES = (DType.INT32, DType.FLOAT32, DType.UINT8, DType.INT8, DType.INT16, DType.INT64, DType.BOOL)


@kernel("REVERSE_V2", types=REVERSE_TYPES)
def reverse(ctx: OpContext) -> np.ndarray:
    checked_type(ctx, REVERSE_TYPES)
    return gathered(ctx, ctx.prepared(_reverse_indices))


def _reverse_indices(ctx: OpContext) -> np.ndarray:
    return reverse_view(ctx.op, ctx.graph).source_indices()
