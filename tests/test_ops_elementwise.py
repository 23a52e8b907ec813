"""ADD, SUB and MUL against TFLite Micro: int8, int16, int32 and float32, every fused
activation, broadcasting shapes, and the quantization of the real models' ADD layers."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import MODELS
from mcudeploy.engine.interpreter import run
from mcudeploy.errors import UnsupportedOperatorError
from mcudeploy.importers.tflite.reader import read_tflite
from mcudeploy.ir import Activation, GraphBuilder
from mcudeploy.ir.options import ElementwiseOptions
from single_op import assert_matches_tflm

SHAPE_PAIRS = [
    ((2, 3, 4, 5), (2, 3, 4, 5)),
    ((1, 8, 8, 3), (3,)),
    ((4, 1, 5), (1, 6, 1)),
    ((2, 1, 3, 1), (1, 4, 1, 5)),
    ((5,), (1,)),
    ((1,), (2, 7)),
    ((3, 4), (2, 3, 4)),
    ((1, 2, 3, 4, 5), (2, 1, 4, 1)),
]
ACTIVATIONS = [Activation.NONE, Activation.RELU, Activation.RELU6, Activation.RELU_N1_TO_1]


def _binary(op_type, first_shape, second_shape, dtype, quants, activation=Activation.NONE, output_shape=None):
    b = GraphBuilder(op_type.lower())
    first = b.tensor(first_shape, dtype, **quants[0])
    second = b.tensor(second_shape, dtype, **quants[1])
    output = b.tensor(output_shape or np.broadcast_shapes(first_shape, second_shape), dtype, **quants[2])
    b.op(op_type, [first, second], [output], ElementwiseOptions(activation=activation))
    return b.build([first, second], [output])


def _random_quants(dtype, rng):
    if dtype == "int8":
        return [
            {"scale": float(10 ** rng.uniform(-3, 0)), "zero_point": int(rng.integers(-128, 128))} for _ in range(3)
        ]
    if dtype == "int16":
        return [{"scale": float(10 ** rng.uniform(-4, -2)), "zero_point": 0} for _ in range(3)]
    return [{}, {}, {}]


@pytest.mark.parametrize("op_type", ["ADD", "SUB", "MUL"])
@pytest.mark.parametrize("dtype", ["int8", "int16", "int32", "float32"])
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("shapes", range(len(SHAPE_PAIRS)))
def test_matches_tflm(op_type, dtype, activation, shapes):
    rng = np.random.default_rng([shapes, ACTIVATIONS.index(activation), len(op_type), len(dtype)])
    graph = _binary(op_type, *SHAPE_PAIRS[shapes], dtype, _random_quants(dtype, rng), activation)
    assert_matches_tflm(graph, seed=shapes)


EVERY_PAIR = [array.astype(np.int8) for array in np.meshgrid(np.arange(-128, 128), np.arange(-128, 128))]


@pytest.mark.parametrize(
    ("op_type", "scales", "zero_points"),
    [
        # float32 and double derivations of the multipliers differ here (TFLM uses double).
        ("SUB", (0.09758763015270233, 0.0020726004149764776, 0.07639091461896896), (20, 18, 10)),
        ("SUB", (0.002510637743398547, 0.31498008966445923, 0.11498978734016418), (-51, 123, -125)),
        ("ADD", (0.5, 0.5, 1.0), (-128, 127, 0)),
        ("MUL", (0.02, 0.9, 0.001), (3, -128, 127)),
    ],
)
def test_int8_every_pair_of_values(op_type, scales, zero_points):
    quants = [{"scale": s, "zero_point": z} for s, z in zip(scales, zero_points, strict=True)]
    graph = _binary(op_type, EVERY_PAIR[0].shape, EVERY_PAIR[1].shape, "int8", quants)
    assert_matches_tflm(graph, inputs=EVERY_PAIR)


@pytest.mark.parametrize("model", ["mlperf_tiny/ic_resnet8_int8.tflite", "tflm/simple_add_model.tflite"])
def test_quantization_of_real_models(model):
    """Each ADD of the real models as a single operator, with its shapes, quantization and activation."""
    graph = read_tflite(MODELS / model)
    adds = [op for op in graph.operators if op.op_type == "ADD"]
    assert adds
    for op in adds:
        tensors = [graph.tensors[i] for i in (*op.inputs, op.outputs[0])]
        quants = [
            {"scale": t.quantization.single_scale, "zero_point": t.quantization.single_zero_point} for t in tensors
        ]
        single = _binary("ADD", tensors[0].shape, tensors[1].shape, "int8", quants, op.options.activation)
        for seed in range(3):
            assert_matches_tflm(single, seed=seed)


def test_refuses_what_tflm_refuses():
    int16_with_zero_point = [{"scale": 0.01, "zero_point": 1}] * 3
    checks = [
        (_binary("MUL", (4,), (4,), "int16", int16_with_zero_point), "zero points"),
        (_binary("ADD", (4,), (4,), "int8", _random_quants("int8", np.random.default_rng(0)), Activation.TANH), "tanh"),
        (_binary("ADD", (4,), (4,), "uint8", [{"scale": 0.1, "zero_point": 0}] * 3), "uint8"),
    ]
    for graph, reason in checks:
        with pytest.raises(UnsupportedOperatorError, match=reason):
            dtype = graph.tensors[0].dtype.numpy
            run(graph, [np.zeros(4, dtype), np.zeros(4, dtype)])


@pytest.mark.parametrize("dtype", ["int8", "int16", "int32", "float32"])
@pytest.mark.parametrize("shapes", [0, 1, 2])
def test_squared_difference(dtype, shapes):
    rng = np.random.default_rng([shapes, len(dtype)])
    b = GraphBuilder("squared difference")
    quants = _random_quants(dtype, rng)
    first, second = (b.tensor(shape, dtype, **quant) for shape, quant in zip(SHAPE_PAIRS[shapes], quants, strict=False))
    output = b.tensor(np.broadcast_shapes(*SHAPE_PAIRS[shapes]), dtype, **quants[2])
    b.op("SQUARED_DIFFERENCE", [first, second], [output])
    assert_matches_tflm(b.build([first, second], [output]), seed=shapes)


def test_int8_squared_difference_of_every_pair():
    b = GraphBuilder("squared difference")
    quants = [{"scale": 0.02, "zero_point": -7}, {"scale": 0.05, "zero_point": 100}, {"scale": 0.3, "zero_point": -128}]
    first, second, output = (b.tensor(EVERY_PAIR[0].shape, "int8", **quant) for quant in quants)
    b.op("SQUARED_DIFFERENCE", [first, second], [output])
    assert_matches_tflm(b.build([first, second], [output]), inputs=EVERY_PAIR)
