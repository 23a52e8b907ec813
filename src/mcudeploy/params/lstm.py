"""UNIDIRECTIONAL_SEQUENCE_LSTM: md_lstm_params, the shapes TFLite Micro's LSTM kernel runs.

Inputs as TFLite numbers them: 0 the sequence, 1-4 the input weights of the input, forget,
cell and output gates, 5-8 their recurrent weights, 12-15 their biases, 18 the hidden state
and 19 the cell state (variable tensors). TFLM has no peephole (9-11), projection (16-17) or
layer normalisation (20-23).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mcudeploy.errors import UnsupportedOperatorError
from mcudeploy.ir import NO_TENSOR, Activation, DType, Graph, Operator
from mcudeploy.ir.options import SequenceLSTMOptions
from mcudeploy.params.record import BESIDE_STRUCT

INPUT_WEIGHTS = (1, 2, 3, 4)
"""Input, forget, cell and output gate, in TFLite's order."""
RECURRENT_WEIGHTS = (5, 6, 7, 8)
BIASES = (12, 13, 14, 15)
HIDDEN_STATE = 18
CELL_STATE = 19
_ABSENT = (9, 10, 11, 16, 17, 20, 21, 22, 23)


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
    """|cell state| bound after each update, 0 for none."""


def prepare(op: Operator, graph: Graph) -> LstmParams:
    options = op.options or SequenceLSTMOptions()
    inputs = [*op.inputs, *[NO_TENSOR] * (24 - len(op.inputs))]
    if any(inputs[i] != NO_TENSOR for i in _ABSENT):
        raise UnsupportedOperatorError(op.label, "TFLite Micro's LSTM has no peephole, projection or layer norm")
    sequence, hidden, cell = (graph.tensors[inputs[i]] for i in (0, HIDDEN_STATE, CELL_STATE))
    if not (hidden.is_variable and cell.is_variable):
        raise UnsupportedOperatorError(op.label, "the LSTM's hidden and cell states must be variable tensors")
    if sequence.dtype != DType.FLOAT32:
        raise UnsupportedOperatorError(
            op.label, f"UNIDIRECTIONAL_SEQUENCE_LSTM of {sequence.dtype} is not supported yet"
        )
    if options.activation != Activation.TANH:
        raise UnsupportedOperatorError(op.label, f"an LSTM cell gate of {options.activation} is not in TFLite Micro")
    if len(sequence.shape) != 3 or len(hidden.shape) != 2 or cell.shape != hidden.shape:
        raise UnsupportedOperatorError(op.label, "the LSTM needs a 3-D sequence and 2-D states of one shape")
    time_steps, batches = sequence.shape[:2] if options.time_major else sequence.shape[1::-1]
    cells = hidden.shape[1]
    for position in (*INPUT_WEIGHTS, *RECURRENT_WEIGHTS, *BIASES):
        if inputs[position] == NO_TENSOR or not graph.tensors[inputs[position]].is_constant:
            raise UnsupportedOperatorError(op.label, f"LSTM input {position} must be a constant")
    expected = {
        **dict.fromkeys(INPUT_WEIGHTS, (cells, sequence.shape[2])),
        **dict.fromkeys(RECURRENT_WEIGHTS, (cells, cells)),
        **dict.fromkeys(BIASES, (cells,)),
    }
    for position, shape in expected.items():
        if graph.tensors[inputs[position]].shape != shape or graph.tensors[inputs[position]].dtype != DType.FLOAT32:
            raise UnsupportedOperatorError(op.label, f"LSTM input {position} must be float32 of shape {list(shape)}")
    if hidden.shape[0] != batches:
        raise UnsupportedOperatorError(op.label, f"the LSTM states have {hidden.shape[0]} rows for {batches} batches")
    return LstmParams(
        batches, time_steps, sequence.shape[2], cells, int(options.time_major), np.float32(options.cell_clip)
    )


def tflm_scratch_bytes(op: Operator, graph: Graph) -> list[int]:
    """TFLM's four gate buffers, each a batch of states in the cell state's type."""
    hidden, cell = graph.tensors[op.inputs[HIDDEN_STATE]], graph.tensors[op.inputs[CELL_STATE]]
    return [hidden.shape[0] * hidden.shape[1] * cell.dtype.itemsize] * 4
