"""PAD and PADV2: constant padding around a tensor."""

from __future__ import annotations

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
    data = ctx.input(0)
    output = ctx.output_tensor()
    paddings = np.asarray(ctx.input(1), dtype=np.int64).reshape(-1, 2)
    if paddings.shape[0] != data.ndim or np.any(paddings < 0):
        raise ModelError(ctx.op.label, f"paddings {paddings.tolist()} do not fit an input of rank {data.ndim}")
    if tuple(int(n) for n in np.add(data.shape, paddings.sum(axis=1))) != output.shape:
        raise ModelError(ctx.op.label, f"padded shape does not match '{output.name}' {list(output.shape)}")
    padded = np.full(output.shape, _pad_value(ctx), dtype=output.dtype.numpy)
    padded[tuple(slice(before, before + size) for (before, _), size in zip(paddings, data.shape, strict=True))] = data
    return padded
