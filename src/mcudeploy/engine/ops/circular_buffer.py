"""TFLM's CIRCULAR_BUFFER custom operator (kernels/circular_buffer.cc), which streaming models put
before a convolution over time: each run moves the history [n, slots, w, depth] on by one frame and
writes the new frame [n, 1, w, depth] last, then ends the run (kTfLiteAbort) unless cycles_max
frames came since the layers after it last ran.

The history is TFLM's output tensor, a variable tensor: here it is kept in the engine's per-operator
states, starting (and after `Engine.reset`) from the output's reset value (its zero point), as TFLM's
ResetVariableTensors leaves it; the count of frames restarts with it, as TFLM's Reset does.
"""

from __future__ import annotations

import numpy as np

from mcudeploy.engine.registry import OpContext, RunAborted, kernel
from mcudeploy.ir import DType
from mcudeploy.ir.shapes import signal_attributes


@kernel("CIRCULAR_BUFFER", types=(DType.INT8,))
def circular_buffer(ctx: OpContext) -> np.ndarray:
    cycles_max = signal_attributes(ctx.op, "cycles_max")["cycles_max"]
    output = ctx.output_tensor()
    if circular_buffer not in ctx.states:
        ctx.states[circular_buffer] = [np.full(output.shape, output.reset_value, dtype=np.int8), cycles_max]
    state = ctx.states[circular_buffer]
    history = np.concatenate([state[0][:, 1:], ctx.input(0)], axis=1)
    state[0] = history
    state[1] -= 1
    if state[1] != 0:
        raise RunAborted((history.copy(),))
    state[1] = cycles_max
    return history.copy()
