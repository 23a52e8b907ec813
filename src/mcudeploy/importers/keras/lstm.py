"""Keras LSTM layers → float UNIDIRECTIONAL_SEQUENCE_LSTM.

TensorFlow's converter fuses only Keras 2's LSTM; a Keras 3 LSTM becomes a WHILE loop over
TensorLists, whose output it cannot even size when return_sequences=True. So before converting,
each LSTM layer is swapped for a stand-in of the same output shape (a product with a matrix of
ones, then the last step without return_sequences) named after it; in the converted graph the
operators under that name are replaced by the LSTM, built from the layer's weights (Keras' gate
order i, f, c, o is TFLite's). Only what TFLite's LSTM computes is taken: tanh and sigmoid
activations, forward, one output. The states start from zero and, as TFLite keeps them in
variable tensors, carry from one invocation to the next (a Keras stateful LSTM's behaviour).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import keras
import numpy as np

from mcudeploy.errors import ModelError
from mcudeploy.ir import NO_TENSOR, DType, Graph, GraphBuilder
from mcudeploy.ir.options import (
    BIASES,
    CELL_STATE,
    HIDDEN_STATE,
    INPUT_WEIGHTS,
    RECURRENT_WEIGHTS,
    SequenceLSTMOptions,
    StridedSliceOptions,
)

STAND_IN_NAME = "mcudeploy_lstm_{}_of"
LSTM_INPUTS = 24
STAND_IN_OPERATORS = {"GATHER", "STRIDED_SLICE"}


@dataclass
class LstmLayer:
    """A swapped-out LSTM layer: its stand-in's name and its weights."""

    name: str
    stand_in: str
    kernel: np.ndarray
    """(features, 4 x units), gates i, f, c, o."""
    recurrent_kernel: np.ndarray
    bias: np.ndarray
    return_sequences: bool


class _StandIn(keras.layers.Layer):
    """One GATHER of features (a STRIDED_SLICE of the last step first without return_sequences),
    which the converter leaves as it is; its indices, a constant under the stand-in's name, differ
    from one stand-in to the next so that the converter does not share them."""

    def __init__(self, units: int, return_sequences: bool, number: int, **options) -> None:
        super().__init__(**options)
        self.units, self.return_sequences, self.number = units, return_sequences, number

    def call(self, sequence, mask=None, training=None, initial_state=None):
        indices = (np.arange(self.units, dtype=np.int32) + self.number) % sequence.shape[-1]
        return keras.ops.take(sequence if self.return_sequences else sequence[:, -1, :], indices, axis=-1)


def swap_lstms(model, subject: str):
    """(the model with each LSTM layer swapped for a stand-in, the swapped layers)."""
    swapped: list[LstmLayer] = []

    def swap(layer):
        if not isinstance(layer, keras.layers.LSTM):
            return layer
        _check(layer, subject)
        weights = [np.asarray(w, dtype=np.float32) for w in layer.get_weights()]
        bias = weights[2] if layer.use_bias else np.zeros(4 * layer.units, np.float32)
        stand_in = STAND_IN_NAME.format(len(swapped))
        swapped.append(LstmLayer(layer.name, stand_in, weights[0], weights[1], bias, layer.return_sequences))
        return _StandIn(layer.units, layer.return_sequences, len(swapped) - 1, name=stand_in)

    if not any(isinstance(layer, keras.layers.LSTM) for layer in model.layers):
        return model, swapped
    return keras.models.clone_model(model, clone_function=swap), swapped


def _check(layer, subject: str) -> None:
    refused = {
        "activation": (layer.activation.__name__ != "tanh", layer.activation.__name__),
        "recurrent_activation": (layer.recurrent_activation.__name__ != "sigmoid", layer.recurrent_activation.__name__),
        "go_backwards": (layer.go_backwards, "True (TFLite's LSTM runs forward)"),
        "return_state": (layer.return_state, "True (TFLite's LSTM gives the sequence only)"),
    }
    for option, (bad, value) in refused.items():
        if bad:
            raise ModelError(subject, f"LSTM layer '{layer.name}': {option}={value} is not supported")


def place_lstms(graph: Graph, swapped: list[LstmLayer], subject: str) -> Graph:
    """The converted graph with each stand-in's operators replaced by its LSTM."""
    if not swapped:
        return graph
    regions = _regions(graph, swapped, subject)
    last_ops = {ops[-1]: layer for layer, ops in zip(swapped, regions.values(), strict=True)}
    in_region = {op for ops in regions.values() for op in ops}
    builder, copies = GraphBuilder(graph.name, graph.description), {}

    def copy(index: int) -> int:
        if index == NO_TENSOR:
            return index
        if index not in copies:
            tensor = graph.tensors[index]
            copies[index] = builder.tensor(
                tensor.shape, tensor.dtype, data=tensor.data, name=tensor.name, is_variable=tensor.is_variable
            )
            builder.tensors[copies[index]].quantization = tensor.quantization
        return copies[index]

    for op in graph.operators:
        if op.index in last_ops:
            source, target = _ends(graph, regions[last_ops[op.index].stand_in], subject)
            _emit_lstm(builder, last_ops[op.index], copy(source), copy(target))
        elif op.index not in in_region:
            index = builder.op(
                op.op_type,
                [copy(i) for i in op.inputs],
                [copy(o) for o in op.outputs],
                op.options,
                custom=op.is_custom,
                version=op.version,
            )
            builder.operators[index].intermediates = tuple(copy(i) for i in op.intermediates)
    result = builder.build([copy(i) for i in graph.inputs], [copy(o) for o in graph.outputs], graph.other_subgraphs)
    result.source, result.metadata = graph.source, dict(graph.metadata)
    return result


def _regions(graph: Graph, swapped: list[LstmLayer], subject: str) -> dict[str, list[int]]:
    """Each stand-in's operators (by index, in order): those writing or reading a constant under its
    name scope (a graph output loses its name)."""
    pattern = re.compile(r"/(" + "|".join(layer.stand_in for layer in swapped) + r")(?:_\d+)?/")
    regions: dict[str, list[int]] = {layer.stand_in: [] for layer in swapped}
    for op in graph.operators:
        named = [*op.outputs] + [i for i in op.inputs if i != NO_TENSOR and graph.tensors[i].is_constant]
        for index in named:
            match = pattern.search(graph.tensors[index].name)
            if match:
                regions[match.group(1)].append(op.index)
                break
    for layer in swapped:
        if not regions[layer.stand_in]:
            raise ModelError(subject, f"LSTM layer '{layer.name}': not found in the converted graph")
    return regions


def _ends(graph: Graph, region: list[int], subject: str) -> tuple[int, int]:
    """The one computed tensor the region reads and the one it gives to the rest of the graph."""
    ops = [graph.operators[i] for i in region]
    if {op.op_type for op in ops} - STAND_IN_OPERATORS:
        raise ModelError(subject, "an LSTM layer's stand-in was merged with other operators by the converter")
    written = {o for op in ops for o in op.outputs}
    sources = {i for op in ops for i in op.inputs if i != NO_TENSOR and i not in written}
    sources = {i for i in sources if not graph.tensors[i].is_constant}
    outside = set(range(len(graph.operators))) - set(region)
    targets = {o for o in written if o in graph.outputs or any(c.index in outside for c in graph.consumers(o))}
    if len(sources) != 1 or len(targets) != 1 or len(graph.tensors[next(iter(sources))].shape) != 3:
        raise ModelError(subject, "an LSTM layer whose converted form reads or gives other than one sequence")
    return sources.pop(), targets.pop()


def _emit_lstm(builder: GraphBuilder, layer: LstmLayer, sequence: int, target: int) -> None:
    batch, steps, _ = builder.tensors[sequence].shape
    units = layer.recurrent_kernel.shape[0]
    inputs = [NO_TENSOR] * LSTM_INPUTS
    inputs[0] = sequence
    gates = zip(INPUT_WEIGHTS, RECURRENT_WEIGHTS, BIASES, "ifco", strict=True)
    for k, (w, r, b, gate) in enumerate(gates):
        columns = slice(k * units, (k + 1) * units)
        inputs[w] = builder.tensor(
            (units, layer.kernel.shape[0]),
            DType.FLOAT32,
            data=layer.kernel[:, columns].T,
            name=f"{layer.name}/kernel_{gate}",
        )
        inputs[r] = builder.tensor(
            (units, units),
            DType.FLOAT32,
            data=layer.recurrent_kernel[:, columns].T,
            name=f"{layer.name}/recurrent_kernel_{gate}",
        )
        inputs[b] = builder.tensor((units,), DType.FLOAT32, data=layer.bias[columns], name=f"{layer.name}/bias_{gate}")
    for position, state in ((HIDDEN_STATE, "hidden"), (CELL_STATE, "cell")):
        inputs[position] = builder.tensor((batch, units), DType.FLOAT32, is_variable=True, name=f"{layer.name}/{state}")
    output = (
        target
        if layer.return_sequences
        else builder.tensor((batch, steps, units), DType.FLOAT32, name=f"{layer.name}/sequence")
    )
    builder.op("UNIDIRECTIONAL_SEQUENCE_LSTM", inputs, [output], SequenceLSTMOptions())
    if not layer.return_sequences:  # the last step, its time axis dropped
        bounds = [np.array(v, np.int32) for v in ([0, steps - 1, 0], [batch, steps, units], [1, 1, 1])]
        bounds = [builder.tensor((3,), DType.INT32, data=v) for v in bounds]
        builder.op("STRIDED_SLICE", [output, *bounds], [target], StridedSliceOptions(shrink_axis_mask=2))
