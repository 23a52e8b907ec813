"""Control flow as TFLite Micro runs it (kernels/if.cc, while.cc, call_once.cc): operators that
run other subgraphs of the model, their values copied in and out.

IF runs its then-subgraph when its condition (one bool) is true, its else-subgraph otherwise.
WHILE runs its cond-subgraph on the loop values and, while that gives true, its body on them
(the body's outputs are the next values); the values it ends with are its outputs. CALL_ONCE
runs its subgraph on the interpreter's first inference only: the state it sets (resource
variables) then lives on, and a reset does not run it again.

A subgraph that ends waiting for frames (a CIRCULAR_BUFFER's kTfLiteAbort) ends the calling layer
and the inference there, as TFLM's kernels return the status of InvokeSubgraph: an IF's outputs
are not written, a WHILE's hold the values of its last complete iteration (its inputs before the
first), and a CALL_ONCE has not run (its next inference runs the subgraph again).
"""

from __future__ import annotations

import numpy as np

from mcudeploy.engine.registry import ANY_TYPE, OpContext, RunAborted, kernel


@kernel("IF", types=ANY_TYPE)
def if_(ctx: OpContext) -> list[np.ndarray]:
    options = ctx.options
    branch = options.then_subgraph if _true(ctx.input(0)) else options.else_subgraph
    return ctx.call(branch, ctx.inputs[1:])


@kernel("WHILE", types=ANY_TYPE)
def while_(ctx: OpContext) -> list[np.ndarray]:
    options = ctx.options
    values = list(ctx.inputs)
    try:
        while _true(ctx.call(options.cond_subgraph, values)[0]):
            values = ctx.call(options.body_subgraph, values)
    except RunAborted:  # its outputs hold the values it had, as TFLM copies them in before each call
        raise RunAborted(tuple(np.array(value) for value in values)) from None
    return [np.array(value) for value in values]


@kernel("CALL_ONCE", types=ANY_TYPE)
def call_once(ctx: OpContext) -> tuple[()]:
    if not ctx.states.get(call_once):  # kept for the engine's lifetime, as TFLM's OpData.has_run
        ctx.call(ctx.options.init_subgraph, [])
        ctx.states[call_once] = True
    return ()


def _true(condition: np.ndarray) -> bool:
    """The condition as TFLM reads it: the first element of a bool tensor (checked to be one bool)."""
    return bool(condition.reshape(-1)[0])
