"""LOGICAL_AND, LOGICAL_OR, LOGICAL_NOT (bool) and SELECT_V2 (float32, int8, int16 values chosen
by a bool condition), with numpy broadcasting, as TFLite Micro computes them."""

from __future__ import annotations

import numpy as np

from mcudeploy.engine.registry import OpContext, kernel
from mcudeploy.errors import UnsupportedOperatorError
from mcudeploy.ir import DType

SELECT_TYPES = (DType.FLOAT32, DType.INT8, DType.INT16)


@kernel("LOGICAL_AND", "LOGICAL_OR", "LOGICAL_NOT", types=(DType.BOOL,))
def logical(ctx: OpContext) -> np.ndarray:
    tensors = [ctx.input_tensor(i) for i in range(len(ctx.op.inputs))] + [ctx.output_tensor()]
    if any(t.dtype != DType.BOOL for t in tensors):
        raise UnsupportedOperatorError(ctx.op.label, f"{ctx.op.op_type} takes bool tensors only in TFLite Micro")
    if ctx.op.op_type == "LOGICAL_NOT":
        result = np.logical_not(ctx.input(0))
    else:
        result = (np.logical_and if ctx.op.op_type == "LOGICAL_AND" else np.logical_or)(ctx.input(0), ctx.input(1))
    return result.reshape(ctx.output_tensor().shape)


@kernel("SELECT_V2", types=SELECT_TYPES)
def select(ctx: OpContext) -> np.ndarray:
    condition, x, y = (ctx.input_tensor(i) for i in range(3))
    output = ctx.output_tensor()
    if condition.dtype != DType.BOOL or x.dtype != y.dtype or x.dtype != output.dtype:
        raise UnsupportedOperatorError(ctx.op.label, "SELECT_V2 needs a bool condition and values of one type")
    if x.dtype not in SELECT_TYPES:
        raise UnsupportedOperatorError(ctx.op.label, f"SELECT_V2 of {x.dtype} is not supported by TFLite Micro")
    return np.where(ctx.input(0), ctx.input(1), ctx.input(2)).astype(output.dtype.numpy).reshape(output.shape)
