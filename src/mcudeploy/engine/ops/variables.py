"""Resource variables as TFLite Micro keeps them: VAR_HANDLE gives a variable's id,
ASSIGN_VARIABLE copies a value into its buffer, READ_VARIABLE copies the buffer out. The
buffers live in the engine (`OpContext.resources`) from one run to the next."""

from __future__ import annotations

import numpy as np

from mcudeploy.engine.registry import ANY_TYPE, OpContext, kernel
from mcudeploy.errors import UnsupportedOperatorError
from mcudeploy.params.variables import resource_layout


@kernel("VAR_HANDLE", types=ANY_TYPE)
def var_handle(ctx: OpContext) -> np.ndarray:
    resource = ctx.prepared(_handle_id)
    return np.full(ctx.output_tensor().shape, resource, dtype=np.int32)


def _handle_id(ctx: OpContext) -> int:
    return resource_layout(ctx.model or ctx.graph).handles[ctx.subgraph, ctx.op.outputs[0]]


@kernel("READ_VARIABLE", types=ANY_TYPE)
def read_variable(ctx: OpContext) -> np.ndarray:
    output = ctx.output_tensor()
    buffer = _buffer(ctx, output.nbytes)
    return buffer.view(output.dtype.numpy).reshape(output.shape).copy()


@kernel("ASSIGN_VARIABLE", types=ANY_TYPE)
def assign_variable(ctx: OpContext) -> tuple[()]:
    value = np.ascontiguousarray(ctx.input(1))
    _buffer(ctx, value.nbytes)[:] = value.reshape(-1).view(np.uint8)
    return ()


def _buffer(ctx: OpContext, nbytes: int) -> np.ndarray:
    """The buffer of the variable the operator's handle names, checked to hold `nbytes`."""
    resource = int(ctx.input(0).reshape(-1)[0])
    buffer = ctx.resources.get(resource)
    if buffer is None:
        raise UnsupportedOperatorError(
            ctx.op.label, f"resource variable {resource} has no buffer: no ASSIGN_VARIABLE gives it a size"
        )
    if buffer.size != nbytes:
        raise UnsupportedOperatorError(
            ctx.op.label, f"resource variable {resource} holds {buffer.size} bytes, the operator moves {nbytes}"
        )
    return buffer
