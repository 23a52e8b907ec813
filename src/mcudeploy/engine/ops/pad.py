"""PAD and PADV2: constant padding around a tensor."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mcudeploy.engine.registry import OpContext, kernel
from mcudeploy.errors import ModelError, UnsupportedOperatorError
from mcudeploy.ir import DType


def _pad_value(ctx: OpContext) -> int | float | bool:
    """PADV2's constant input, else what TFLM pads with: the output zero point for int8 and
    zero for every other type (int16 included, whatever its zero point)."""
    output = ctx.output_tensor()
    constant = ctx.input(2)
    if constant is not None:
        if output.dtype == DType.INT8 and ctx.input_tensor(2).quantization != output.quantization:
            raise UnsupportedOperatorError(ctx.op.label, "the int8 pad value is quantized unlike the output")
        return np.ravel(constant)[0]
    if output.dtype == DType.INT8 and output.quantization is not None:
        return output.quantization.single_zero_point
    return 0


@kernel("PAD", "PADV2")
def pad(ctx: OpContext) -> np.ndarray:
    return ctx.prepared(_prepare)(ctx.input(0))


def _prepare(ctx: OpContext) -> _Pad | None:
    paddings, constant = ctx.input(1), ctx.input(2)
    if paddings is None or (constant is None and ctx.input_tensor(2) is not None):
        return None  # computed at run time: prepared on every call
    source, output = ctx.input_tensor(0), ctx.output_tensor()
    rank = len(source.shape)
    paddings = np.asarray(paddings, dtype=np.int64).reshape(-1, 2)
    if paddings.shape[0] != rank or np.any(paddings < 0):
        raise ModelError(ctx.op.label, f"paddings {paddings.tolist()} do not fit an input of rank {rank}")
    if tuple(int(n) for n in np.add(source.shape, paddings.sum(axis=1))) != output.shape:
        raise ModelError(ctx.op.label, f"padded shape does not match '{output.name}' {list(output.shape)}")
    inside = tuple(slice(before, before + size) for (before, _), size in zip(paddings, source.shape, strict=True))
    return _Pad(output.shape, output.dtype.numpy, _pad_value(ctx), inside)


@dataclass(frozen=True)
class _Pad:
    shape: tuple[int, ...]
    dtype: np.dtype
    value: int | float | bool
    inside: tuple[slice, ...]
    """Where the input goes in the output."""

    def __call__(self, data: np.ndarray) -> np.ndarray:
        padded = np.full(self.shape, self.value, dtype=self.dtype)
        padded[self.inside] = data
        return padded
