"""DIV (int8, int32, float32), FLOOR_DIV and FLOOR_MOD (float32) against TFLite Micro: every int8 pair but
zero divisors (whose TFLM result is undefined), broadcasting, fused activations."""

from __future__ import annotations

import numpy as np
import pytest

from mcudeploy.engine.interpreter import Engine
from mcudeploy.ir import Activation, GraphBuilder
from mcudeploy.ir.options import ElementwiseOptions
from single_op import assert_matches_tflm


def _binary(op_type, first_shape, second_shape, dtype, quants=({}, {}, {}), activation=None):
    b = GraphBuilder(op_type.lower())
    first = b.tensor(first_shape, dtype, **quants[0])
    second = b.tensor(second_shape, dtype, **quants[1])
    output = b.tensor(np.broadcast_shapes(first_shape, second_shape), dtype, **quants[2])
    options = None if activation is None else ElementwiseOptions(activation=activation)
    b.op(op_type, [first, second], [output], options)
    return b.build([first, second], [output])


def _every_pair(divisor_zero_point: int) -> list[np.ndarray]:
    """Every int8 dividend with every int8 divisor, a zero divisor replaced by its neighbour."""
    first, second = (a.astype(np.int8) for a in np.meshgrid(np.arange(-128, 128), np.arange(-128, 128)))
    neighbour = divisor_zero_point + 1 if divisor_zero_point < 127 else divisor_zero_point - 1
    return [first, np.where(second == divisor_zero_point, neighbour, second).astype(np.int8)]


@pytest.mark.parametrize(
    ("scales", "zero_points", "activation"),
    [
        ((0.05, 0.02, 0.1), (3, -10, 0), Activation.NONE),
        ((0.5, 0.004, 2.0), (-128, 127, -5), Activation.RELU),
        ((0.01, 0.3, 0.001), (0, 0, 20), Activation.RELU6),
    ],
)
def test_int8_div_every_pair(scales, zero_points, activation):
    quants = [{"scale": s, "zero_point": z} for s, z in zip(scales, zero_points, strict=True)]
    graph = _binary("DIV", (256, 256), (256, 256), "int8", quants, activation)
    assert_matches_tflm(graph, inputs=_every_pair(zero_points[1]))


def test_int8_div_broadcast_and_zero_divisor():
    quants = [{"scale": 0.05, "zero_point": 2}, {"scale": 0.1, "zero_point": -3}, {"scale": 0.2, "zero_point": 1}]
    graph = _binary("DIV", (2, 3, 4), (4,), "int8", quants)
    dividends = np.array([[[5, -7, 1, 2]] * 3] * 2, dtype=np.int8)
    assert_matches_tflm(graph, inputs=[dividends, np.array([4, -9, 100, 1], dtype=np.int8)])
    zero = Engine(graph).run([dividends, np.array([-3, -3, -3, -3], dtype=np.int8)]).outputs[0]
    assert (zero[0, 0] == [127, -128, -128, 1]).all()  # dividend sign's extreme; 0 / 0 the zero point


@pytest.mark.parametrize("activation", [Activation.NONE, Activation.RELU])
def test_int32_div(activation):
    """C's truncating division of int32 values, clamped by the fused activation."""
    graph = _binary("DIV", (3, 4), (4,), "int32", activation=activation)
    rng = np.random.default_rng(1)
    dividends = rng.integers(-(2**31), 2**31, (3, 4), dtype=np.int64).astype(np.int32)
    dividends[0] = [7, -7, 7, -2**31]
    assert_matches_tflm(graph, inputs=[dividends, np.array([2, 3, -2, 7], dtype=np.int32)])


@pytest.mark.parametrize("op_type", ["DIV", "FLOOR_DIV", "FLOOR_MOD"])
@pytest.mark.parametrize(("first", "second"), [((2, 3, 4), (2, 3, 4)), ((4, 1, 5), (1, 6, 1)), ((3, 5), (1,))])
def test_float(op_type, first, second):
    activation = Activation.RELU6 if op_type == "DIV" else None
    assert_matches_tflm(_binary(op_type, first, second, "float32", activation=activation), float_exact=True)
