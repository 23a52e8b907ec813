"""UNIDIRECTIONAL_SEQUENCE_LSTM (float32; int8 and int16 with an int16 cell state) as TFLite
Micro's kernels compute it.

Per time step: each gate is the input times its input weights plus the bias, plus the
hidden state times its recurrent weights; the forget, input and output gates go through
the logistic, the cell gate through tanh. The cell state becomes forget · cell + input ·
cell gate (clipped to ±cell_clip when set), the hidden state output gate · tanh(cell), and
the hidden state is that step's output. Both states are variable tensors, updated in place.
"""

from __future__ import annotations

import numpy as np

from mcudeploy.engine.fixedpoint import (
    multiply_by_quantized_multiplier,
    multiply_by_quantized_multiplier_int64,
    wrap_int32,
)
from mcudeploy.engine.ops.activations import float_logistic, float_tanh, int16_logistic, int16_tanh
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


@kernel("UNIDIRECTIONAL_SEQUENCE_LSTM", types=(DType.FLOAT32, DType.INT8, DType.INT16))
def unidirectional_sequence_lstm(ctx: OpContext) -> np.ndarray:
    params = ctx.prepared(_params)
    if params.input_zero_point is not None:
        return _integer_lstm(ctx, params)
    output = np.stack([hidden.copy() for hidden, _ in _float_steps(ctx, params)])
    return output if params.time_major else output.transpose(1, 0, 2).copy()


def float_cell_states(ctx: OpContext) -> np.ndarray:
    """Every step's cell state of a float LSTM, [time, batch, cells], from the states in `ctx`
    (updated in place): calibration sets the int16 cell state's scale from their range."""
    return np.stack([cell.copy() for _, cell in _float_steps(ctx, ctx.prepared(_params))])


def _float_steps(ctx: OpContext, params: LstmParams):
    """Each step's hidden and cell states (the variable arrays, updated in place)."""
    hidden, cell = ctx.input(HIDDEN_STATE), ctx.input(CELL_STATE)
    sequence = ctx.input(0) if params.time_major else ctx.input(0).transpose(1, 0, 2)  # [time, batch, input]
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
        yield hidden, cell


def _params(ctx: OpContext) -> LstmParams:
    return prepare(ctx.op, ctx.graph)


def _fully_connected(values: np.ndarray, weights: np.ndarray, bias: np.ndarray | None = None) -> np.ndarray:
    """[rows, depth] x [outputs, depth]ᵀ summed in depth order in float32, as TFLM's loop does
    (a pairwise sum differs in the last bits, which the cancellations of the gates magnify)."""
    total = np.zeros((values.shape[0], weights.shape[0]), dtype=F32)
    for k in range(values.shape[1]):
        total += values[:, k, None].astype(F32) * weights[None, :, k].astype(F32)
    return total if bias is None else total + bias.astype(F32)


def _integer_lstm(ctx: OpContext, params: LstmParams) -> np.ndarray:
    """TFLM's 8x8_16 and 16x8 LSTMs: int16 gates in Q3.12 from two products each (int8 or int16
    values times int8 weights), Q0.15 logistic and tanh, int16 cell state of scale
    2^cell_scale_power, hidden state of the sequence's type."""
    hidden, cell = ctx.input(HIDDEN_STATE), ctx.input(CELL_STATE)
    hidden_range = np.iinfo(hidden.dtype)
    sequence = ctx.input(0) if params.time_major else ctx.input(0).transpose(1, 0, 2)
    steps = []
    for step_input in sequence:
        gates = []
        for gate, (w, r, b) in enumerate(zip(INPUT_WEIGHTS, RECURRENT_WEIGHTS, BIASES, strict=True)):
            from_input = _int16_product(
                step_input, params.input_zero_point, ctx.input(w), ctx.input(b),
                params.input_multipliers[gate], params.input_shifts[gate],
            )  # fmt: skip
            from_state = _int16_product(
                hidden, params.hidden_zero_point, ctx.input(r), None,
                params.recurrent_multipliers[gate], params.recurrent_shifts[gate],
            )  # fmt: skip
            gates.append(np.clip(from_input + from_state, -32768, 32767))
        input_gate, forget_gate, output_gate = (int16_logistic(gates[g], 3, 0) for g in (0, 1, 3))
        cell_gate = _tanh_of(gates[2], -12)
        kept = _mul(forget_gate, cell, params.forget_multiplier, params.forget_shift, 0, INT16)
        added = _mul(input_gate, cell_gate, params.input_multiplier, params.input_shift, 0, INT16)
        updated = np.clip(kept.astype(np.int64) + added, -32768, 32767)
        if params.quantized_cell_clip > 0:
            updated = np.clip(updated, -params.quantized_cell_clip, params.quantized_cell_clip)
        cell[:] = updated
        squashed = _tanh_of(cell, params.cell_scale_power)
        hidden[:] = _mul(
            squashed, output_gate, params.output_multiplier, params.output_shift, params.hidden_zero_point, hidden_range
        )
        steps.append(hidden.copy())
    output = np.stack(steps)
    return output if params.time_major else output.transpose(1, 0, 2).copy()


INT16 = np.iinfo(np.int16)


def _int16_product(
    values: np.ndarray, zero_point: int, weights: np.ndarray, bias: np.ndarray | None, multiplier: int, shift: int
) -> np.ndarray:
    """TFLite's integer FULLY_CONNECTED to int16 (per-tensor weights, output zero point 0): an
    int32 sum rescaled in 32 bits for int8 values, an int64 sum with the reduced 16-bit multiplier
    for int16 values (16x8)."""
    total = (values.astype(np.int64) - zero_point) @ weights.T.astype(np.int64)
    if bias is not None:
        total = total + bias.astype(np.int64)
    if values.dtype == np.int16:
        scaled = multiply_by_quantized_multiplier_int64(total, multiplier, shift)
    else:
        scaled = multiply_by_quantized_multiplier(wrap_int32(total), multiplier, shift)
    return np.clip(scaled, -32768, 32767)


def _tanh_of(values: np.ndarray, scale_power: int) -> np.ndarray:
    """TFLM's lstm Tanh: int16 input of scale 2^scale_power onto the table's Q3.12 (times 3)."""
    left_shift = 15 + scale_power - 3
    multiplier, shift = (3, -left_shift) if left_shift < 0 else (3 << left_shift, 0)
    return int16_tanh(values, multiplier, shift)


def _mul(a: np.ndarray, b: np.ndarray, multiplier: int, shift: int, zero_point: int, info: np.iinfo) -> np.ndarray:
    """TFLite's integer MulElementwise of two symmetric int16 operands."""
    product = a.astype(np.int64) * b.astype(np.int64)
    scaled = multiply_by_quantized_multiplier(product, multiplier, shift) + zero_point
    return np.clip(scaled, info.min, info.max).astype(info.dtype)
