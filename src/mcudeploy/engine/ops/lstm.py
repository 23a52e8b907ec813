"""UNIDIRECTIONAL_SEQUENCE_LSTM (float32) as TFLite Micro's kernel computes it.

Per time step: each gate is the input times its input weights plus the bias, plus the
hidden state times its recurrent weights; the forget, input and output gates go through
the logistic, the cell gate through tanh. The cell state becomes forget · cell + input ·
cell gate (clipped to ±cell_clip when set), the hidden state output gate · tanh(cell), and
the hidden state is that step's output. Both states are variable tensors, updated in place.
"""

from __future__ import annotations

import numpy as np

from mcudeploy.engine.ops.activations import float_logistic, float_tanh
from mcudeploy.engine.registry import OpContext, kernel
from mcudeploy.ir import DType
from mcudeploy.params.lstm import (
    BIASES,
    CELL_STATE,
    HIDDEN_STATE,
    INPUT_WEIGHTS,
    RECURRENT_WEIGHTS,
    LstmParams,
    prepare,
)

F32 = np.float32
_GATE_ACTIVATIONS = (float_logistic, float_logistic, float_tanh, float_logistic)
"""Input, forget, cell and output gate."""


@kernel("UNIDIRECTIONAL_SEQUENCE_LSTM", types=(DType.FLOAT32,))
def unidirectional_sequence_lstm(ctx: OpContext) -> np.ndarray:
    params = ctx.prepared(_params)
    hidden, cell = ctx.input(HIDDEN_STATE), ctx.input(CELL_STATE)
    sequence = ctx.input(0) if params.time_major else ctx.input(0).transpose(1, 0, 2)  # [time, batch, input]
    steps = []
    for step_input in sequence:
        gates = [
            activation(
                _fully_connected(step_input, ctx.input(w), ctx.input(b)) + _fully_connected(hidden, ctx.input(r))
            )
            for activation, w, r, b in zip(_GATE_ACTIVATIONS, INPUT_WEIGHTS, RECURRENT_WEIGHTS, BIASES, strict=True)
        ]
        input_gate, forget_gate, cell_gate, output_gate = gates
        cell[:] = forget_gate * cell + input_gate * cell_gate
        if params.cell_clip > 0:
            np.clip(cell, -params.cell_clip, params.cell_clip, out=cell)
        hidden[:] = float_tanh(cell) * output_gate
        steps.append(hidden.copy())
    output = np.stack(steps)
    return output if params.time_major else output.transpose(1, 0, 2).copy()


def _params(ctx: OpContext) -> LstmParams:
    return prepare(ctx.op, ctx.graph)


def _fully_connected(values: np.ndarray, weights: np.ndarray, bias: np.ndarray | None = None) -> np.ndarray:
    """[rows, depth] x [outputs, depth]ᵀ summed in depth order in float32, as TFLM's loop does
    (a pairwise sum differs in the last bits, which the cancellations of the gates magnify)."""
    total = np.zeros((values.shape[0], weights.shape[0]), dtype=F32)
    for k in range(values.shape[1]):
        total += values[:, k, None].astype(F32) * weights[None, :, k].astype(F32)
    return total if bias is None else total + bias.astype(F32)
