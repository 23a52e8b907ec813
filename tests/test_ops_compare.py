"""MAXIMUM, MINIMUM, the comparisons, LOGICAL_AND/OR/NOT and SELECT_V2 against TFLite Micro."""

from __future__ import annotations

import numpy as np
import pytest

from mcudeploy.engine.interpreter import run
from mcudeploy.errors import UnsupportedOperatorError
from mcudeploy.ir import GraphBuilder
from single_op import assert_matches_tflm

SHAPE_PAIRS = [((2, 3, 4), (2, 3, 4)), ((1, 4, 5, 3), (3,)), ((4, 1, 5), (1, 6, 1))]
COMPARISONS = ["EQUAL", "NOT_EQUAL", "LESS", "LESS_EQUAL", "GREATER", "GREATER_EQUAL"]


def _quant(dtype, scale, zero_point):
    return {"scale": scale, "zero_point": zero_point} if dtype in ("int8", "int16") else {}


def _binary(op_type, shapes, dtype, out_dtype, quants):
    b = GraphBuilder(op_type.lower())
    first = b.tensor(shapes[0], dtype, **quants[0])
    second = b.tensor(shapes[1], dtype, **quants[1])
    output = b.tensor(np.broadcast_shapes(*shapes), out_dtype, **quants[2])
    b.op(op_type, [first, second], [output])
    return b.build([first, second], [output])


@pytest.mark.parametrize("op_type", ["MAXIMUM", "MINIMUM"])
@pytest.mark.parametrize("dtype", ["int8", "int16", "int32", "int64", "float32"])
@pytest.mark.parametrize("shapes", SHAPE_PAIRS)
def test_maximum_minimum(op_type, dtype, shapes):
    quant = _quant(dtype, 0.05, 0 if dtype == "int16" else -3)
    assert_matches_tflm(_binary(op_type, shapes, dtype, dtype, [quant] * 3))


@pytest.mark.parametrize("op_type", COMPARISONS)
@pytest.mark.parametrize("dtype", ["int8", "int32", "int64", "float32"])
def test_comparisons(op_type, dtype):
    quants = [_quant(dtype, 0.05, -3), _quant(dtype, 0.02, 7), {}]
    for seed, shapes in enumerate(SHAPE_PAIRS):
        assert_matches_tflm(_binary(op_type, shapes, dtype, "bool", quants), seed=seed)


EVERY_PAIR = [array.astype(np.int8) for array in np.meshgrid(np.arange(-128, 128), np.arange(-128, 128))]


@pytest.mark.parametrize("op_type", ["EQUAL", "LESS"])
@pytest.mark.parametrize(
    ("scales", "zero_points"), [((0.05, 0.02), (-3, 7)), ((0.1, 0.1), (0, 0)), ((0.3, 0.9), (127, -128))]
)
def test_int8_comparison_of_every_pair(op_type, scales, zero_points):
    quants = [_quant("int8", s, z) for s, z in zip(scales, zero_points, strict=True)] + [{}]
    assert_matches_tflm(_binary(op_type, (EVERY_PAIR[0].shape,) * 2, "int8", "bool", quants), inputs=EVERY_PAIR)


@pytest.mark.parametrize("op_type", ["EQUAL", "NOT_EQUAL", "LOGICAL_AND", "LOGICAL_OR"])
def test_bool_binary(op_type):
    assert_matches_tflm(_binary(op_type, SHAPE_PAIRS[2], "bool", "bool", [{}] * 3))


def test_logical_not():
    b = GraphBuilder("not")
    x, y = b.tensor((3, 5), "bool"), b.tensor((3, 5), "bool")
    b.op("LOGICAL_NOT", [x], [y])
    assert_matches_tflm(b.build([x], [y]))


@pytest.mark.parametrize("dtype", ["int8", "int16", "float32"])
@pytest.mark.parametrize("shapes", [((2, 3, 4),) * 3, ((2, 1, 4), (3, 1), (1, 1, 4))])
def test_select_v2(dtype, shapes):
    b = GraphBuilder("select")
    quant = _quant(dtype, 0.1, 0 if dtype == "int16" else 4)
    condition = b.tensor(shapes[0], "bool")
    x, y = b.tensor(shapes[1], dtype, **quant), b.tensor(shapes[2], dtype, **quant)
    output = b.tensor(np.broadcast_shapes(*shapes), dtype, **quant)
    b.op("SELECT_V2", [condition, x, y], [output])
    assert_matches_tflm(b.build([condition, x, y], [output]))


def test_int16_ordered_comparison_is_refused():
    graph = _binary("LESS", ((3,), (3,)), "int16", "bool", [_quant("int16", 0.01, 0)] * 2 + [{}])
    with pytest.raises(UnsupportedOperatorError, match="not supported by TFLite Micro"):
        run(graph, [np.zeros(3, np.int16)] * 2)
