"""SHAPE and FILL: tensors made from shapes, as TFLite Micro's kernels make them.

SHAPE writes its input's dimensions (int32 only in TFLite Micro); FILL repeats
one scalar value (float32, int32 or int8, the output's type) over the output,
whose shape the model fixes (a constant dims input must agree with it).
"""

from __future__ import annotations

import numpy as np

from mcudeploy.engine.registry import OpContext, kernel
from mcudeploy.errors import UnsupportedOperatorError
from mcudeploy.ir import DType


@kernel("SHAPE", types=(DType.INT32,))
def shape(ctx: OpContext) -> np.ndarray:
    output = ctx.output_tensor()
    if output.dtype != DType.INT32:
        raise UnsupportedOperatorError(ctx.op.label, f"SHAPE to {output.dtype} is not supported by TFLite Micro")
    return np.array(ctx.input_tensor(0).shape, dtype=np.int32).reshape(output.shape)


@kernel("FILL", types=(DType.FLOAT32, DType.INT32, DType.INT8))
def fill(ctx: OpContext) -> np.ndarray:
    output = ctx.output_tensor()  # a scalar value of its type, dims agreeing: checked at import
    if output.dtype not in (DType.FLOAT32, DType.INT32, DType.INT8):
        raise UnsupportedOperatorError(ctx.op.label, f"FILL of {output.dtype} is not supported by TFLite Micro")
    return np.full(output.shape, ctx.input(1), dtype=output.dtype.numpy)
