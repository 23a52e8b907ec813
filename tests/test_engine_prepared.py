"""The prepared engine: set up once, run many times, and every tensor as a fresh run computes it.

Kernels keep what they derive from an operator's constants (TFLite Micro's Prepare). These
tests check that nothing that depends on one run is kept: an Engine reused on new inputs, or
on a filter and bias that are model inputs, gives what the TFLM-checked paths give.
"""

from __future__ import annotations

import numpy as np
import pytest

from conftest import FLOAT_MODELS, INT8_MODELS, MODELS
from mcudeploy.engine import Engine, RunResult, run
from mcudeploy.importers import load_model
from mcudeploy.inputs import random_inputs
from mcudeploy.ir import GraphBuilder, Padding
from mcudeploy.ir.options import Conv2DOptions, DepthwiseConv2DOptions, FullyConnectedOptions


def _assert_same_tensors(ours: RunResult, expected: RunResult) -> None:
    assert ours.tensors.keys() == expected.tensors.keys()
    for index, value in expected.tensors.items():
        np.testing.assert_array_equal(ours.tensors[index].view(np.uint8), value.view(np.uint8), err_msg=f"{index}")


@pytest.mark.parametrize("model", INT8_MODELS + FLOAT_MODELS)
def test_a_reused_engine_computes_what_a_fresh_one_does_on_other_inputs(model):
    """The reused engine has run on other inputs before each comparison, and those inputs give other
    tensors: a value kept from an earlier run would show."""
    graph = load_model(MODELS / model)
    engine = Engine(graph)
    previous = engine.run(random_inputs(graph, 0))
    for seed in (1, 2):
        inputs = random_inputs(graph, seed)
        reused = engine.run(inputs)
        differs = [i for i, value in reused.tensors.items() if not np.array_equal(value, previous.tensors[i])]
        assert len(differs) > len(graph.inputs), "other inputs must change the intermediate tensors"
        _assert_same_tensors(reused, Engine(graph).run(inputs))
        previous = reused


# Weights and bias of one operator, as (filter shape, bias length, options).
LAYERS = {
    "FULLY_CONNECTED": ((6, 20), 6, FullyConnectedOptions()),
    "CONV_2D": ((5, 3, 3, 4), 5, Conv2DOptions(padding=Padding.SAME, stride_h=2)),
    "DEPTHWISE_CONV_2D": ((1, 3, 3, 8), 8, DepthwiseConv2DOptions(padding=Padding.SAME, depth_multiplier=2)),
}
INPUT_SHAPES = {"FULLY_CONNECTED": (2, 20), "CONV_2D": (1, 7, 6, 4), "DEPTHWISE_CONV_2D": (1, 7, 6, 4)}
OUTPUT_SHAPES = {"FULLY_CONNECTED": (2, 6), "CONV_2D": (1, 4, 6, 5), "DEPTHWISE_CONV_2D": (1, 7, 6, 8)}


def _layer(op_type: str, weights: np.ndarray | None, bias: np.ndarray | None):
    """An int8 layer whose weights and bias are constants when given, else graph inputs."""
    filter_shape, units, options = LAYERS[op_type]
    channel_axis = 3 if op_type == "DEPTHWISE_CONV_2D" else 0
    b = GraphBuilder(op_type.lower())
    x = b.tensor(INPUT_SHAPES[op_type], "int8", scale=0.05, zero_point=-7)
    w = b.tensor(filter_shape, "int8", scale=[0.01 + 0.001 * i for i in range(units)], axis=channel_axis, data=weights)
    c = b.tensor([units], "int32", scale=[0.0005] * units, axis=0, data=bias)
    y = b.tensor(OUTPUT_SHAPES[op_type], "int8", scale=0.2, zero_point=3)
    b.op(op_type, [x, w, c], [y], options)
    return b.build([x] + [t for t, given in ((w, weights), (c, bias)) if given is None], [y])


@pytest.mark.parametrize("op_type", sorted(LAYERS))
def test_weights_given_at_run_time_are_prepared_on_every_run(op_type):
    rng = np.random.default_rng(0)
    engine = Engine(_layer(op_type, None, None))
    filter_shape, units, _ = LAYERS[op_type]
    for _ in range(3):
        x = rng.integers(-128, 128, INPUT_SHAPES[op_type]).astype(np.int8)
        weights = rng.integers(-127, 128, filter_shape).astype(np.int8)
        bias = rng.integers(-5000, 5000, units).astype(np.int32)
        ours = engine.run([x, weights, bias]).outputs[0]
        np.testing.assert_array_equal(ours, run(_layer(op_type, weights, bias), [x]).outputs[0])
