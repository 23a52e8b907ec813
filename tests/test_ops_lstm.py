"""UNIDIRECTIONAL_SEQUENCE_LSTM against TFLite Micro over several invocations (its hidden and cell
states carry over): float32, int8 and 16x8 int16 with an int16 cell state, batch-major and
time-major, with and without cell clip."""

from __future__ import annotations

import numpy as np
import pytest

from mcudeploy.analysis.costs import layer_macs
from mcudeploy.errors import UnsupportedOperatorError
from mcudeploy.importers.tflite.reader import read_tflite
from mcudeploy.importers.tflite.writer import write_tflite
from mcudeploy.ir import NO_TENSOR, DType, GraphBuilder
from mcudeploy.ir.options import SequenceLSTMOptions
from mcudeploy.memory import plan_memory
from mcudeploy.memory.planners.tflm import live_tflm_heads
from mcudeploy.params.lstm import prepare
from single_op import assert_matches_tflm

INVOCATIONS = 3


def lstm_graph(batches=2, time_steps=4, input_size=5, cells=3, time_major=False, cell_clip=0.0, seed=0):
    rng = np.random.default_rng(seed)
    b = GraphBuilder("lstm")
    sequence_shape = (time_steps, batches, input_size) if time_major else (batches, time_steps, input_size)
    x = b.tensor(sequence_shape, "float32", name="sequence")
    inputs = [x, *[NO_TENSOR] * 23]
    for position in (1, 2, 3, 4):
        inputs[position] = b.tensor((cells, input_size), "float32", data=rng.standard_normal((cells, input_size)))
    for position in (5, 6, 7, 8):
        inputs[position] = b.tensor((cells, cells), "float32", data=rng.standard_normal((cells, cells)) * 0.5)
    for position in (12, 13, 14, 15):
        inputs[position] = b.tensor((cells,), "float32", data=rng.standard_normal(cells))
    inputs[18] = b.tensor((batches, cells), "float32", is_variable=True, name="hidden")
    inputs[19] = b.tensor((batches, cells), "float32", is_variable=True, name="cell")
    y = b.tensor((*sequence_shape[:2], cells), "float32", name="output")
    b.op("UNIDIRECTIONAL_SEQUENCE_LSTM", inputs, [y], SequenceLSTMOptions(time_major=time_major, cell_clip=cell_clip))
    return b.build([x], [y])


@pytest.mark.parametrize(
    "shape",
    [
        {"batches": 2, "time_steps": 4, "input_size": 5, "cells": 3},
        {"batches": 1, "time_steps": 10, "input_size": 8, "cells": 12, "cell_clip": 1.5},
        {"batches": 3, "time_steps": 2, "input_size": 4, "cells": 6, "time_major": True},
    ],
)
def test_float_matches_tflm(shape):
    assert_matches_tflm(lstm_graph(**shape), seed=2, invocations=INVOCATIONS)


def test_tflm_planner_models_the_four_gate_buffers_and_ours_needs_fewer(tmp_path):
    graphs = [lstm_graph(), lstm_graph(batches=3, time_steps=2, input_size=4, cells=6, time_major=True)]
    graphs += [int8_lstm_graph(batches=3, cells=5), int8_lstm_graph(batches=2, cells=7, activations="int16")]
    paths = [tmp_path / f"lstm_{n}.tflite" for n in range(len(graphs))]
    for path, graph in zip(paths, graphs, strict=True):
        path.write_bytes(write_tflite(graph))
    replicas = [plan_memory(read_tflite(path), "tflm").arena_bytes for path in paths]
    assert replicas == live_tflm_heads(paths)
    assert all(plan_memory(g).arena_bytes <= r for g, r in zip(graphs, replicas, strict=True))


def int8_lstm_graph(
    batches=2, time_steps=3, input_size=5, cells=4, time_major=False, cell_clip=0.0, seed=0, activations="int8"
):
    """The 8x8_16 scheme: int8 sequence, weights and hidden state, int16 cell state of scale 2^-11;
    with int16 `activations`, the 16x8 one: int16 sequence and hidden state (zero points 0), int64
    biases."""
    rng = np.random.default_rng(seed)
    wide = activations == "int16"
    b = GraphBuilder(f"lstm_{activations}")
    sequence_shape = (time_steps, batches, input_size) if time_major else (batches, time_steps, input_size)
    sequence_quant = {"scale": 1e-4, "zero_point": 0}
    if not wide:
        sequence_quant = {"scale": 0.03, "zero_point": int(rng.integers(-20, 20))}
    x = b.tensor(sequence_shape, activations, name="sequence", **sequence_quant)
    inputs = [x, *[NO_TENSOR] * 23]
    for position in (1, 2, 3, 4, 5, 6, 7, 8):
        depth = input_size if position <= 4 else cells
        scale = float(10 ** rng.uniform(-2.5, -1.5))
        inputs[position] = b.tensor((cells, depth), "int8", scale=scale, data=rng.integers(-127, 128, (cells, depth)))
    bias_type, bias_bound = ("int64", 2_000_000) if wide else ("int32", 5000)
    for position in (12, 13, 14, 15):
        data = rng.integers(-bias_bound, bias_bound, cells)
        inputs[position] = b.tensor((cells,), bias_type, scale=1e-4, data=data)
    hidden_quant = {"scale": 2**-15, "zero_point": 0}
    if not wide:
        hidden_quant = {"scale": 1 / 128, "zero_point": int(rng.integers(-5, 5))}
    inputs[18] = b.tensor((batches, cells), activations, is_variable=True, name="hidden", **hidden_quant)
    inputs[19] = b.tensor((batches, cells), "int16", scale=2**-11, is_variable=True, name="cell")
    y = b.tensor((*sequence_shape[:2], cells), activations, name="output", **hidden_quant)
    b.op("UNIDIRECTIONAL_SEQUENCE_LSTM", inputs, [y], SequenceLSTMOptions(time_major=time_major, cell_clip=cell_clip))
    return b.build([x], [y])


@pytest.mark.parametrize(
    "shape",
    [
        {"batches": 2, "time_steps": 3, "input_size": 5, "cells": 4},
        {"batches": 1, "time_steps": 8, "input_size": 10, "cells": 16, "cell_clip": 3.0},
        {"batches": 3, "time_steps": 2, "input_size": 4, "cells": 6, "time_major": True},
    ],
)
def test_int8_matches_tflm(shape):
    assert_matches_tflm(int8_lstm_graph(**shape, seed=3), seed=3, invocations=INVOCATIONS)


@pytest.mark.parametrize(
    "shape",
    [
        {"batches": 2, "time_steps": 3, "input_size": 5, "cells": 4},
        {"batches": 1, "time_steps": 8, "input_size": 10, "cells": 16, "cell_clip": 3.0},
        {"batches": 3, "time_steps": 2, "input_size": 4, "cells": 6, "time_major": True},
    ],
)
def test_int16_matches_tflm(shape):
    assert_matches_tflm(int8_lstm_graph(**shape, seed=4, activations="int16"), seed=4, invocations=INVOCATIONS)


def test_int16_lstm_with_a_zero_point_is_refused():
    """TFLite's int16 activations are symmetric; the C kernels' 16x8 products rely on it."""
    graph = int8_lstm_graph(activations="int16")
    graph.tensors[0].quantization.zero_point[:] = 3
    with pytest.raises(UnsupportedOperatorError, match="need zero point 0"):
        prepare(graph.operators[0], graph)


def test_uint8_lstm_is_refused_plainly():
    graph = lstm_graph()
    graph.tensors[0].dtype = DType.UINT8
    with pytest.raises(UnsupportedOperatorError, match="uint8 is not supported"):
        prepare(graph.operators[0], graph)


def test_macs_count_the_eight_weight_matrices_per_step():
    graph = lstm_graph(batches=2, time_steps=4, input_size=5, cells=3)
    assert layer_macs(graph, graph.operators[0]) == 2 * 4 * 4 * 3 * (5 + 3)
