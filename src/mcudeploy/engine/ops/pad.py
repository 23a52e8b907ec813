"""PAD and PADV2: constant padding around a tensor; MIRROR_PAD: the tensor's own edges reflected."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mcudeploy.engine.ops.slicing import gathered
from mcudeploy.engine.registry import ANY_TYPE, OpContext, checked_type, kernel
from mcudeploy.ir import DType
from mcudeploy.params.movement import prepare_pad
from mcudeploy.params.rearrange import mirror_pad_params


@kernel("PAD", "PADV2", types=ANY_TYPE)
def pad(ctx: OpContext) -> np.ndarray:
    return ctx.prepared(_prepare)(ctx.input(0))


def _prepare(ctx: OpContext) -> _Pad | None:
    params = prepare_pad(ctx.op, ctx.graph)
    if params is None:
        return None  # computed at run time: prepared on every call
    inside = tuple(
        slice(before, before + size)
        for (before, _), size in zip(params.paddings, ctx.input_tensor(0).shape, strict=True)
    )
    return _Pad(ctx.output_tensor().shape, params.fill, inside)


@dataclass(frozen=True)
class _Pad:
    shape: tuple[int, ...]
    fill: np.ndarray
    """The pad value, of the output's type."""
    inside: tuple[slice, ...]
    """Where the input goes in the output."""

    def __call__(self, data: np.ndarray) -> np.ndarray:
        padded = np.full(self.shape, self.fill, dtype=self.fill.dtype)
        padded[self.inside] = data
        return padded


MIRROR_PAD_TYPES = (DType.FLOAT32, DType.INT8)


@kernel("MIRROR_PAD", types=MIRROR_PAD_TYPES)
def mirror_pad(ctx: OpContext) -> np.ndarray:
    """REFLECT (the edge not repeated) or SYMMETRIC; the quantized values copied as they are."""
    checked_type(ctx, MIRROR_PAD_TYPES)
    return gathered(ctx, ctx.prepared(_mirror_indices))


def _mirror_indices(ctx: OpContext) -> np.ndarray:
    return mirror_pad_params(ctx.op, ctx.graph).source_indices()
