"""SHAPE, FILL, ZEROS_LIKE, BROADCAST_TO and BROADCAST_ARGS: tensors made from shapes, as
TFLite Micro's kernels make them.

SHAPE writes its input's dimensions (int32 only in TFLite Micro); FILL repeats
one scalar value (float32, int32 or int8, the output's type) over the output,
whose shape the model fixes (a constant dims input must agree with it);
ZEROS_LIKE writes zeros (the value 0, whatever an int8 zero point); BROADCAST_TO
repeats its input over the output's shape; BROADCAST_ARGS computes the shape two
shapes broadcast to.
"""

from __future__ import annotations

import numpy as np

from mcudeploy.engine.ops.slicing import gathered
from mcudeploy.engine.registry import ANY_TYPE, OpContext, checked_type, kernel
from mcudeploy.errors import McuDeployError, UnsupportedOperatorError
from mcudeploy.ir import DType
from mcudeploy.params.rearrange import broadcast_view


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


ZEROS_LIKE_TYPES = (DType.INT64, DType.INT32, DType.INT8, DType.FLOAT32)


@kernel("ZEROS_LIKE", types=ZEROS_LIKE_TYPES)
def zeros_like(ctx: OpContext) -> np.ndarray:
    output = ctx.output_tensor()
    return np.zeros(output.shape, dtype=checked_type(ctx, ZEROS_LIKE_TYPES).numpy)


@kernel("BROADCAST_TO", types=ANY_TYPE)
def broadcast_to(ctx: OpContext) -> np.ndarray:
    """The output's shape is the model's (the shape input, when a constant, agrees: checked at import)."""
    return gathered(ctx, ctx.prepared(_broadcast_indices))


def _broadcast_indices(ctx: OpContext) -> np.ndarray:
    return broadcast_view(ctx.op, ctx.graph).source_indices()


SHAPE_TYPES = (DType.INT32, DType.INT64)


@kernel("BROADCAST_ARGS", types=SHAPE_TYPES)
def broadcast_args(ctx: OpContext) -> np.ndarray:
    """From the last dimension back: a 1 takes the other's size (a shape too short counts as 1s);
    two other sizes must agree (TFLite Micro aborts where they differ)."""
    dtype = checked_type(ctx, SHAPE_TYPES)
    length = ctx.output_tensor().size
    first, second = (_ones_before(np.ravel(ctx.input(i)), length) for i in (0, 1))
    if np.any((first != 1) & (second != 1) & (first != second)):
        raise McuDeployError(ctx.op.label, f"shapes {first.tolist()} and {second.tolist()} do not broadcast")
    return np.where(first == 1, second, first).astype(dtype.numpy)


def _ones_before(shape: np.ndarray, length: int) -> np.ndarray:
    """The last `length` dimensions of a shape as int32 (TFLite Micro's int), 1 before its first."""
    dims = shape.astype(np.int32)[-length:]
    return np.concatenate([np.ones(length - len(dims), dtype=np.int32), dims])
