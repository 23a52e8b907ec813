"""UNIDIRECTIONAL_SEQUENCE_LSTM: md_lstm_params, the shapes and (integer) rescaling of TFLite
Micro's LSTM kernel.

Integer: "8x8_16" (int8 sequence and hidden state, int32 biases) or 16x8 (int16 sequence and
hidden state, int64 biases), int8 weights and an int16 cell state of a power-of-two scale in
both. Each gate's two products go to int16 in Q3.12 (scale 2^-12), the logistic and tanh give
Q0.15, and the products of gates are rescaled onto the cell and hidden scales.

Inputs as TFLite numbers them: 0 the sequence, 1-4 the input weights of the input, forget,
cell and output gates, 5-8 their recurrent weights, 12-15 their biases, 18 the hidden state
and 19 the cell state (variable tensors). TFLM has no peephole (9-11), projection (16-17) or
layer normalisation (20-23).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from mcudeploy.errors import UnsupportedOperatorError
from mcudeploy.ir import NO_TENSOR, Activation, DType, Graph, Operator
from mcudeploy.ir.options import (
    BIASES,
    CELL_STATE,
    HIDDEN_STATE,
    INPUT_WEIGHTS,
    RECURRENT_WEIGHTS,
    SequenceLSTMOptions,
)
from mcudeploy.params.quantization import checked_log2, quantize_multiplier, single_scale, zero_point
from mcudeploy.params.record import BESIDE_STRUCT

_ABSENT = (9, 10, 11, 16, 17, 20, 21, 22, 23)
_WEIGHT_AND_BIAS_TYPES = {
    DType.FLOAT32: (DType.FLOAT32, DType.FLOAT32),
    DType.INT8: (DType.INT8, DType.INT32),
    DType.INT16: (DType.INT8, DType.INT64),
}


@dataclass(frozen=True)
class LstmParams:
    batches: int
    time_steps: int
    input_size: int
    cells: int
    """The state's width (no projection: also the output's)."""
    time_major: int
    """1: the sequence is [time, batch, input]; 0: [batch, time, input]."""
    cell_clip: np.float32 = field(default=np.float32(0), metadata=BESIDE_STRUCT)
    """Float: |cell state| bound after each update, 0 for none."""
    input_zero_point: int | None = None
    hidden_zero_point: int | None = None
    input_multipliers: tuple[int, ...] | None = None
    """Per gate (input, forget, cell, output): input · input-weight scale onto Q3.12."""
    input_shifts: tuple[int, ...] | None = None
    recurrent_multipliers: tuple[int, ...] | None = None
    """Per gate: hidden · recurrent-weight scale onto Q3.12."""
    recurrent_shifts: tuple[int, ...] | None = None
    forget_multiplier: int | None = None
    """Q0.15 forget gate times the cell state, back onto the cell scale."""
    forget_shift: int | None = None
    input_multiplier: int | None = None
    """Q0.15 input gate times Q0.15 cell gate, onto the cell scale."""
    input_shift: int | None = None
    output_multiplier: int | None = None
    """Q0.15 output gate times Q0.15 tanh(cell), onto the hidden scale."""
    output_shift: int | None = None
    cell_scale_power: int | None = None
    """log2 of the cell state's scale."""
    quantized_cell_clip: int | None = None
    """|cell state| bound in cell steps, 0 for none."""


def prepare(op: Operator, graph: Graph) -> LstmParams:
    options = op.options or SequenceLSTMOptions()
    inputs = [*op.inputs, *[NO_TENSOR] * (24 - len(op.inputs))]
    if any(inputs[i] != NO_TENSOR for i in _ABSENT):
        raise UnsupportedOperatorError(op.label, "TFLite Micro's LSTM has no peephole, projection or layer norm")
    sequence, hidden, cell = (graph.tensors[inputs[i]] for i in (0, HIDDEN_STATE, CELL_STATE))
    if not (hidden.is_variable and cell.is_variable):
        raise UnsupportedOperatorError(op.label, "the LSTM's hidden and cell states must be variable tensors")
    integer = sequence.dtype in (DType.INT8, DType.INT16)
    if not integer and sequence.dtype != DType.FLOAT32:
        raise UnsupportedOperatorError(op.label, f"UNIDIRECTIONAL_SEQUENCE_LSTM of {sequence.dtype} is not supported")
    if options.activation != Activation.TANH:
        raise UnsupportedOperatorError(op.label, f"an LSTM cell gate of {options.activation} is not in TFLite Micro")
    if len(sequence.shape) != 3 or len(hidden.shape) != 2 or cell.shape != hidden.shape:
        raise UnsupportedOperatorError(op.label, "the LSTM needs a 3-D sequence and 2-D states of one shape")
    time_steps, batches = sequence.shape[:2] if options.time_major else sequence.shape[1::-1]
    cells = hidden.shape[1]
    for position in (*INPUT_WEIGHTS, *RECURRENT_WEIGHTS, *BIASES):
        if inputs[position] == NO_TENSOR or not graph.tensors[inputs[position]].is_constant:
            raise UnsupportedOperatorError(op.label, f"LSTM input {position} must be a constant")
    weight_type, bias_type = _WEIGHT_AND_BIAS_TYPES[sequence.dtype]
    expected = {
        **{i: ((cells, sequence.shape[2]), weight_type) for i in INPUT_WEIGHTS},
        **{i: ((cells, cells), weight_type) for i in RECURRENT_WEIGHTS},
        **{i: ((cells,), bias_type) for i in BIASES},
    }
    for position, (shape, dtype) in expected.items():
        tensor = graph.tensors[inputs[position]]
        if tensor.shape != shape or tensor.dtype != dtype:
            raise UnsupportedOperatorError(op.label, f"LSTM input {position} must be {dtype} of shape {list(shape)}")
    if hidden.shape[0] != batches:
        raise UnsupportedOperatorError(op.label, f"the LSTM states have {hidden.shape[0]} rows for {batches} batches")
    shape = LstmParams(batches, time_steps, sequence.shape[2], cells, int(options.time_major))
    if not integer:
        return replace(shape, cell_clip=np.float32(options.cell_clip))
    return _integer(op, graph, inputs, shape, options)


def _integer(op: Operator, graph: Graph, inputs: list[int], shape: LstmParams, options) -> LstmParams:
    """TFLM's PrepareGateParametersInteger and CreateLstmCellStateInfo."""
    sequence, hidden, cell = (graph.tensors[inputs[i]] for i in (0, HIDDEN_STATE, CELL_STATE))
    if hidden.dtype != sequence.dtype or cell.dtype != DType.INT16:
        raise UnsupportedOperatorError(
            op.label, f"an {sequence.dtype} LSTM needs an {sequence.dtype} hidden state and an int16 cell state"
        )
    if sequence.dtype == DType.INT16 and (zero_point(sequence) or zero_point(hidden)):
        raise UnsupportedOperatorError(op.label, "a 16x8 LSTM's sequence and hidden state need zero point 0")
    weights = [graph.tensors[inputs[i]] for i in (*INPUT_WEIGHTS, *RECURRENT_WEIGHTS)]
    if any(w.quantization is None or w.quantization.scale.size != 1 for w in weights):
        raise UnsupportedOperatorError(op.label, "TFLM's integer LSTM takes per-tensor weight scales only")
    is_power, cell_power = checked_log2(single_scale(cell))
    if not is_power:
        raise UnsupportedOperatorError(op.label, "the LSTM's cell state scale must be a power of two")
    gate_input = 2.0**-12  # Q3.12 into the logistic and tanh
    gate_output = 2.0**-15  # their Q0.15 results
    pairs = [quantize_multiplier(single_scale(sequence) * single_scale(w) / gate_input) for w in weights[:4]]
    pairs += [quantize_multiplier(single_scale(hidden) * single_scale(w) / gate_input) for w in weights[4:]]
    cell_scale, hidden_scale = single_scale(cell), single_scale(hidden)
    forget = quantize_multiplier(gate_output * cell_scale / cell_scale)
    input_ = quantize_multiplier(gate_output * gate_output / cell_scale)
    output = quantize_multiplier(gate_output * gate_output / hidden_scale)
    clip = int(min(max(float(np.float32(options.cell_clip)) / cell_scale, -32768.0), 32767.0))  # C's cast truncates
    return replace(
        shape,
        input_zero_point=zero_point(sequence),
        hidden_zero_point=zero_point(hidden),
        input_multipliers=tuple(p[0] for p in pairs[:4]),
        input_shifts=tuple(p[1] for p in pairs[:4]),
        recurrent_multipliers=tuple(p[0] for p in pairs[4:]),
        recurrent_shifts=tuple(p[1] for p in pairs[4:]),
        forget_multiplier=forget[0],
        forget_shift=forget[1],
        input_multiplier=input_[0],
        input_shift=input_[1],
        output_multiplier=output[0],
        output_shift=output[1],
        cell_scale_power=cell_power,
        quantized_cell_clip=clip,
    )


def tflm_scratch_bytes(op: Operator, graph: Graph) -> list[int]:
    """TFLM's four gate buffers, each a batch of states in the cell state's type."""
    hidden, cell = graph.tensors[op.inputs[HIDDEN_STATE]], graph.tensors[op.inputs[CELL_STATE]]
    return [hidden.shape[0] * hidden.shape[1] * cell.dtype.itemsize] * 4
