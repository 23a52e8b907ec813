"""PAD and PADV2: constant padding around a tensor."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mcudeploy.engine.registry import ANY_TYPE, OpContext, kernel
from mcudeploy.params.movement import prepare_pad


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
