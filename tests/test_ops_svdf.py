"""SVDF against TFLite Micro over several invocations (its variable state carries over): int8
input with int16 state and time weights (the converter's scheme), with int8 state, and float32."""

from __future__ import annotations

import numpy as np
import pytest

from mcudeploy.analysis.costs import layer_macs
from mcudeploy.engine.interpreter import Engine
from mcudeploy.errors import UnsupportedOperatorError
from mcudeploy.importers.tflite.reader import read_tflite
from mcudeploy.importers.tflite.writer import write_tflite
from mcudeploy.inputs import random_array
from mcudeploy.ir import NO_TENSOR, GraphBuilder
from mcudeploy.ir.options import Activation, SVDFOptions
from mcudeploy.memory import plan_memory
from mcudeploy.memory.planners.tflm import live_tflm_heads
from mcudeploy.validation.runner import Validator
from single_op import assert_matches_tflm

# (batches, input size, units, rank, memory)
SHAPES = [(1, 10, 4, 1, 5), (2, 7, 3, 2, 4), (1, 40, 16, 1, 10), (3, 5, 2, 3, 1)]
INVOCATIONS = 6


def svdf_graph(shape, state_dtype="int16", with_bias=True, float_model=False, activation=Activation.NONE, seed=0):
    """One SVDF layer; integer weights over their whole range, scales as the converter sets them
    (the bias at state scale times time-weight scale)."""
    rng = np.random.default_rng(seed)
    batches, input_size, units, rank, memory = shape
    filters = units * rank
    b = GraphBuilder("svdf")
    if float_model:
        x = b.tensor((batches, input_size), "float32", name="input")
        features = b.tensor((filters, input_size), "float32", data=rng.standard_normal((filters, input_size)) * 0.5)
        times = b.tensor((filters, memory), "float32", data=rng.standard_normal((filters, memory)) * 0.5)
        bias = b.tensor((units,), "float32", data=rng.standard_normal(units)) if with_bias else NO_TENSOR
        state = b.tensor((batches, filters * memory), "float32", is_variable=True, name="state")
        y = b.tensor((batches, units), "float32")
    else:
        state_scale, time_scale = float(10 ** rng.uniform(-3, -1)), float(10 ** rng.uniform(-5, -3))
        state_zero_point = int(rng.integers(-20, 20)) if state_dtype == "int8" else 0
        x = b.tensor(
            (batches, input_size),
            "int8",
            scale=float(10 ** rng.uniform(-2, -1)),
            zero_point=int(rng.integers(-30, 30)),
            name="input",
        )
        features = b.tensor(
            (filters, input_size),
            "int8",
            scale=float(10 ** rng.uniform(-3, -1.5)),
            data=rng.integers(-127, 128, (filters, input_size)),
        )
        info = np.iinfo(state_dtype)
        times = b.tensor(
            (filters, memory),
            state_dtype,
            scale=time_scale,
            data=rng.integers(info.min + 1, info.max + 1, (filters, memory)),
        )
        bias = (
            b.tensor((units,), "int32", scale=state_scale * time_scale, data=rng.integers(-(2**20), 2**20, units))
            if with_bias
            else NO_TENSOR
        )
        state = b.tensor(
            (batches, filters * memory),
            state_dtype,
            scale=state_scale,
            zero_point=state_zero_point,
            is_variable=True,
            name="state",
        )
        y = b.tensor(
            (batches, units), "int8", scale=float(10 ** rng.uniform(-2, 0)), zero_point=int(rng.integers(-10, 10))
        )
    b.op("SVDF", [x, features, times, bias, state], [y], SVDFOptions(rank=rank, activation=activation))
    return b.build([x], [y])


@pytest.mark.parametrize("case", range(len(SHAPES)))
@pytest.mark.parametrize("state_dtype", ["int16", "int8"])
def test_int8(case, state_dtype):
    assert_matches_tflm(svdf_graph(SHAPES[case], state_dtype, seed=case), seed=case, invocations=INVOCATIONS)


@pytest.mark.parametrize(("case", "activation"), [(0, Activation.NONE), (1, Activation.RELU), (2, Activation.RELU6)])
def test_float(case, activation):
    graph = svdf_graph(SHAPES[case], float_model=True, activation=activation, seed=case)
    assert_matches_tflm(graph, seed=case, invocations=INVOCATIONS)


def test_a_fresh_engine_starts_from_the_reset_state_and_an_engine_carries_it():
    graph = svdf_graph(SHAPES[0], "int8", seed=3)
    x = random_array(graph.graph_inputs[0], np.random.default_rng(0))
    engine = Engine(graph)
    first, second = engine.run([x]), engine.run([x])
    assert np.array_equal(Engine(graph).run([x]).outputs[0], first.outputs[0])
    assert not np.array_equal(first.tensors[4], second.tensors[4])  # the state moved on


def test_a_state_that_is_not_variable_is_refused():
    graph = svdf_graph(SHAPES[0])
    state = graph.tensors[4]
    state.is_variable = False
    graph.inputs = (*graph.inputs, state.index)
    rng = np.random.default_rng(0)
    with pytest.raises(UnsupportedOperatorError, match="variable activation-state"):
        Engine(graph).run([random_array(t, rng) for t in graph.graph_inputs])


def test_tflm_planner_models_svdf_scratch_and_ours_needs_none(tmp_path):
    """TFLM's SVDF asks for one int32 per filter (and per unit, integer kernels): its planner's
    replica places them as the live interpreter does; our kernel needs no scratch."""
    graphs = [
        svdf_graph(SHAPES[1], "int16"),
        svdf_graph(SHAPES[2], "int8", seed=2),
        svdf_graph(SHAPES[1], float_model=True),
    ]
    paths = []
    for number, graph in enumerate(graphs):
        paths.append(tmp_path / f"svdf_{number}.tflite")
        paths[-1].write_bytes(write_tflite(graph))
    replicas = [plan_memory(read_tflite(path), "tflm").arena_bytes for path in paths]
    assert replicas == live_tflm_heads(paths)
    for graph, replica in zip(graphs, replicas, strict=True):
        assert plan_memory(graph).arena_bytes <= replica


def test_macs_count_both_weight_matrices():
    graph = svdf_graph((2, 40, 16, 1, 10))
    assert layer_macs(graph, graph.operators[0]) == 2 * (16 * 40 + 16 * 10)


def test_validate_runs_each_input_from_the_reset_state(tmp_path):
    """validate runs every input in a fresh program: the engine's reference starts from reset too."""
    graph = svdf_graph(SHAPES[1], "int8", seed=5)
    validator = Validator(graph, workdir=tmp_path)
    rng = np.random.default_rng(0)
    result = validator.validate_target("host", [[random_array(graph.graph_inputs[0], rng)] for _ in range(3)])
    assert all(item.agrees for item in result.inputs)
