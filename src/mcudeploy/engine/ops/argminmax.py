"""ARG_MAX and ARG_MIN: the index of the largest (smallest) value along a constant axis, as TFLite
Micro finds it (float32 and int8 input, int32 axis and output).

A strict comparison walks the axis from its start, so the first of equal values wins; a float
NaN never compares, so it is neither picked nor displaced (a first NaN stays).
"""

from __future__ import annotations

import numpy as np

from mcudeploy.engine.registry import OpContext, checked_type, kernel
from mcudeploy.ir import DType
from mcudeploy.ir.shapes import positive_axis

ARG_TYPES = (DType.FLOAT32, DType.INT8)


@kernel("ARG_MAX", "ARG_MIN", types=ARG_TYPES)
def arg_min_max(ctx: OpContext) -> np.ndarray:
    checked_type(ctx, ARG_TYPES, ctx.input_tensor(0))
    checked_type(ctx, (DType.INT32,))
    checked_type(ctx, (DType.INT32,), ctx.input_tensor(1))
    data = ctx.input(0)
    axis = positive_axis(int(np.ravel(ctx.input(1))[0]), data.ndim, ctx.op.label)
    rows = np.moveaxis(data, axis, -1)
    better = np.greater if ctx.op.op_type == "ARG_MAX" else np.less
    best, index = rows[..., 0], np.zeros(rows.shape[:-1], dtype=np.int32)
    for position in range(1, rows.shape[-1]):
        replaces = better(rows[..., position], best)
        best = np.where(replaces, rows[..., position], best)
        index = np.where(replaces, np.int32(position), index)
    return index.reshape(ctx.output_tensor().shape)
